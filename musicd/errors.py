"""Domain exceptions with stable codes, mapped to HTTP errors by the API layer."""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

__all__ = [
    "AuthError",
    "ConfigError",
    "ConflictError",
    "DatabaseDamagedError",
    "ForbiddenError",
    "LibraryError",
    "MusicdError",
    "NotFoundError",
    "PlayerError",
    "RateLimitError",
    "StorageError",
    "StorageFullError",
    "ValidationError",
    "storage_error",
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
class StorageError(MusicdError):
    """The data dir's disk or database failed (an I/O error); the server's fault, not the client's."""

    code = "storage_error"
    status = 503


class StorageFullError(StorageError):
    """No room left for a write: the disk holding the data dir is full (or the database hit its size cap)."""

    code = "storage_full"
    status = 507

    def __init__(self, data_dir: Path | None = None, free_bytes: int | None = None) -> None:
        super().__init__("the server's storage is full: writes are refused until space is freed")
        self.data_dir = data_dir
        self.free_bytes = free_bytes


class DatabaseDamagedError(StorageError):
    """The database file is damaged (not a database, truncated, or with corrupt pages)."""

    code = "database_damaged"

    def __init__(self, path: Path | None = None, detail: str = "") -> None:
        super().__init__("the server's database is damaged; an administrator must restore or recover it")
        self.path = path
        self.detail = detail


# SQLite primary result codes (the low byte of an extended code), read from exceptions by attribute so
# this module needs no driver import.
_SQLITE_IOERR, _SQLITE_CORRUPT, _SQLITE_FULL, _SQLITE_NOTADB = 10, 11, 13, 26
# An I/O error while the disk has less than this left is a full disk (SQLite reports a failed -shm
# allocation on a full disk as SQLITE_IOERR_SHMSIZE, not SQLITE_FULL).
_NEARLY_FULL = 4 * 1024 * 1024


def _free_bytes(data_dir: Path | None) -> int | None:
    if data_dir is None:
        return None
    try:
        return shutil.disk_usage(data_dir).free
    except OSError:
        return None


def storage_error(exc: BaseException, data_dir: Path | None = None) -> StorageError | None:
    """The one mapping of storage failures to domain errors: SQLITE_FULL and ENOSPC (and an I/O error on
    a nearly full disk) become StorageFullError, SQLITE_CORRUPT/NOTADB DatabaseDamagedError, any other
    SQLite I/O error StorageError; anything else None. Looks through `__cause__`/`__context__` chains."""
    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if isinstance(e, StorageError):
            return e
        code = getattr(e, "sqlite_errorcode", None)
        if isinstance(code, int):
            primary = code & 0xFF
            if primary == _SQLITE_FULL:
                return StorageFullError(data_dir, _free_bytes(data_dir))
            if primary in (_SQLITE_CORRUPT, _SQLITE_NOTADB):
                return DatabaseDamagedError(None, str(e))
            if primary == _SQLITE_IOERR:
                free = _free_bytes(data_dir)
                if free is not None and free < _NEARLY_FULL:
                    return StorageFullError(data_dir, free)
                return StorageError(f"storage error: {e}")
        if isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT):
            return StorageFullError(data_dir, _free_bytes(data_dir))
        # tantivy reports an OS error inside its own message text.
        if isinstance(e, ValueError) and "No space left on device" in str(e):
            return StorageFullError(data_dir, _free_bytes(data_dir))
        e = e.__cause__ or e.__context__
    return None
