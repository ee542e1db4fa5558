"""The ListenBrainz API for scrobblers: `POST /listenbrainz/1/submit-listens` and
`GET /listenbrainz/1/validate-token`, with ListenBrainz's auth header (`Authorization: Token <token>`),
answers and error shape (`{"code": 400, "error": "..."}`).

The same routes also answer at `/1/...`: liblistenbrainz (0.7.0 and older) joins its endpoints ("/1/...")
to `api_base_url` with urljoin, which drops the base URL's path, so a client given
`http://host:4747/listenbrainz` asks for `http://host:4747/1/submit-listens` (fixed upstream in
liblistenbrainz PR #45, not released yet). Scrobblers that append `/1/...` to the URL they are given use
`/listenbrainz/1/...`.
"""

from __future__ import annotations

import math
from typing import Any

from litestar import Controller, Request, Response, Router, get, post
from litestar.exceptions import HTTPException

from musicd.errors import MusicdError, RateLimitError, ValidationError
from musicd.logs import get_logger
from musicd.services.listenbrainz_payload import MAX_LISTEN_PAYLOAD_SIZE
from musicd.services.registry import Services

__all__ = ["ListenBrainzController", "listenbrainz_router"]

log = get_logger("musicd.http")


def _lb_error(status: int, message: str, headers: dict[str, str] | None = None) -> Response[dict[str, Any]]:
    return Response({"code": status, "error": message[:500]}, status_code=status, headers=headers,
                    media_type="application/json")


def _musicd_error(_: Request[Any, Any, Any], exc: MusicdError) -> Response[dict[str, Any]]:
    headers = None
    if isinstance(exc, RateLimitError):
        wait = str(max(1, math.ceil(exc.retry_after)))
        headers = {"Retry-After": wait, "X-RateLimit-Remaining": "0", "X-RateLimit-Reset-In": wait}
    return _lb_error(exc.status, exc.message, headers)


def _http_error(_: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    return _lb_error(exc.status_code, exc.detail if isinstance(exc.detail, str) else "request failed")


def _internal(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    log.error("http.unhandled", path=request.url.path, method=request.method, error=repr(exc), exc_info=True)
    return _lb_error(500, "Something went wrong. Please try again.")


async def _body(request: Request[Any, Any, Any], limit: int) -> bytes:
    """The body, refused with ListenBrainz's message past `limit` bytes (read no further than that)."""
    size = int(request.headers.get("content-length") or 0) if request.headers.get("content-length", "").isdigit() \
        else 0
    too_large = ValidationError(f"Payload too large. Payload cannot exceed {limit} bytes", code="payload_too_large")
    if size > limit:
        raise too_large
    parts: list[bytes] = []
    got = 0
    async for chunk in request.stream():
        got += len(chunk)
        if got > limit:
            raise too_large
        parts.append(chunk)
    return b"".join(parts)


class ListenBrainzController(Controller):
    path = "/1"
    include_in_schema = False  # ListenBrainz's API, documented by ListenBrainz (and README)
    exception_handlers = {MusicdError: _musicd_error, HTTPException: _http_error, Exception: _internal}

    @post("/submit-listens", status_code=200, request_max_body_size=None)
    async def submit_listens(self, request: Request[Any, Any, Any], services: Services) -> dict[str, str]:
        """Submit listens (`single`, `playing_now` or `import`) with `Authorization: Token <token>`."""
        raw = await _body(request, MAX_LISTEN_PAYLOAD_SIZE)
        await services.listens.submit(request.headers.get("authorization"), raw)
        return {"status": "ok"}

    @get("/validate-token")
    async def validate_token(self, request: Request[Any, Any, Any], services: Services,
                             token: str | None = None) -> dict[str, Any]:
        """Whether a token is valid (from `Authorization: Token <token>`, else `?token=`), and whose."""
        scheme, _, value = request.headers.get("authorization", "").strip().partition(" ")
        given = value.strip() if scheme.lower() == "token" else (token or "")
        if not given:
            raise ValidationError("You need to provide an Authorization token.", code="no_token")
        user = await services.listens.token_user(given)
        if user is None:
            return {"code": 200, "message": "Token invalid.", "valid": False}
        return {"code": 200, "message": "Token valid.", "valid": True, "user_name": user.username}


listenbrainz_router = Router(path="/listenbrainz", route_handlers=[ListenBrainzController])
