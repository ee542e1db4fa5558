"""Subsonic authentication of one call: which credentials were sent, checked by the SubsonicAuthService."""

from __future__ import annotations

from musicd.domain.models import User
from musicd.domain.numbers import parse_digits
from musicd.errors import AuthError, ForbiddenError, RateLimitError
from musicd.http.subsonic.context import Ctx
from musicd.http.subsonic.envelope import (
    API_VERSION,
    ERR_API_KEY,
    ERR_CLIENT_TOO_OLD,
    ERR_CONFLICTING_AUTH,
    ERR_MISSING,
    ERR_SERVER_TOO_OLD,
    ERR_UNAUTHORIZED,
    ERR_WRONG_CREDENTIALS,
    SubsonicError,
)

__all__ = ["authenticate", "check_version"]

_SERVER_MAJOR = int(API_VERSION.split(".")[0])


def check_version(v: str | None) -> None:
    """Error 20 or 30 when the client speaks another major version of the protocol."""
    if not v:
        return
    major = parse_digits(v.split(".", 1)[0], cap=1_000)
    if major is None:
        return
    what = f"incompatible Subsonic REST protocol version {v[:32]}"  # never echo a hostile kilobyte
    if major < _SERVER_MAJOR:
        raise SubsonicError(ERR_CLIENT_TOO_OLD, f"{what}: client must upgrade")
    if major > _SERVER_MAJOR:
        raise SubsonicError(ERR_SERVER_TOO_OLD, f"{what}: server must upgrade")


async def authenticate(ctx: Ctx) -> User:
    """The user these credentials belong to; a SubsonicError with the spec's code otherwise."""
    p = ctx.params
    auth = ctx.services.subsonic_auth
    api_key = p.get("apiKey")
    try:
        if api_key:
            if "u" in p:
                raise SubsonicError(ERR_CONFLICTING_AUTH, "multiple conflicting authentication mechanisms provided")
            return await auth.by_api_key(api_key[-1], ctx.client)
        username = ctx.opt("u")
        if not username:
            raise SubsonicError(ERR_MISSING, "required parameter is missing: u")
        token, salt, password = ctx.opt("t"), ctx.opt("s"), ctx.opt("p")
        if token is not None and password is not None:
            raise SubsonicError(ERR_CONFLICTING_AUTH, "multiple conflicting authentication mechanisms provided")
        if token is not None:
            if salt is None:
                raise SubsonicError(ERR_MISSING, "required parameter is missing: s")
            return await auth.by_token(username, token, salt, ctx.client)
        if password is not None:
            return await auth.by_password(username, password, ctx.client)
        raise SubsonicError(ERR_MISSING, "required parameter is missing: p, t+s or apiKey")
    except AuthError as e:
        if e.code == "invalid_api_key":
            raise SubsonicError(ERR_API_KEY, "invalid API key") from None
        raise SubsonicError(ERR_WRONG_CREDENTIALS, "wrong username or password") from None
    except RateLimitError as e:
        # Clients read 40 as "ask the user for the password again", which is the right reaction.
        raise SubsonicError(ERR_WRONG_CREDENTIALS, e.message) from None
    except ForbiddenError as e:
        raise SubsonicError(ERR_UNAUTHORIZED, e.message) from None
