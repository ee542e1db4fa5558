"""Worker processes that analyse files, niced, one file each at a time, so the server's event loop
and its requests never wait for numpy.

Processes rather than threads: the analysis is Python and numpy glue that would hold the GIL, and a
process can be niced (its ffmpeg inherits the niceness) and killed when the server stops. Workers
use one BLAS thread each: on this 2-core box OpenBLAS's two threads made the mel projection twenty
times slower, not faster.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from multiprocessing import get_context

from musicd.domain.audio import AudioAnalysis

__all__ = ["AnalysisPool", "Outcome", "settle_numeric_worker"]

_NICENESS = 19
_TASKS_PER_WORKER = 200  # a fresh process now and then: no slow creep of a long pass's memory


@dataclass(frozen=True)
class Outcome:
    analysis: AudioAnalysis
    cpu_s: float  # CPU seconds of the worker and its ffmpeg for this file


def settle_numeric_worker(niceness: int) -> None:
    """A background numpy process: niced, and one BLAS thread so it never takes every core from serving."""
    with contextlib.suppress(OSError):
        os.nice(niceness)
    import numpy  # noqa: F401  (loaded before the limit, which only reaches libraries already loaded)
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _work(path: str, channels: int, duration: float, max_seconds: float, binary: str, timeout: float) -> Outcome:
    from musicd.analysis.analyser import analyse_file

    t0 = _cpu()
    try:
        a = analyse_file(path, channels=channels, duration=duration, max_seconds=max_seconds, binary=binary,
                         timeout=timeout)
    except Exception as e:  # a bug must cost one track, not the pass
        a = AudioAnalysis(status="failed", error=f"analysis error: {type(e).__name__}: {e}")
    return Outcome(a, _cpu() - t0)


class AnalysisPool:
    """Up to `workers` processes; `analyse` waits for one file's result without blocking the loop."""

    def __init__(self, workers: int, *, binary: str = "ffmpeg", max_seconds: float = 600.0,
                 timeout: float = 300.0, niceness: int = _NICENESS) -> None:
        self.workers = max(1, workers)
        self.binary, self.max_seconds, self.timeout, self.niceness = binary, max_seconds, timeout, niceness
        self._executor: ProcessPoolExecutor | None = None

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            self._executor = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=get_context("spawn"), initializer=settle_numeric_worker,
                initargs=(self.niceness,), max_tasks_per_child=_TASKS_PER_WORKER,
            )
        return self._executor

    async def analyse(self, path: str, *, channels: int | None, duration: float) -> Outcome:
        """Analyse one file in a worker. When a worker dies (killed, out of memory) every file in flight
        fails with it, so each is tried once more in a fresh pool; a file that kills it twice fails."""
        loop = asyncio.get_running_loop()
        t0 = time.monotonic()
        for _ in range(2):
            ex = self._pool()
            try:
                return await loop.run_in_executor(ex, _work, path, channels or 2, duration, self.max_seconds,
                                                  self.binary, self.timeout)
            except BrokenProcessPool:
                if self._executor is ex:  # the first to notice replaces the pool; the others reuse the new one
                    self._executor = None
                    ex.shutdown(wait=False, cancel_futures=True)
        return Outcome(AudioAnalysis(status="failed", error="the analysis process died"), time.monotonic() - t0)

    async def aclose(self, *, kill: bool = False) -> None:
        """Stop the workers: let them finish and exit, or (`kill`) end them and their ffmpeg now. Never
        blocks the event loop: a niced worker on a busy box can take seconds to be scheduled and exit."""
        ex, self._executor = self._executor, None
        if ex is None:
            return
        if not kill:
            await asyncio.to_thread(ex.shutdown, wait=True)
            return
        # ProcessPoolExecutor has no public way to end busy workers; its process table is the only
        # handle on them. A killed worker's ffmpeg dies on its next write to the closed pipe.
        for proc in list((getattr(ex, "_processes", None) or {}).values()):
            with contextlib.suppress(Exception):
                proc.kill()
        ex.shutdown(wait=False, cancel_futures=True)
