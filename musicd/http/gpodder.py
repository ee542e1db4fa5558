"""A gPodder.net API v2 subset (and the simple API's subscription lists), so podcast apps that sync with a
gPodder server keep subscriptions and positions in step with musicd.

Authentication is HTTP Basic with the musicd username and password (a wrong one counts towards the
same lockout as Subsonic's), or the `sessionid` cookie the login endpoint sets. A 401 carries a Basic
challenge, which the clients' HTTP libraries need before they send credentials. The username in a URL
must be the caller's own. Errors are musicd's JSON error body.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post, put
from litestar.status_codes import HTTP_200_OK

from musicd.domain.models import User
from musicd.errors import AuthError, MusicdError, NotFoundError, ValidationError
from musicd.http.auth import client_address
from musicd.http.errors import error_response
from musicd.services.registry import Services

__all__ = ["GPODDER_ROUTES"]

_COOKIE = "sessionid"
_FORMATS = ("json", "opml", "txt")


def _error(_: Request[Any, Any, Any], exc: MusicdError) -> Response[dict[str, Any]]:
    headers = {"WWW-Authenticate": 'Basic realm="musicd gPodder"'} if isinstance(exc, AuthError) else None
    return error_response(exc.status, exc.code, exc.message, headers=headers)


def _split(segment: str, formats: tuple[str, ...] = ("json",)) -> tuple[str, str]:
    """`name.json` as ("name", "json"); a 404 for another suffix."""
    name, dot, fmt = segment.rpartition(".")
    if not dot or fmt not in formats or not name:
        raise NotFoundError(f"expected {segment!r} to end with .{' or .'.join(formats)}", code="not_found")
    return name, fmt


async def _user(request: Request[Any, Any, Any], services: Services, username: str) -> User:
    """The caller (session cookie or Basic credentials), who must be `username`."""
    user: User | None = None
    if token := request.cookies.get(_COOKIE):
        try:
            user = await services.gpodder.user_for_session(token)
        except AuthError:
            user = None
    if user is None:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            raise AuthError("log in with your musicd username and password (HTTP Basic)", code="no_credentials")
        try:
            name, _, password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise AuthError("malformed Basic credentials", code="bad_credentials") from None
        user = await services.subsonic_auth.by_password(name, password, client_address(request))
        # Like gpodder.net, answer a Basic login with the session cookie: clients (mygpoclient's urllib
        # handler gives up sending credentials after three challenges) go on with the cookie.
        request.state.gpodder_session = services.gpodder.session_token(user)
    services.gpodder.check_owner(user, username)
    return user


def _reply(request: Request[Any, Any, Any], content: Any, media_type: str = "application/json") -> Response[Any]:
    """The answer, with the session cookie when the caller logged in with Basic credentials."""
    response: Response[Any] = Response(content, media_type=media_type)
    token = getattr(request.state, "gpodder_session", None)
    if token:
        response.set_cookie(_COOKIE, token, httponly=True, samesite="lax", max_age=30 * 24 * 3600, path="/")
    return response


async def _json(request: Request[Any, Any, Any]) -> Any:
    raw = await request.body()
    try:
        return msgspec.json.decode(raw) if raw.strip() else None
    except msgspec.DecodeError:
        raise ValidationError("the body must be JSON", code="bad_body") from None


def _since(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        raise ValidationError("since must be a number (a timestamp this server returned)", code="bad_since") from None


class GpodderAuthController(Controller):
    path = "/api/2/auth"
    tags = ["gpodder"]
    include_in_schema = False
    exception_handlers = {MusicdError: _error}

    @post("/{username:str}/login.json", status_code=HTTP_200_OK)
    async def login(self, request: Request[Any, Any, Any], username: str, services: Services) -> Response[bytes]:
        user = await _user(request, services, username)
        request.state.gpodder_session = services.gpodder.session_token(user)
        return _reply(request, b"")

    @post("/{username:str}/logout.json", status_code=HTTP_200_OK)
    async def logout(self, request: Request[Any, Any, Any], username: str, services: Services) -> Response[bytes]:
        await _user(request, services, username)
        resp: Response[bytes] = Response(b"", media_type="application/json")
        resp.delete_cookie(_COOKIE, path="/")
        return resp


class GpodderController(Controller):
    path = "/api/2"
    tags = ["gpodder"]
    include_in_schema = False
    exception_handlers = {MusicdError: _error}

    @get("/devices/{username:str}")
    async def devices(self, request: Request[Any, Any, Any], username: str, services: Services) -> Response[Any]:
        name, _ = _split(username)
        return _reply(request, await services.gpodder.devices(await _user(request, services, name)))

    @post("/devices/{username:str}/{device:str}", status_code=HTTP_200_OK)
    async def save_device(self, request: Request[Any, Any, Any], username: str, device: str,
                          services: Services) -> Response[bytes]:
        device_id, _ = _split(device)
        await services.gpodder.save_device(await _user(request, services, username), device_id, await _json(request))
        return _reply(request, b"")

    @get("/subscriptions/{username:str}/{device:str}")
    async def subscription_changes(self, request: Request[Any, Any, Any], username: str, device: str,
                                   services: Services, since: str | None = None) -> Response[Any]:
        device_id, _ = _split(device)
        user = await _user(request, services, username)
        return _reply(request, await services.gpodder.subscription_changes(user, device_id, _since(since)))

    @post("/subscriptions/{username:str}/{device:str}", status_code=HTTP_200_OK)
    async def update_subscriptions(self, request: Request[Any, Any, Any], username: str, device: str,
                                   services: Services) -> Response[Any]:
        device_id, _ = _split(device)
        user = await _user(request, services, username)
        return _reply(request, await services.gpodder.update_subscriptions(user, device_id, await _json(request)))

    @get("/episodes/{username:str}")
    async def actions(self, request: Request[Any, Any, Any], username: str, services: Services,
                      since: str | None = None, podcast: str | None = None, device: str | None = None,
                      aggregated: str | None = None) -> Response[Any]:
        name, _ = _split(username)
        user = await _user(request, services, name)
        return _reply(request, await services.gpodder.actions(user, _since(since), podcast, device,
                                                              (aggregated or "").lower() in ("true", "1")))

    @post("/episodes/{username:str}", status_code=HTTP_200_OK)
    async def upload_actions(self, request: Request[Any, Any, Any], username: str,
                             services: Services) -> Response[Any]:
        name, _ = _split(username)
        user = await _user(request, services, name)
        return _reply(request, await services.gpodder.upload_actions(user, await _json(request)))


class GpodderSimpleController(Controller):
    """The simple API's whole subscription lists (json, opml or txt)."""

    path = "/subscriptions"
    tags = ["gpodder"]
    include_in_schema = False
    exception_handlers = {MusicdError: _error}

    @staticmethod
    async def _list(request: Request[Any, Any, Any], services: Services, user: User, fmt: str) -> Response[Any]:
        body, media_type = await services.gpodder.subscription_list(user, fmt)
        return _reply(request, body, media_type)

    @get("/{username:str}")
    async def all_subscriptions(self, request: Request[Any, Any, Any], username: str,
                                services: Services) -> Response[Any]:
        name, fmt = _split(username, _FORMATS)
        return await self._list(request, services, await _user(request, services, name), fmt)

    @get("/{username:str}/{device:str}")
    async def device_subscriptions(self, request: Request[Any, Any, Any], username: str, device: str,
                                   services: Services) -> Response[Any]:
        _, fmt = _split(device, _FORMATS)
        return await self._list(request, services, await _user(request, services, username), fmt)

    @put("/{username:str}/{device:str}", status_code=HTTP_200_OK)
    async def put_subscriptions(self, request: Request[Any, Any, Any], username: str, device: str,
                                services: Services) -> Response[bytes]:
        device_id, fmt = _split(device, _FORMATS)
        user = await _user(request, services, username)
        await services.gpodder.put_subscription_list(user, device_id, fmt, await request.body())
        return _reply(request, b"")


GPODDER_ROUTES = [GpodderAuthController, GpodderController, GpodderSimpleController]
