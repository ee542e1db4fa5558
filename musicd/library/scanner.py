"""The library scanner, in phases: walk, diff, read (across cores), upsert, finalize, report.

Unchanged files (size + mtime) are not re-read. A new file whose size and content sample
match a vanished one is a move and keeps its track id (playlists, stars and history survive);
so is one with the vanished track's MusicBrainz recording id. Files that cannot be read are
logged with their reason, remembered, counted, and never stop the scan.

Every album whose tracks a scan writes or deletes stays marked in the store (durably, in the same
transaction) until a scan completes. A scan that stops part-way (killed, a full disk) leaves its
marks, and the next scan heals those albums (`ScanSummary.healed_albums`) and reports their tracks
as changed, so listeners such as the search index see what the interrupted scan stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol

import msgspec

from musicd.domain.ids import ordered_id
from musicd.domain.models import CoverRef, KnownFile, ScannedTrack, TrackChange
from musicd.errors import LibraryError
from musicd.library.artwork import store_image
from musicd.library.read_ahead import ReadAhead
from musicd.library.read_pool import BATCH, ReaderPool, in_batches
from musicd.library.read_worker import Failure, Job
from musicd.library.walk import WalkResult, walk_folder
from musicd.logs import get_logger

__all__ = ["CatalogWriter", "ScanSummary", "Scanner", "Stored"]

log = get_logger("musicd.scan")

_BATCH = BATCH  # files per reader request (a test lowers it to get several answers from a small library)
_FLUSH = 1000  # tracks per write transaction

Progress = Callable[[str, int, int], None]  # (phase, done, total)
Stored = Callable[[list[str]], None]  # the ids of tracks a write transaction of the running scan stored


class CatalogWriter(Protocol):
    """What the scanner needs from storage (the store's CatalogRepository implements it)."""

    async def ensure_folder(self, path: str) -> int: ...
    async def folders(self) -> dict[int, str]: ...
    async def forget_folder(self, folder_id: int) -> None: ...
    async def known_files(self, folder_id: int) -> dict[str, KnownFile]: ...
    async def mark_scanned(self, folder_id: int) -> None: ...
    async def known_failures(self) -> dict[str, tuple[int, int, str]]: ...
    async def apply(self, folder_id: int, changes: Sequence[TrackChange], old_album_ids: Iterable[str]) -> None: ...
    async def record_failures(self, failures: Sequence[Failure]) -> None: ...
    async def forget_failures(self, paths: Sequence[str]) -> None: ...
    async def removal_report(self, track_ids: Sequence[str]) -> dict[str, Any]: ...
    async def remove_tracks(self, track_ids: Sequence[str]) -> None: ...
    async def unfinished_albums(self) -> list[str]: ...
    async def album_track_ids(self, album_ids: Sequence[str]) -> list[str]: ...
    async def finalize(self, *, clear: bool = True) -> int: ...


class ScanSummary(msgspec.Struct, kw_only=True):
    added: int = 0
    updated: int = 0
    moved: int = 0
    removed: int = 0
    failed: int = 0
    unchanged: int = 0
    healed_albums: int = 0  # albums an earlier, interrupted scan left unfinished, recomputed by this one
    wall_s: float = 0.0
    failures: list[tuple[str, str]] = msgspec.field(default_factory=list)  # (path, reason)
    unreadable_dirs: list[tuple[str, str]] = msgspec.field(default_factory=list)
    report: dict[str, Any] = msgspec.field(default_factory=dict)  # what referred to removed tracks
    changed_track_ids: list[str] = msgspec.field(default_factory=list)  # added, updated or moved
    removed_track_ids: list[str] = msgspec.field(default_factory=list)
    album_ids: list[str] = msgspec.field(default_factory=list)  # albums whose tracks changed, came or went


def _folder_covers(walked: WalkResult, paths: Iterable[str], covers_dir: Path) -> dict[str, CoverRef | None]:
    refs: dict[str, CoverRef | None] = {}
    for p in paths:
        img = walked.folder_cover(p)
        if img is None or img in refs:
            continue
        try:
            refs[img] = store_image(covers_dir, Path(img).read_bytes(), "folder")
        except OSError:
            refs[img] = None
    return refs


class Scanner:
    def __init__(self, catalog: CatalogWriter, covers_dir: Path, workers: int = 0) -> None:
        self.catalog = catalog
        self.covers_dir = covers_dir
        self.workers = workers or os.cpu_count() or 1
        self._stored: Stored | None = None
        self._ahead: ReadAhead | None = None

    @staticmethod
    def check_folders(folders: Sequence[Path]) -> None:
        """Fail with a clear message, before anything changes, when a library folder is unusable."""
        if not folders:
            raise LibraryError("no library folder configured (library.folders)", code="library_not_configured")
        for f in folders:
            if not f.exists():
                raise LibraryError(f"library folder not found: {f}", code="library_missing")
            if not f.is_dir():
                raise LibraryError(f"library folder is not a directory: {f}", code="library_missing")
            try:
                with os.scandir(f) as it:
                    next(it, None)
            except OSError as e:
                raise LibraryError(f"library folder unreadable: {f}: {e.strerror}", code="library_unreadable") from e

    async def scan(
        self, folders: Sequence[Path], progress: Progress | None = None, *, allow_empty: bool = False,
        stored: Stored | None = None, ahead: ReadAhead | None = None,
    ) -> ScanSummary:
        """Bring the catalogue in step with `folders`; raise LibraryError (changing nothing) if one is unusable.
        `stored` is told the tracks of each write as it commits (the summary still lists them all). `ahead`:
        readers started before on the folder's files, used when this scan reads exactly those; closed here."""
        self._stored = stored
        try:
            return await self._scan(folders, progress, allow_empty, ahead)
        finally:
            if ahead is not None:
                await ahead.close(failed=True)  # a no-op once the scan took its answers and closed it

    async def _scan(
        self, folders: Sequence[Path], progress: Progress | None, allow_empty: bool, ahead: ReadAhead | None,
    ) -> ScanSummary:
        t0 = time.perf_counter()
        self.check_folders(folders)
        self.covers_dir.mkdir(parents=True, exist_ok=True)
        summary = ScanSummary()
        leftover = await self.catalog.unfinished_albums()
        if leftover:
            summary.healed_albums = len(leftover)
            log.warning("scan.healing", albums=len(leftover),
                        reason="an earlier scan stopped before it finished; recomputing the albums it left")
        failures_known = await self.catalog.known_failures()
        if ahead is not None and not (
            [ahead.folder] == list(folders) and ahead.covers_dir == self.covers_dir and not leftover
            and not failures_known and not await self.catalog.folders()
        ):
            await ahead.close()  # it read what this scan may not need (a catalogue exists): read as usual
            ahead = None
        self._ahead = ahead
        try:
            async with contextlib.AsyncExitStack() as stack:
                if ahead is not None:
                    stack.push_async_exit(ahead)
                    pool = ahead.pool
                else:
                    pool = await stack.enter_async_context(ReaderPool(self.covers_dir, self.workers))
                await self._drop_unconfigured(folders, summary)
                for i, folder in enumerate(folders):
                    last = i == len(folders) - 1
                    await self._scan_folder(folder, pool, summary, failures_known, progress, allow_empty, last)
        except Exception:
            await self._finalize_after_failure()
            raise
        if leftover:
            # The interrupted scan's tracks count as unchanged now: report them, or listeners (the search
            # index) would never see them.
            seen = set(summary.changed_track_ids)
            summary.changed_track_ids += [i for i in await self.catalog.album_track_ids(leftover) if i not in seen]
        summary.wall_s = round(time.perf_counter() - t0, 3)
        log.info("scan.done", added=summary.added, updated=summary.updated, moved=summary.moved,
                 removed=summary.removed, failed=summary.failed, unchanged=summary.unchanged,
                 healed_albums=summary.healed_albums, wall_s=summary.wall_s)
        return summary

    async def _drop_unconfigured(self, folders: Sequence[Path], summary: ScanSummary) -> None:
        """Remove the tracks of folders that are no longer configured (the catalogue follows the config);
        their albums are finalized with the rest of the scan, and what referred to them is reported."""
        configured = {str(f) for f in folders}
        for fid, path in (await self.catalog.folders()).items():
            if path in configured:
                continue
            ids = [k.track_id for k in (await self.catalog.known_files(fid)).values()]
            if ids:
                await self._remove(ids, path, summary)
            prefix = path.rstrip("/") + "/"
            await self.catalog.forget_failures([p for p in await self.catalog.known_failures() if p.startswith(prefix)])
            await self.catalog.forget_folder(fid)
            summary.report.setdefault("unconfigured_folders", []).append({"folder": path, "removed": len(ids)})
            log.info("scan.folder_dropped", folder=path, removed=len(ids), reason="no longer configured")

    async def _remove(self, ids: list[str], folder: str, summary: ScanSummary) -> None:
        report = await self.catalog.removal_report(ids)
        await self.catalog.remove_tracks(ids)
        summary.removed += len(ids)
        summary.removed_track_ids.extend(ids)
        if report["playlist_entries"] or report["saved_by"] or report["ratings"]:
            summary.report.setdefault("removed_references", []).append(report)
            log.warning("scan.removed_referenced", folder=folder, **report)

    async def _finalize_after_failure(self) -> None:
        """Make what the failed scan stored consistent now if the database still takes writes; the marks
        stay either way, so the next scan recomputes these albums again and reports their tracks."""
        try:
            await self.catalog.finalize(clear=False)
        except Exception as e:
            log.warning("scan.finalize_failed", error=str(e), note="the next scan recomputes the albums left")

    async def _scan_folder(
        self, folder: Path, pool: ReaderPool, summary: ScanSummary, failures_known: dict[str, tuple[int, int, str]],
        progress: Progress | None, allow_empty: bool, last: bool,
    ) -> None:
        fid = await self.catalog.ensure_folder(str(folder))
        known = await self.catalog.known_files(fid)
        if progress:
            progress("walk", 0, 0)
        ahead, self._ahead = self._ahead, None
        if ahead is not None and ahead.walked is not None:
            walked, ahead.walked = ahead.walked, None
        else:
            walked = await asyncio.to_thread(walk_folder, str(folder))
        files = walked.files
        summary.unreadable_dirs.extend(walked.unreadable)
        for d, reason in walked.unreadable:
            log.warning("scan.unreadable", path=d, reason=reason)
        if not files and known and not allow_empty:
            # An unmounted disk looks like an empty folder: refuse to drop the whole catalogue for it.
            raise LibraryError(
                f"library folder {folder} has no audio files but the catalogue has {len(known)} tracks from it; "
                "not removing them (is the disk mounted?)", code="library_empty",
            )

        to_read: list[Job] = []
        for path, st in files.items():
            k = known.get(path)
            if k is not None and k.size == st.size and k.mtime_ns == st.mtime_ns:
                summary.unchanged += 1
                continue
            f = failures_known.get(path)
            if k is None and f is not None and f[0] == st.size and f[1] == st.mtime_ns:
                summary.failed += 1  # still broken, unchanged since the last scan: don't re-read
                summary.failures.append((path, f[2]))
                continue
            to_read.append((path, st.size, st.mtime_ns, st.lrc))

        unreadable_prefixes = tuple(d.rstrip("/") + "/" for d, _ in walked.unreadable)
        vanished = {
            p: k for p, k in known.items()
            if p not in files and not (unreadable_prefixes and p.startswith(unreadable_prefixes))
        }
        by_fp: dict[tuple[int, str], list[str]] = {}
        by_mbid: dict[str, list[str]] = {}
        for p, k in vanished.items():
            by_fp.setdefault((k.size, k.fingerprint), []).append(p)
            if k.mbid_recording:
                by_mbid.setdefault(k.mbid_recording, []).append(p)

        gone_failures = [p for p in failures_known if p.startswith(str(folder).rstrip("/") + "/") and p not in files]
        # What the rest needs of the walk is in `to_read` now: 100k files held twice cost some 40 MB.
        walked.files = files = {}
        folder_covers = await asyncio.to_thread(_folder_covers, walked, (j[0] for j in to_read), self.covers_dir)
        total = len(to_read)
        if ahead is not None:
            # An empty catalogue and no failures remembered: the diff kept every file the read-ahead walked.
            assert total == ahead.total, "read-ahead out of step with the scan"
            log.info("scan.read_ahead", files=total, read_already=ahead.waiting(),
                     note="first scan: read while the application started")
            answers = ahead.results()
        else:
            answers = pool.read(in_batches(to_read, _BATCH))
        changes: list[TrackChange] = []
        old_albums: set[str] = set()
        failures: list[Failure] = []
        done = 0
        if progress:
            progress("read", 0, total)

        def claim_vanished(t: ScannedTrack) -> KnownFile | None:
            for table, key in ((by_fp, (t.size, t.fingerprint)), (by_mbid, t.mbid_recording)):
                if key is None:
                    continue
                cands = [p for p in table.get(key, ()) if p in vanished]  # type: ignore[call-overload]
                if len(cands) == 1:
                    return vanished.pop(cands[0])
            return None

        async for results in answers:
            for r in results:
                if isinstance(r, tuple):
                    failures.append(r)
                    summary.failed += 1
                    summary.failures.append((r[0], r[3]))
                    log.warning("scan.file_failed", path=r[0], reason=r[3])
                    continue
                img = walked.folder_cover(r.path)
                if img is not None and (ref := folder_covers.get(img)) is not None:
                    r = msgspec.structs.replace(r, folder_cover=ref)
                k = known.get(r.path)
                if k is not None:
                    summary.updated += 1
                    changes.append(TrackChange(k.track_id, r))
                    old_albums.add(k.album_id)
                elif (moved := claim_vanished(r)) is not None:
                    summary.moved += 1
                    changes.append(TrackChange(moved.track_id, r))
                    old_albums.add(moved.album_id)
                else:
                    summary.added += 1
                    changes.append(TrackChange(ordered_id(), r, new=True))
            done += len(results)
            if progress:
                progress("read", done, total)
            if len(changes) >= _FLUSH:
                await self._flush(fid, changes, old_albums, summary)
        await self._flush(fid, changes, old_albums, summary)
        if failures:
            await self.catalog.record_failures(failures)

        if vanished:
            await self._remove([k.track_id for k in vanished.values()], str(folder), summary)
            await self.catalog.forget_failures(list(vanished))
        await self.catalog.forget_failures(gone_failures)
        if progress:
            progress("finalize", 0, 0)
        # Albums of earlier folders stay marked until the whole scan is done (see the module docstring).
        if last:  # the marks are every album this scan (or an interrupted one) touched: listeners get them
            summary.album_ids.extend(await self.catalog.unfinished_albums())
        await self.catalog.finalize(clear=last)
        await self.catalog.mark_scanned(fid)

    async def _flush(
        self, fid: int, changes: list[TrackChange], old_albums: set[str], summary: ScanSummary
    ) -> None:
        if not changes:
            return
        await self.catalog.apply(fid, changes, old_albums)
        ids = [c.track_id for c in changes]
        summary.changed_track_ids.extend(ids)
        if self._stored is not None:
            self._stored(ids)
        changes.clear()
        old_albums.clear()
