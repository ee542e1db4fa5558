"""The /rest route: one handler for every Subsonic method, GET or POST (formPost), with or without `.view`."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from litestar import Request, route
from litestar.exceptions import HTTPException
from litestar.types import ASGIApp

from musicd.errors import AuthError, ForbiddenError, MusicdError, NotFoundError, ValidationError
from musicd.http.errors import storage_failure
from musicd.http.subsonic import (  # noqa: F401  (each module registers its endpoints on import)
    annotation,
    bookmarks,
    browsing,
    info,
    jukebox,
    lists,
    lyrics,
    media,
    playlists,
    podcasts,
    scan,
    searching,
    sharing,
    system,
    unsupported,
    users,
)
from musicd.http.subsonic.auth import authenticate, check_version
from musicd.http.subsonic.context import ENDPOINTS, Ctx
from musicd.http.subsonic.envelope import (
    ERR_GENERIC,
    ERR_MISSING,
    ERR_NOT_FOUND,
    ERR_UNAUTHORIZED,
    ERR_WRONG_CREDENTIALS,
    SubsonicError,
    render,
    render_error,
)
from musicd.logs import get_logger

__all__ = ["subsonic_route"]

log = get_logger("musicd.subsonic")

_LOWER = {name.lower(): ep for name, ep in ENDPOINTS.items()}
_FORM = "application/x-www-form-urlencoded"


def _add(params: dict[str, list[str]], encoded: str) -> None:
    for k, v in parse_qsl(encoded, keep_blank_values=True):
        params.setdefault(k, []).append(v)


async def _add_form(request: Request[Any, Any, Any], params: dict[str, list[str]]) -> None:
    """formPost: the parameters of a POST may come in an urlencoded body too."""
    if request.method == "POST" and request.headers.get("content-type", "").startswith(_FORM):
        _add(params, (await request.body()).decode("utf-8", "replace"))


def _code(exc: MusicdError) -> int:
    """The Subsonic error code of a domain error (anything else is the generic 0)."""
    if isinstance(exc, NotFoundError):
        return ERR_NOT_FOUND
    if isinstance(exc, ValidationError) and exc.code == "missing_parameter":
        return ERR_MISSING
    if isinstance(exc, ForbiddenError):
        return ERR_UNAUTHORIZED
    if isinstance(exc, AuthError):
        return ERR_WRONG_CREDENTIALS
    return ERR_GENERIC


@route("/rest/{method:str}", http_method=["GET", "POST", "HEAD"], status_code=200, include_in_schema=False)
async def subsonic_route(request: Request[Any, Any, Any], method: str) -> ASGIApp:
    """Parse, authenticate, dispatch; every failure is answered with the Subsonic error envelope."""
    params: dict[str, list[str]] = {}
    _add(params, request.scope["query_string"].decode("utf-8", "replace"))
    ctx = Ctx(request, request.app.state.services, params)
    name = method[:-5] if method.endswith(".view") else method
    ep = ENDPOINTS.get(name) or _LOWER.get(name.lower())
    try:
        await _add_form(request, params)
        ctx.read_format()
        if ep is None:
            raise SubsonicError(ERR_NOT_FOUND, f"unknown Subsonic method: {name}")
        check_version(ctx.opt("v"))
        if ep.auth:
            ctx.user = await authenticate(ctx)
        reply = await ep.fn(ctx)
    except SubsonicError as e:
        return render_error(e.code, e.message, ctx.fmt, ctx.callback)
    except MusicdError as e:
        return render_error(_code(e), e.message, ctx.fmt, ctx.callback)
    except HTTPException as e:  # a body over the size limit, say
        return render_error(ERR_GENERIC, str(e.detail), ctx.fmt, ctx.callback)
    except Exception as e:
        if (err := storage_failure(request, e)) is not None:  # a full disk, a damaged database
            return render_error(ERR_GENERIC, err.message, ctx.fmt, ctx.callback)
        log.error("subsonic.unhandled", method=name, error=repr(e), exc_info=True)
        return render_error(ERR_GENERIC, "internal server error", ctx.fmt, ctx.callback)
    if reply is None or isinstance(reply, dict):
        return render(reply, ctx.fmt, ctx.callback)
    return reply
