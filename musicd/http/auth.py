"""Bearer-token authentication for /v1, per-user rate limits, and the guards handlers use.

Everything under /v1/ needs an access token unless its handler sets `opt={"exclude_from_auth": True}`
(login, refresh, first-run setup; stream URLs do their own signed-token check). /rest has its own
Subsonic auth; /health, /metrics, share pages and the web UI's static pages are outside /v1. Who may do
what (guests, admins, oneself) is the services' to say (musicd.services.rules), for every API alike.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection, Request
from litestar.di import Provide
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import DefineMiddleware
from litestar.middleware.authentication import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.types import Receive, Scope, Send

from musicd.domain.models import User
from musicd.errors import AuthError
from musicd.services.rules import require_admin, require_member

__all__ = ["admin_only", "auth_dependencies", "auth_middleware", "bearer_token", "client_address", "not_guest"]

_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_PUBLIC_PATHS = frozenset({"/v1/openapi.json", "/v1/docs"})


def bearer_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """The token of an `Authorization: Bearer` header, if there is one."""
    scheme, _, token = connection.headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def client_address(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    return connection.client.host if connection.client else "unknown"


class BearerAuthMiddleware(AbstractAuthenticationMiddleware):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Only /v1/ is this middleware's business (/rest has Subsonic auth; pages and /health are public).
        # Checked here rather than with `exclude`, whose "everything but /v1/" regex Litestar mistakes
        # for one that disables the middleware on every route.
        path = scope.get("path", "")
        if not path.startswith("/v1/") or path in _PUBLIC_PATHS or path.startswith("/v1/docs/assets/"):
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)

    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        token = bearer_token(connection)
        if token is None:
            raise AuthError("this endpoint needs an access token (Authorization: Bearer ...)", code="no_token")
        services = connection.app.state.services
        user = await services.auth.user_for_access_token(token)
        services.auth.check_rate(user, write=connection.scope.get("method", "GET") not in _READ_METHODS)
        return AuthenticationResult(user=user, auth=token)


auth_middleware = DefineMiddleware(BearerAuthMiddleware)


def _user_of(connection: ASGIConnection[Any, Any, Any, Any]) -> User:
    # OPTIONS requests skip authentication but still run guards: there is no user then.
    user = connection.scope.get("user")
    if not isinstance(user, User):
        raise AuthError("this endpoint needs an access token (Authorization: Bearer ...)", code="no_token")
    return user


def admin_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard for a controller whose every route is for admins; the rule is the rulebook's, which the
    services check too (a guard alone would leave /rest and the realtime channel open)."""
    require_admin(_user_of(connection))


def not_guest(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard: guests change nothing (musicd.services.rules; the services check it too)."""
    require_member(_user_of(connection))


def _current_user(request: Request[Any, Any, Any]) -> User:
    return request.user  # type: ignore[no-any-return]


auth_dependencies = {"user": Provide(_current_user, sync_to_thread=False)}
