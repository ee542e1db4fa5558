"""A first scan's reading, started before the rest of the process is up.

`musicd scan` spends about a CPU-second importing the application and setting up a new database before
the scanner runs, while the tag readers need nothing of it (only mutagen). On a first scan (no database
yet) every file of the library is read whatever the catalogue says, so the readers can start on them at
once: `ReadAhead` walks the folder, starts the readers and keeps them fed, holding at most a few
hundred answers, until the scanner takes the answers over (`Scanner.scan(..., ahead=)`). The scanner
uses it only when its own diff would read exactly those files (one folder, an empty catalogue, no
failures remembered); otherwise it closes it and reads as usual.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from musicd.library.read_pool import ReaderPool, in_batches
from musicd.library.read_worker import Job, Result
from musicd.library.walk import WalkResult, walk_folder

__all__ = ["ReadAhead"]

_HELD = 32  # reader answers (batches of 128) held until the scanner takes them (a few MB); readers pause beyond
_DONE = object()


class ReadAhead:
    """Readers started on every audio file of `folder`; `start()` it, then `results()` once, then `close()`."""

    def __init__(self, folder: Path, covers_dir: Path, workers: int) -> None:
        self.folder = folder
        self.covers_dir = covers_dir
        self.pool = ReaderPool(covers_dir, workers)
        self.walked: WalkResult | None = None
        self.total = 0
        self._queue: asyncio.Queue[object] = asyncio.Queue(maxsize=_HELD)
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self._waiting = 0

    async def start(self) -> None:
        """Start the readers, walk the folder and start reading every audio file in it."""
        self.covers_dir.mkdir(parents=True, exist_ok=True)
        await self.pool.__aenter__()
        self.walked = await asyncio.to_thread(walk_folder, str(self.folder))
        jobs: list[Job] = [(p, st.size, st.mtime_ns, st.lrc) for p, st in self.walked.files.items()]
        self.total = len(jobs)
        self._task = asyncio.create_task(self._pump(jobs))

    async def _pump(self, jobs: list[Job]) -> None:
        try:
            async for results in self.pool.read(in_batches(jobs)):
                self._waiting += len(results)
                await self._queue.put(results)
        except Exception as e:  # the scanner raises it where it takes the answers
            await self._queue.put(e)
        await self._queue.put(_DONE)

    def waiting(self) -> int:
        """How many files' answers wait to be taken (read while the application started)."""
        return self._waiting

    async def results(self) -> AsyncIterator[list[Result]]:
        """The answers for every file walked, as they come (not in order)."""
        while (item := await self._queue.get()) is not _DONE:
            if isinstance(item, BaseException):
                raise item
            self._waiting -= len(item)  # type: ignore[arg-type]
            yield item  # type: ignore[misc]

    async def __aexit__(self, exc_type: object, *_: object) -> None:
        await self.close(failed=exc_type is not None)

    async def close(self, failed: bool = False) -> None:
        """Stop the readers (killed when the scan `failed` or never took the answers); once."""
        if self._closed:
            return
        self._closed = True
        if self._task is not None and not self._task.done():
            failed = True
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.pool.__aexit__(RuntimeError if failed else None, None, None)
