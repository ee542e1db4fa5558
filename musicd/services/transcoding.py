"""The background transcoder: makes every track's tiers ahead of time, at low priority, resumably.

Progress lives in the cache folder itself (a finished tier is a file, a failed one a `.failed` note),
so a pass after a restart simply skips what is there. A pass runs at start and after every scan;
it stops early when the cache is full rather than evicting what it made a moment ago.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

from musicd.config import TranscodeConfig
from musicd.domain.tiers import ALL_TIERS, Tier
from musicd.logs import get_logger
from musicd.media.ffmpeg import ARGV_VERSION
from musicd.media.transcoder import Transcoder
from musicd.services.background import BackgroundPasses
from musicd.services.metrics import Metrics
from musicd.services.playback import PlaybackService
from musicd.store.media_lookup import MediaLookup, SourceRow

__all__ = ["PassSummary", "TranscodeService", "TranscodeStatus"]

log = get_logger("musicd.media")

_CHUNK = 500  # tracks per chunk of a pass

Progress = Callable[[int, int], None]


@dataclass
class TranscodeStatus:
    """How far the tiers of the library are: (track, tier) pairs wanted, made, failed, left."""

    wanted: int = 0
    done: int = 0
    failed: int = 0
    pending: int = 0
    cache_bytes: int = 0
    cache_files: int = 0
    cache_max_bytes: int = 0
    running: bool = False
    by_tier: dict[str, dict[str, int]] = field(default_factory=dict)


@dataclass
class PassSummary:
    made: int = 0
    failed: int = 0
    skipped: int = 0
    removed_stale: int = 0
    stopped: str = ""  # "" (finished), "cache_full" or "cancelled"
    wall_s: float = 0.0
    audio_s: float = 0.0  # seconds of audio transcoded


class TranscodeService(BackgroundPasses):
    log_name, event_prefix = "musicd.media", "transcode"

    def __init__(self, lookup: MediaLookup, transcoder: Transcoder, playback: PlaybackService,
                 cfg: TranscodeConfig, metrics: Metrics, scanning: Callable[[], bool] = lambda: False) -> None:
        super().__init__(scanning)
        self.lookup = lookup
        self.transcoder = transcoder
        self.playback = playback
        self.cfg = cfg
        self.metrics = metrics
        self.workers = cfg.workers or os.cpu_count() or 1

    def wanted(self, rows: list[SourceRow]) -> list[tuple[SourceRow, Tier]]:
        """Every (track, tier) the configuration asks for; tiers that would upscale collapse into one."""
        out = []
        for row in rows:
            seen: set[str] = set()
            for q in self.playback.tiers:
                tier = self.playback.tier_for(row, q)
                if tier is not None and tier.name not in seen:
                    seen.add(tier.name)
                    out.append((row, tier))
        return out

    async def _rows(self) -> list[SourceRow]:
        return await self.lookup.all_sources([f.lower() for f in self.cfg.source_formats])

    async def status(self) -> TranscodeStatus:
        """Counts from the catalogue and the cache folder (cheap: stats, no ffmpeg)."""
        pairs = self.wanted(await self._rows())
        st = TranscodeStatus(wanted=len(pairs), running=self.running, cache_max_bytes=self.cfg.cache_max_bytes)
        for row, tier in pairs:
            src = self.playback.media_source(row)
            t = st.by_tier.setdefault(tier.name, {"wanted": 0, "done": 0, "failed": 0})
            t["wanted"] += 1
            if self.transcoder.cache.contains(self.transcoder.path(src, tier)):
                st.done += 1
                t["done"] += 1
            elif self.transcoder.failure(src, tier) is not None:
                st.failed += 1
                t["failed"] += 1
        st.pending = st.wanted - st.done - st.failed
        st.cache_bytes = self.transcoder.cache.total_bytes
        st.cache_files = len(self.transcoder.cache)
        return st

    async def _remove_stale(self) -> int:
        """Delete cached tiers (every codec) of tracks gone or whose file changed since (a batch at a time)."""
        cache = self.transcoder.cache
        batches = cache.batches()
        removed = 0
        while (paths := await asyncio.to_thread(next, batches, None)) is not None:
            rows = await self.lookup.sources(sorted({cache.track_of(p) for p in paths}))
            keep = {
                str(cache.path_for(r.id, t.name, r.size, r.mtime_ns, ARGV_VERSION, t.ext))
                for r in rows.values() for t in ALL_TIERS
            }
            for p in paths:
                if p not in keep:
                    cache.remove(Path(p))
                    removed += 1
        return removed

    async def run_pass(self, progress: Progress | None = None, *, retry_failed: bool = False,
                       limit: int | None = None, quiet: bool = False) -> PassSummary:
        """Make every missing tier with `workers` niced ffmpeg processes; one pass at a time. With `quiet`,
        each track waits until nobody has streamed for `pre_transcode_quiet_seconds`."""
        try:
            return await self.exclusive(lambda: self._pass(progress, retry_failed, limit, quiet))
        finally:
            self.metrics.transcode_queue.set(0)

    async def background_pass(self) -> PassSummary:
        await self._quiet()  # reading the catalogue and the cache folder is work too: not while anyone listens
        return await self.run_pass(quiet=True)

    async def _quiet(self) -> None:
        """Wait until no stream was opened for `pre_transcode_quiet_seconds` (the server's own use first)."""
        # A deadline that every stream moves later, read when it passes: no event to wait for.
        while (left := self.playback.last_stream + self.cfg.pre_transcode_quiet_seconds - time.monotonic()) > 0:  # noqa: ASYNC110
            await asyncio.sleep(left)

    async def _missing(self, ids: list[str], summary: PassSummary | None, retry_failed: bool
                       ) -> list[tuple[SourceRow, list[Tier]]]:
        """The tracks of `ids` with the tiers they still lack, in the order of `ids` (stats in a thread)."""
        rows = await self.lookup.sources(ids)
        pairs = self.wanted([rows[i] for i in ids if i in rows])

        def check() -> list[tuple[SourceRow, Tier]]:
            out = []
            for row, tier in pairs:
                src = self.playback.media_source(row)
                path = self.transcoder.path(src, tier)
                if self.transcoder.cache.contains(path):
                    continue
                if self.transcoder.failure(src, tier) is not None:
                    if not retry_failed:
                        if summary is not None:
                            summary.skipped += 1
                        continue
                    if summary is not None:
                        self.transcoder.cache.clear_failure(path)
                out.append((row, tier))
            return out

        jobs: dict[str, tuple[SourceRow, list[Tier]]] = {}
        for row, tier in await asyncio.to_thread(check):
            jobs.setdefault(row.id, (row, []))[1].append(tier)
        return list(jobs.values())

    async def _chunks(self) -> AsyncIterator[list[str]]:
        """The ids of the library's sources in the pass's order, a chunk at a time (one string holds them)."""
        text = await self.lookup.source_ids([f.lower() for f in self.cfg.source_formats])
        pos = 0
        while pos < len(text):
            end = pos
            for _ in range(_CHUNK):
                end = text.find("\n", end) + 1 or len(text) + 1
                if end > len(text):
                    break
            yield text[pos:end].split()
            pos = end

    async def _pass(self, progress: Progress | None, retry_failed: bool, limit: int | None,
                    quiet: bool) -> PassSummary:
        # Memory stays flat however large the library: the pass holds one chunk of ids and rows at a time
        # (it held every row, every (track, tier) pair and every cached path: about 15 MiB at 10k tracks,
        # ten times that at 100k; then every id: 29 MiB of heap at 100k).
        t0 = time.monotonic()
        summary = PassSummary()
        summary.removed_stale = await self._remove_stale()
        total = 0  # (track, tier) pairs to make, counted first for the progress bar and the queue metric
        async for chunk in self._chunks():
            total += sum(len(tiers) for _, tiers in await self._missing(chunk, None, retry_failed))
        total = min(total, limit) if limit is not None else total
        self.metrics.transcode_queue.set(total)
        cache = self.transcoder.cache
        done = 0

        async def worker(queue: asyncio.Queue[tuple[SourceRow, list[Tier]]]) -> None:
            nonlocal done
            while not queue.empty() and not summary.stopped:
                if quiet:
                    await self._quiet()
                    if queue.empty() or summary.stopped:  # another worker took the last job meanwhile
                        return
                row, tiers = queue.get_nowait()
                estimate = int(row.duration * sum(t.bitrate_kbps for t in tiers) * 125 * 1.1)
                if cache.max_bytes and cache.total_bytes + estimate > cache.max_bytes:
                    summary.stopped = "cache_full"
                    return
                results = await self.transcoder.pretranscode(self.playback.media_source(row), tiers)
                for error in results.values():
                    if error:
                        summary.failed += 1
                    else:
                        summary.made += 1
                        summary.audio_s += row.duration
                done += len(tiers)
                self.metrics.transcode_queue.set(max(0, total - done))
                if progress:
                    progress(done, total)

        try:
            async for chunk in self._chunks():
                if summary.stopped or done >= total:
                    break
                # One job per track: one ffmpeg decodes it once and writes all of its missing tiers.
                queue: asyncio.Queue[tuple[SourceRow, list[Tier]]] = asyncio.Queue()
                room = total - done
                for row, tiers in await self._missing(chunk, summary, retry_failed):
                    if room <= 0:
                        break
                    queue.put_nowait((row, tiers[:room]))
                    room -= len(tiers[:room])
                await asyncio.gather(*(worker(queue) for _ in range(min(self.workers, max(queue.qsize(), 1)))))
        except asyncio.CancelledError:
            summary.stopped = "cancelled"
            raise
        finally:
            summary.wall_s = time.monotonic() - t0
            if summary.made or summary.failed or summary.stopped:
                log.info("transcode.pass", made=summary.made, failed=summary.failed, skipped=summary.skipped,
                         removed_stale=summary.removed_stale, stopped=summary.stopped,
                         wall_s=round(summary.wall_s, 2))
        return summary
