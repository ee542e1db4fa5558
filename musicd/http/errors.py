"""Every error leaves as JSON `{"error": {"status", "code", "message"}}`; never a traceback. (A browser's
page address that names nothing gets the web player's own not-found page instead.)"""

from __future__ import annotations

import math
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, NotFoundException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from musicd.errors import AuthError, MusicdError, RateLimitError, StorageError, storage_error
from musicd.http.ui import not_found_page
from musicd.logs import get_logger

__all__ = ["error_response", "exception_handlers", "storage_failure"]

log = get_logger("musicd.http")

_HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 409: "conflict", 413: "payload_too_large", 415: "unsupported_media_type",
               416: "range_not_satisfiable", 429: "rate_limited", 503: "unavailable", 507: "storage_full"}
_MAX_MESSAGE = 500  # a message may quote a hostile value: never echo megabytes of it


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None,
                   reason: str | None = None) -> Response[dict]:
    """The one JSON error shape of the API (player errors add Spotify's `reason`)."""
    body: dict[str, object] = {"status": status, "code": code, "message": message}
    if reason is not None:
        body["reason"] = reason
    return Response({"error": body}, status_code=status,
                    headers=headers, media_type="application/json")


def storage_failure(request: Request, exc: BaseException) -> StorageError | None:
    """`exc` as a storage failure (full disk, damaged database, I/O error), told to /health; else None."""
    services = getattr(request.app.state, "services", None)
    err = storage_error(exc, services.config.data_dir if services is not None else None)
    if err is not None:
        log.error("http.storage", path=request.url.path, code=err.code, error=str(exc))
        if services is not None:
            services.health.noticed(err)
    return err


def _musicd_error(request: Request, exc: MusicdError) -> Response[dict]:
    if isinstance(exc, StorageError):
        storage_failure(request, exc)
    headers = None
    if isinstance(exc, RateLimitError):
        headers = {"Retry-After": str(max(1, math.ceil(exc.retry_after)))}
    elif isinstance(exc, AuthError):
        headers = {"WWW-Authenticate": 'Bearer realm="musicd"'}
    return error_response(exc.status, exc.code, exc.message, headers=headers, reason=getattr(exc, "reason", None))


def _invalid(extra: object) -> str | None:
    """`offset (query): Expected int <= 10000000`: what was wrong and where, without echoing the request URL."""
    if not isinstance(extra, list):
        return None
    parts = []
    for e in extra:
        if isinstance(e, dict) and e.get("message"):
            where = getattr(e.get("source"), "value", e.get("source"))
            parts.append(f"{e['key']} ({where}): {e['message']}" if e.get("key") else str(e["message"]))
    return "invalid " + "; ".join(parts) if parts else None


def _http_error(_: Request, exc: HTTPException) -> Response[dict]:
    status = exc.status_code
    msg = exc.detail if isinstance(exc.detail, str) else "request failed"
    if isinstance(exc, ValidationException):
        msg = _invalid(exc.extra) or msg
    return error_response(status, _HTTP_CODES.get(status, "error"), msg[:_MAX_MESSAGE], headers=exc.headers or None)


def _not_found(request: Request, exc: NotFoundException) -> Response[Any]:
    if (page := not_found_page(request)) is not None:
        return page
    return error_response(404, "not_found", "no such resource")


def _internal(request: Request, exc: Exception) -> Response[dict]:
    if (err := storage_failure(request, exc)) is not None:
        return error_response(err.status, err.code, err.message)
    log.error("http.unhandled", path=request.url.path, method=request.method, error=repr(exc), exc_info=True)
    return error_response(HTTP_500_INTERNAL_SERVER_ERROR, "internal_error", "internal server error")


exception_handlers = {
    MusicdError: _musicd_error,
    NotFoundException: _not_found,
    HTTPException: _http_error,
    Exception: _internal,
}
