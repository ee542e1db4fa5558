"""The library use-case: scan folders into the catalogue and tell the rest of the app what changed.

A scan publishes ScanStarted, ScanProgress (at most every 0.25 s, and at each phase change), TracksStored
(after each write, so the search index works while the scan reads on), ScanDone and, when the catalogue
changed, LibraryChanged; `scan()` returns once the consumers (the search index, the
transcoder) have applied the change.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from pathlib import Path

from musicd.domain.events import LibraryChanged, ScanDone, ScanProgress, ScanStarted, TracksStored
from musicd.domain.models import User
from musicd.errors import ConflictError
from musicd.library.read_ahead import ReadAhead
from musicd.library.scanner import Progress, Scanner, ScanSummary
from musicd.logs import get_logger
from musicd.services.bus import EventBus
from musicd.services.rules import require_admin
from musicd.store.catalog import CatalogRepository
from musicd.store.db import utc_now
from musicd.store.social import SocialRepository

__all__ = ["LibraryService", "ScanState"]

log = get_logger("musicd.library")

_PROGRESS_EVERY_S = 0.25


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
    def __init__(self, catalog: CatalogRepository, folders: Sequence[Path], covers_dir: Path, workers: int = 0, *,
                 bus: EventBus, social: SocialRepository) -> None:
        self.catalog = catalog
        self.folders = list(folders)
        self.scanner = Scanner(catalog, covers_dir, workers)
        self.state = ScanState()
        self.bus = bus
        self.social = social
        self._lock = asyncio.Lock()

    def admin_state(self, user: User) -> ScanState:
        """What the running (or the last) scan does, with the library folders: for admins."""
        require_admin(user)
        return self.state

    async def is_empty(self) -> bool:
        return await self.catalog.track_count() == 0

    async def interrupted(self) -> bool:
        """Whether the last scan stopped before it finished (killed or failed): the next one heals it."""
        return await self.catalog.last_scan_unfinished()

    async def scan(
        self, progress: Progress | None = None, *, allow_empty: bool = False, ahead: ReadAhead | None = None,
    ) -> ScanSummary:
        """Scan every library folder; only one scan runs at a time. `ahead`: see `ReadAhead` (closed here)."""
        if self._lock.locked():
            if ahead is not None:
                await ahead.close()
            raise ConflictError("a scan is already running", code="scan_running")
        async with self._lock:
            st = self.state
            st.running, st.phase, st.done, st.total, st.last_error = True, "walk", 0, 0, None
            st.started_at = started = utc_now()
            self.bus.publish(ScanStarted(started_at=started))
            last = [0.0]

            def track(phase: str, done: int, total: int) -> None:
                now = time.monotonic()
                if phase != st.phase or done == total or now - last[0] >= _PROGRESS_EVERY_S:
                    last[0] = now
                    self.bus.publish(ScanProgress(phase=phase, done=done, total=total))
                st.phase, st.done, st.total = phase, done, total
                if progress:
                    progress(phase, done, total)

            try:
                run = await self.catalog.begin_scan(st.started_at)
                summary = await self.scanner.scan(
                    self.folders, track, allow_empty=allow_empty,
                    stored=lambda ids: self.bus.publish(TracksStored(started_at=started, track_ids=tuple(ids))),
                    ahead=ahead,
                )
            except Exception as e:
                st.last_error = str(e)
                self.bus.publish(ScanDone(error=str(e)))
                raise
            finally:
                st.running, st.phase = False, "idle"
            st.last = summary
            await self.catalog.record_scan(run, {
                "added": summary.added, "updated": summary.updated, "moved": summary.moved,
                "removed": summary.removed, "failed": summary.failed, "unchanged": summary.unchanged,
                "wall_s": summary.wall_s, "report": summary.report,
            })
            await self._published(summary, started)
            return summary

    async def _published(self, s: ScanSummary, started: str) -> None:
        self.bus.publish(ScanDone(added=s.added, updated=s.updated, moved=s.moved, removed=s.removed,
                                  failed=s.failed, unchanged=s.unchanged, wall_s=s.wall_s))
        if not (s.changed_track_ids or s.removed_track_ids or s.album_ids):
            return
        created = await self.social.album_created(s.album_ids)
        await self.bus.publish_and_wait(LibraryChanged(
            added=s.added, updated=s.updated, moved=s.moved, removed=s.removed,
            changed_track_ids=tuple(s.changed_track_ids), removed_track_ids=tuple(s.removed_track_ids),
            album_ids=tuple(s.album_ids), new_album_ids=tuple(a for a in s.album_ids if created.get(a, "") >= started),
            removed_album_ids=tuple(a for a in s.album_ids if a not in created),
        ), within=600)

    async def counts(self) -> dict[str, int]:
        return await self.catalog.counts()
