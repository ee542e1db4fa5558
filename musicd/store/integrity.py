"""Is the database file sound, and can it take a write? Checked at every start and by /health."""

from __future__ import annotations

import sqlite3
import time
from contextlib import closing
from pathlib import Path

from musicd.errors import DatabaseDamagedError, storage_error
from musicd.logs import get_logger
from musicd.store.db import Database, utc_now

__all__ = ["check_database", "probe_write", "quick_check", "set_size_cap"]

log = get_logger("musicd.store")

_MAGIC = b"SQLite format 3\x00"
# quick_check of a 100k-track database (86 MB) takes about 0.4 s here (scripts/bench_db_health.py); a
# check still running after this long is stopped and the start goes on, with a warning.
DEFAULT_TIME_LIMIT = 30.0


def quick_check(path: Path, time_limit: float = DEFAULT_TIME_LIMIT) -> str | None:
    """None when `path` passes SQLite's `PRAGMA quick_check` (or has no content yet), else what is wrong.

    Read-only; bounded by `time_limit` seconds (a check that runs out of time counts as passed)."""
    try:
        with path.open("rb") as fh:
            header = fh.read(100)
    except FileNotFoundError:
        return None
    if not header:
        return None  # an empty file is a new database
    if len(header) < 100 or not header.startswith(_MAGIC):
        return "not an SQLite database: its header is gone"
    deadline = time.monotonic() + time_limit
    try:
        with closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as conn:
            conn.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
            rows = conn.execute("PRAGMA quick_check(3)").fetchall()
    except sqlite3.Error as e:
        if "interrupted" in str(e):
            log.warning("db.check_timeout", path=str(path), seconds=time_limit)
            return None
        mapped = storage_error(e, path.parent)
        if isinstance(mapped, DatabaseDamagedError):  # malformed, not a database
            return str(e)
        if mapped is not None:  # a full disk or an I/O error is not a damaged file
            raise mapped from None
        raise
    if rows == [("ok",)]:
        return None
    first = str(rows[0][0]).replace("*** in database main ***", "").strip().splitlines()
    return first[0] if first else "integrity check failed"


def check_database(path: Path, time_limit: float = DEFAULT_TIME_LIMIT) -> None:
    """Raise DatabaseDamagedError (naming the file) when `path` fails the quick integrity check."""
    problem = quick_check(path, time_limit)
    if problem is not None:
        raise DatabaseDamagedError(path, problem)


async def set_size_cap(db: Database, max_bytes: int) -> None:
    """Cap the database file at about `max_bytes` (SQLite's max_page_count on the writer); 0 = no cap."""
    if max_bytes <= 0:
        return
    async with db.writer.execute("PRAGMA page_size") as cur:
        row = await cur.fetchone()
    pages = max(1, max_bytes // int(row[0]))
    await db.writer.execute(f"PRAGMA max_page_count = {pages:d}")


async def probe_write(db: Database) -> int:
    """Commit one tiny write (it raises what a real write would: a full disk, an I/O error) and return
    the pages the database may still take: free pages plus the room under its page cap."""
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO health_probe (id, checked_at) VALUES (1, ?)"
            " ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at", (utc_now(),),
        )
        values = []
        for pragma in ("max_page_count", "page_count", "freelist_count"):
            async with conn.execute(f"PRAGMA {pragma}") as cur:
                row = await cur.fetchone()
            values.append(int(row[0]))
    cap, used, free = values
    return cap - used + free
