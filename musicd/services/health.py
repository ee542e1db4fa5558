"""What /health reports: can the database be read and written, and has the data dir's disk room left?"""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path

import msgspec

from musicd.errors import DatabaseDamagedError, StorageError, StorageFullError, storage_error
from musicd.logs import get_logger
from musicd.store.db import Database
from musicd.store.integrity import probe_write

__all__ = ["DiskReport", "HealthReport", "HealthService", "free_bytes"]

log = get_logger("musicd.health")

# Fewer free database pages than this (under a size cap) is a full database: no write of any size fits.
_MIN_PAGES = 16
# A probe waiting longer than this for the writer (a scan's batch) is not a failure: the writer is busy.
_PROBE_WAIT = 2.0


class DiskReport(msgspec.Struct, frozen=True):
    status: str  # "ok" | "full"
    free_bytes: int | None
    min_free_bytes: int


class HealthReport(msgspec.Struct, frozen=True):
    ok: bool
    database: str  # "ok" | "full" | "damaged" | "unwritable" | "unreachable"
    disk: DiskReport


def free_bytes(path: Path) -> int | None:
    """Free bytes on the filesystem holding `path` (None when it cannot be asked)."""
    try:
        return shutil.disk_usage(path).free
    except OSError:
        return None


class HealthService:
    """Checks the database (a read, a tiny committed write, the pages left under a size cap) and the disk;
    the result is cached for `ttl` seconds so /health stays cheap however often it is asked."""

    def __init__(self, db: Database, data_dir: Path, min_free_bytes: int, ttl: float = 3.0) -> None:
        self.db = db
        self.data_dir = data_dir
        self.min_free_bytes = min_free_bytes
        self.ttl = ttl
        self._cached: tuple[float, HealthReport] | None = None
        self._damaged = False
        self._lock = asyncio.Lock()

    def noticed(self, err: StorageError) -> None:
        """A request met a storage failure: a damaged database stays reported; anything else is re-checked."""
        if isinstance(err, DatabaseDamagedError):
            self._damaged = True
        self._cached = None

    async def report(self) -> HealthReport:
        """The current health, measured at most once per `ttl` seconds."""
        async with self._lock:
            now = time.monotonic()
            if self._cached is None or now - self._cached[0] > self.ttl:
                self._cached = (now, await self._measure())
            return self._cached[1]

    def disk(self) -> DiskReport:
        free = free_bytes(self.data_dir)
        full = free is not None and free < self.min_free_bytes
        return DiskReport("full" if full else "ok", free, self.min_free_bytes)

    async def _measure(self) -> HealthReport:
        disk = self.disk()
        database = "damaged" if self._damaged else await self._database()
        return HealthReport(database == "ok" and disk.status == "ok", database, disk)

    async def _database(self) -> str:
        try:
            await self.db.fetchone("SELECT 1")
            headroom = await asyncio.wait_for(probe_write(self.db), _PROBE_WAIT)
        except TimeoutError:
            return "ok"  # the writer is busy with a long transaction, which is not a failure
        except Exception as e:
            mapped = storage_error(e, self.data_dir)
            log.warning("health.database", error=str(e))
            if isinstance(mapped, DatabaseDamagedError):
                self._damaged = True
                return "damaged"
            if isinstance(mapped, StorageFullError):
                return "full"
            return "unwritable" if mapped is not None else "unreachable"
        return "full" if headroom < _MIN_PAGES else "ok"
