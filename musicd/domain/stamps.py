"""How times and link tokens are stored: UTC ISO-8601 text in milliseconds, and a token's SHA-256 digest."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

__all__ = ["epoch_iso", "token_digest", "utc_iso", "utc_now"]


def utc_iso(dt: datetime) -> str:
    """`dt` in UTC as stored and compared in the database: `2026-11-30T10:14:22.123Z`."""
    return dt.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def epoch_iso(t: float) -> str:
    """POSIX seconds `t` as stored text (see utc_iso)."""
    return utc_iso(datetime.fromtimestamp(t, UTC))


def utc_now() -> str:
    """Now as stored text (see utc_iso)."""
    return utc_iso(datetime.now(UTC))


def token_digest(token: str) -> str:
    """What a link's database row keeps of its token (hex SHA-256): the token itself is never stored."""
    return hashlib.sha256(token.encode()).hexdigest()
