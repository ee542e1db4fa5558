"""The background analyser: measures every track's audio once, at low priority, resumably.

Like the transcoder: a pass runs at start and after every scan, one at a time, with a bounded number
of niced worker processes; each result is stored as soon as it is made, so a pass stopped half-way
(Ctrl-C, a restart) resumes with the tracks still missing. A file that failed or was silent keeps its
row and is not tried again until its content changes (or `--retry-failed`).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from musicd.analysis.pool import AnalysisPool
from musicd.config import AnalysisConfig
from musicd.domain.audio import ANALYSIS_VERSION, TrackFeatures
from musicd.errors import NotFoundError
from musicd.logs import get_logger
from musicd.services.background import BackgroundPasses
from musicd.services.metrics import Metrics
from musicd.store.audio_features import AnalysisCounts, AnalysisJob, AudioFeatureRepository

if TYPE_CHECKING:
    from musicd.services.feature_matrix import FeatureMatrix

__all__ = ["AnalysisPassSummary", "AnalysisService", "AnalysisStatus"]

log = get_logger("musicd.analysis")

Progress = Callable[[int, int], None]


@dataclass
class AnalysisStatus:
    """How far the library's analysis is (tracks), and whether a pass runs now."""

    tracks: int = 0
    ok: int = 0
    silent: int = 0
    failed: int = 0
    pending: int = 0
    running: bool = False
    version: int = ANALYSIS_VERSION


@dataclass
class AnalysisPassSummary:
    analysed: int = 0
    silent: int = 0
    failed: int = 0
    skipped: int = 0  # failed before on the same content: not retried
    stopped: str = ""  # "" (finished) or "cancelled"
    wall_s: float = 0.0
    cpu_s: float = 0.0  # CPU seconds of the workers and their ffmpeg
    audio_s: float = 0.0  # seconds of audio analysed


class AnalysisService(BackgroundPasses):
    log_name, event_prefix = "musicd.analysis", "analysis"

    def __init__(self, repo: AudioFeatureRepository, cfg: AnalysisConfig, metrics: Metrics, ffmpeg: str = "ffmpeg",
                 scanning: Callable[[], bool] = lambda: False) -> None:
        super().__init__(scanning)
        self.repo = repo
        self.cfg = cfg
        self.metrics = metrics
        self.ffmpeg = ffmpeg
        self.workers = cfg.workers or os.cpu_count() or 1
        self._matrix: FeatureMatrix | None = None

    async def status(self) -> AnalysisStatus:
        """Counts from the database (one query)."""
        c = await self.repo.counts(ANALYSIS_VERSION)
        self._set_gauges(c)
        return AnalysisStatus(tracks=c.tracks, ok=c.ok, silent=c.silent, failed=c.failed, pending=c.pending,
                              running=self.running)

    def _set_gauges(self, c: AnalysisCounts) -> None:
        for state in ("ok", "silent", "failed", "pending"):
            self.metrics.analysis_tracks.labels(state).set(getattr(c, state))

    async def audio_features(self, track_ids: Sequence[str]) -> list[TrackFeatures | None]:
        """Each track's stored features in the order asked; None for unknown, failed or not analysed yet."""
        found = await self.repo.features(list(dict.fromkeys(track_ids)))
        return [found.get(i) for i in track_ids]

    async def track_features(self, track_id: str) -> TrackFeatures:
        """One track's features; NotFoundError says whether the track is unknown, not analysed yet or
        could not be analysed."""
        found = await self.repo.features([track_id])
        if track_id in found:
            return found[track_id]
        exists, status = await self.repo.state(track_id)
        if not exists:
            raise NotFoundError(f"no track with id {track_id}", code="track_not_found")
        if status == "failed":
            raise NotFoundError(f"track {track_id} could not be analysed", code="audio_analysis_failed")
        raise NotFoundError(f"track {track_id} has not been analysed yet", code="audio_features_not_ready")

    async def features(self, track_ids: Sequence[str] | None = None) -> FeatureMatrix:
        """Every analysed track's normalised features and timbre as matrices, for nearest neighbours
        (see FeatureMatrix); with `track_ids`, only those rows. Built once and kept until new results."""
        if self._matrix is None:
            # numpy is loaded on first use, not when the server starts.
            from musicd.services.feature_matrix import build_matrix

            self._matrix = build_matrix(await self.repo.all_ok())
        return self._matrix if track_ids is None else self._matrix.subset(track_ids)

    async def run_pass(self, progress: Progress | None = None, *, retry_failed: bool = False,
                       limit: int | None = None) -> AnalysisPassSummary:
        """Analyse every track not analysed yet with `workers` niced processes; one pass at a time."""
        try:
            return await self.exclusive(lambda: self._pass(progress, retry_failed, limit))
        finally:
            self.metrics.analysis_queue.set(0)

    async def _pass(self, progress: Progress | None, retry_failed: bool, limit: int | None) -> AnalysisPassSummary:
        t0 = time.monotonic()
        summary = AnalysisPassSummary()
        jobs = await self.repo.pending(ANALYSIS_VERSION, retry_failed=retry_failed)
        if not retry_failed:
            summary.skipped = (await self.repo.counts(ANALYSIS_VERSION)).failed
        if limit is not None:
            jobs = jobs[:limit]
        total = len(jobs)
        self.metrics.analysis_queue.set(total)
        if not jobs:
            return summary
        queue: asyncio.Queue[AnalysisJob] = asyncio.Queue()
        for job in jobs:
            queue.put_nowait(job)
        pool = AnalysisPool(min(self.workers, total), binary=self.ffmpeg, max_seconds=self.cfg.max_seconds,
                            timeout=self.cfg.timeout_seconds)
        done = 0

        async def worker() -> None:
            nonlocal done
            while not queue.empty():
                job = queue.get_nowait()
                out = await pool.analyse(job.path, channels=job.channels, duration=job.duration)
                a = out.analysis
                if await self.repo.save(job, a, ANALYSIS_VERSION):
                    self._matrix = None
                if a.status == "ok":
                    summary.analysed += 1
                elif a.status == "silent":
                    summary.silent += 1
                else:
                    summary.failed += 1
                    log.warning("analysis.failed", track=job.id, path=job.path, error=a.error)
                summary.cpu_s += out.cpu_s
                summary.audio_s += a.seconds
                self.metrics.analyses.labels(a.status).inc()
                self.metrics.analysis_cpu.inc(out.cpu_s)
                done += 1
                self.metrics.analysis_queue.set(total - done)
                if progress:
                    progress(done, total)

        finished = False
        try:
            async with asyncio.TaskGroup() as tg:  # one worker failing (the database) stops the others
                for _ in range(pool.workers):
                    tg.create_task(worker())
            finished = True
        except asyncio.CancelledError:
            summary.stopped = "cancelled"
            raise
        finally:
            await pool.aclose(kill=not finished)
            summary.wall_s = time.monotonic() - t0
            log.info("analysis.pass", analysed=summary.analysed, silent=summary.silent, failed=summary.failed,
                     stopped=summary.stopped, wall_s=round(summary.wall_s, 2), cpu_s=round(summary.cpu_s, 2))
        return summary
