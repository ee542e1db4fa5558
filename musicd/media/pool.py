"""ffmpeg processes: spawning, killing, reading stderr, and the pool of encoders started ahead of time.

Spawning Debian's ffmpeg costs about 50 ms (it loads ~200 shared libraries). An encoder started
ahead of time, blocked reading its source from stdin, gives its first Ogg page about 5 ms after the
source starts flowing, so on-the-fly transcodes take one from here and the pool refills behind them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque

from musicd.logs import get_logger
from musicd.media.ffmpeg import tier_argv

__all__ = ["FfmpegPool", "kill", "spawn", "stderr_tail"]

log = get_logger("musicd.media")

_PIPE = asyncio.subprocess.PIPE


async def spawn(argv: list[str], stdin: bool) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        *argv, stdin=_PIPE if stdin else asyncio.subprocess.DEVNULL, stdout=_PIPE, stderr=_PIPE
    )


def kill(proc: asyncio.subprocess.Process | None) -> None:
    if proc is not None and proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()


async def stderr_tail(stream: asyncio.StreamReader | None, keep: int = 4000) -> str:
    # Read stderr as it comes: a damaged file can make ffmpeg print more than a pipe buffer holds.
    if stream is None:
        return ""
    tail = b""
    while chunk := await stream.read(65536):
        tail = (tail + chunk)[-keep:]
    return tail.decode("utf-8", "replace").strip()


Key = tuple[str, int]  # (codec, bitrate)


class FfmpegPool:
    """Encoders started ahead of time per (codec, bitrate), each waiting for a source on stdin.

    Vorbis tiers are kept ready from the start; another codec gets its encoders after its first use
    (a household whose phones ask for MP3 keeps MP3 encoders ready, one that never does starts none).
    """

    def __init__(self, binary: str, bitrates: list[int], size: int) -> None:
        self.binary = binary
        self.size = size
        self._idle: dict[Key, deque[asyncio.subprocess.Process]] = {("vorbis", b): deque() for b in bitrates}
        self._filling: set[Key] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False
        self.spawned = 0

    def take(self, bitrate: int, codec: str = "vorbis") -> asyncio.subprocess.Process | None:
        """An idle encoder for `bitrate` in `codec`, or None; the pool refills in the background."""
        key = (codec, bitrate)
        q = self._idle.get(key)
        if q is None and self.size > 0 and not self._closed:
            q = self._idle[key] = deque()
        proc = None
        while q:
            cand = q.popleft()
            if cand.returncode is None:
                proc = cand
                break
        if q is not None:
            self.refill(key)
        return proc

    def refill(self, key: Key | None = None) -> None:
        for b in [key] if key is not None else list(self._idle):
            if b is None or self._closed or b in self._filling or len(self._idle[b]) >= self.size:
                continue
            self._filling.add(b)
            task = asyncio.create_task(self._fill(b), name=f"ffmpeg-pool-{b[0]}-{b[1]}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _fill(self, key: Key) -> None:
        codec, bitrate = key
        try:
            while not self._closed and len(self._idle[key]) < self.size:
                proc = await spawn(tier_argv(self.binary, bitrate, codec=codec), stdin=True)
                self.spawned += 1
                if self._closed:
                    kill(proc)
                    await proc.wait()
                    return
                self._idle[key].append(proc)
        except OSError as e:
            log.error("ffmpeg.pool_failed", error=str(e))
        finally:
            self._filling.discard(key)

    def idle(self) -> int:
        return sum(len(q) for q in self._idle.values())

    async def close(self) -> None:
        self._closed = True
        for t in list(self._tasks):
            t.cancel()
        for q in self._idle.values():
            while q:
                proc = q.popleft()
                kill(proc)
                with contextlib.suppress(Exception):
                    await proc.wait()
