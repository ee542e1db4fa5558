"""The library use-case: scan folders into the catalogue and tell the rest of the app what changed."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from musicd.domain.models import User
from musicd.errors import ConflictError
from musicd.library.scanner import Progress, Scanner, ScanSummary
from musicd.logs import get_logger
from musicd.services.rules import require_admin
from musicd.store.catalog import CatalogRepository
from musicd.store.db import utc_now

__all__ = ["LibraryService", "ScanListener", "ScanState"]

log = get_logger("musicd.library")

ScanListener = Callable[[ScanSummary], Awaitable[None]]


class ScanState:
    """What a running (or the last) scan is doing, for status endpoints and metrics."""

    def __init__(self) -> None:
        self.running = False
        self.phase = "idle"
        self.done = 0
        self.total = 0
        self.last: ScanSummary | None = None
        self.last_error: str | None = None
        self.started_at: str | None = None


class LibraryService:
    def __init__(self, catalog: CatalogRepository, folders: Sequence[Path], covers_dir: Path, workers: int = 0) -> None:
        self.catalog = catalog
        self.folders = list(folders)
        self.scanner = Scanner(catalog, covers_dir, workers)
        self.state = ScanState()
        self._lock = asyncio.Lock()
        self._listeners: list[ScanListener] = []

    def on_scanned(self, listener: ScanListener) -> None:
        """Call `listener` with the summary after every scan (the search index follows this way)."""
        self._listeners.append(listener)

    def admin_state(self, user: User) -> ScanState:
        """What the running (or the last) scan does, with the library folders: for admins."""
        require_admin(user)
        return self.state

    async def is_empty(self) -> bool:
        return await self.catalog.track_count() == 0

    async def interrupted(self) -> bool:
        """Whether the last scan stopped before it finished (killed or failed): the next one heals it."""
        return await self.catalog.last_scan_unfinished()

    async def scan(self, progress: Progress | None = None, *, allow_empty: bool = False) -> ScanSummary:
        """Scan every library folder; only one scan runs at a time."""
        if self._lock.locked():
            raise ConflictError("a scan is already running", code="scan_running")
        async with self._lock:
            st = self.state
            st.running, st.phase, st.done, st.total, st.last_error = True, "walk", 0, 0, None
            st.started_at = utc_now()

            def track(phase: str, done: int, total: int) -> None:
                st.phase, st.done, st.total = phase, done, total
                if progress:
                    progress(phase, done, total)

            try:
                run = await self.catalog.begin_scan(st.started_at)
                summary = await self.scanner.scan(self.folders, track, allow_empty=allow_empty)
            except Exception as e:
                st.last_error = str(e)
                raise
            finally:
                st.running, st.phase = False, "idle"
            st.last = summary
            await self.catalog.record_scan(run, {
                "added": summary.added, "updated": summary.updated, "moved": summary.moved,
                "removed": summary.removed, "failed": summary.failed, "unchanged": summary.unchanged,
                "wall_s": summary.wall_s, "report": summary.report,
            })
            for listener in self._listeners:
                await listener(summary)
            return summary

    async def counts(self) -> dict[str, int]:
        return await self.catalog.counts()
