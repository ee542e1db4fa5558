"""Tag-reader processes for one scan (`read_worker`), fed batches of files over pipes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import musicd
from musicd.errors import LibraryError
from musicd.library.read_worker import Job, Result, decode_results, encode_jobs

__all__ = ["ReaderPool", "in_batches"]

BATCH = 128  # files per reader request: large enough to amortise the round trip, small enough to spread
_AHEAD = 2  # batches sent to a reader before its first answer: it starts the next while we store the last
_DONE = object()
# The readers import this very checkout, whatever the current folder or the installed copy.
_SRC = os.path.dirname(os.path.dirname(os.path.abspath(musicd.__file__)))


def in_batches(jobs: list[Job], size: int = BATCH) -> Iterator[list[Job]]:
    """`jobs` in batches, in order, each taken out of the list as it is handed out (so freed once read)."""
    jobs.reverse()
    while jobs:
        batch = jobs[-size:]
        del jobs[-size:]
        batch.reverse()
        yield batch


class ReaderPool:
    """`workers` reader processes, started on entry and stopped on exit (killed if the scan fails)."""

    def __init__(self, covers_dir: Path, workers: int) -> None:
        self.covers_dir = covers_dir
        self.workers = max(1, workers)
        self._procs: list[asyncio.subprocess.Process] = []

    async def __aenter__(self) -> ReaderPool:
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (_SRC, os.environ.get("PYTHONPATH")) if p))
        for _ in range(self.workers):
            self._procs.append(await asyncio.create_subprocess_exec(
                sys.executable, "-m", "musicd.library.read_worker", str(self.covers_dir),
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, env=env,
            ))
        return self

    async def __aexit__(self, exc_type: object, *_: object) -> None:
        for p in self._procs:
            if p.stdin is not None:
                p.stdin.close()
            if exc_type is not None and p.returncode is None:
                p.kill()
        for p in self._procs:
            try:
                await asyncio.wait_for(p.wait(), 10)
            except TimeoutError:
                p.kill()
                await p.wait()
        self._procs.clear()

    async def read(self, batches: Iterator[list[Job]]) -> AsyncIterator[list[Result]]:
        """The answers to `batches`, as each arrives (not in order); at most a few batches are held
        at once, so a scan of 100k files never keeps more than that in memory."""
        out: asyncio.Queue[object] = asyncio.Queue(maxsize=len(self._procs))
        tasks = [asyncio.create_task(self._drive(p, batches, out)) for p in self._procs]
        try:
            running = len(tasks)
            while running:
                item = await out.get()
                if item is _DONE:
                    running -= 1
                elif isinstance(item, BaseException):
                    raise item
                else:
                    yield item  # type: ignore[misc]
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    @staticmethod
    async def _drive(
        proc: asyncio.subprocess.Process, batches: Iterator[list[Job]], out: asyncio.Queue[object]
    ) -> None:
        assert proc.stdin is not None and proc.stdout is not None
        try:
            pending = 0
            while True:
                while pending < _AHEAD and (batch := next(batches, None)) is not None:
                    proc.stdin.write(encode_jobs(batch))
                    pending += 1
                if not pending:
                    break
                await proc.stdin.drain()
                head = await proc.stdout.readexactly(4)
                body = await proc.stdout.readexactly(int.from_bytes(head, "big"))
                pending -= 1
                await out.put(decode_results(body))
        except (asyncio.IncompleteReadError, ConnectionResetError, BrokenPipeError):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(proc.wait(), 5)
            await out.put(LibraryError(f"a tag reader process stopped (exit status {proc.returncode})",
                                       code="scan_reader_failed"))
            return
        except Exception as e:  # e.g. an answer that does not decode: the scan fails, it does not hang
            await out.put(e)
            return
        await out.put(_DONE)
