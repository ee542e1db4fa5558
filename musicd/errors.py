"""Domain exceptions with stable codes, mapped to HTTP errors by the API layer."""

from __future__ import annotations

__all__ = [
    "AuthError",
    "ConfigError",
    "ConflictError",
    "ForbiddenError",
    "LibraryError",
    "MusicdError",
    "NotFoundError",
    "PlayerError",
    "RateLimitError",
    "ValidationError",
]


class MusicdError(Exception):
    """Base of every error musicd reports to a user; `code` is stable, `status` is the HTTP status."""

    code = "internal_error"
    status = 500

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class ConfigError(MusicdError):
    code = "config_invalid"
    status = 500


class ValidationError(MusicdError):
    code = "bad_request"
    status = 400


class AuthError(MusicdError):
    code = "unauthorized"
    status = 401


class ForbiddenError(MusicdError):
    code = "forbidden"
    status = 403


class NotFoundError(MusicdError):
    code = "not_found"
    status = 404


class ConflictError(MusicdError):
    code = "conflict"
    status = 409


class LibraryError(MusicdError):
    """A library folder is missing or unreadable."""

    code = "library_unavailable"
    status = 503


class RateLimitError(MusicdError):
    """Too many requests for one action; `retry_after` says in how many seconds to try again."""

    code = "rate_limited"
    status = 429

    def __init__(self, message: str, *, retry_after: float, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


class PlayerError(MusicdError):
    """A player command that cannot be done; `reason` is Spotify's (NO_ACTIVE_DEVICE, ...)."""

    def __init__(self, message: str, *, status: int, reason: str, code: str | None = None) -> None:
        super().__init__(message, code=code or reason.lower())
        self.status = status
        self.reason = reason
