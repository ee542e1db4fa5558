"""ffmpeg processes: spawning, killing, reading stderr, and the pool of encoders started ahead of time.

Spawning Debian's ffmpeg costs about 50 ms (it loads ~200 shared libraries). An encoder started
ahead of time, blocked reading its source from stdin, gives its first Ogg page about 5 ms after the
source starts flowing, so on-the-fly transcodes take one from here and the pool refills behind them.

The pool starts empty and fills a tier only once that tier has been transcoded on the fly: someone is
listening at that quality, and their next track starts from a warm encoder. Encoders of a tier nobody
asked for in `idle_seconds` are stopped (each one holds about 10 MiB of private memory), so a server
nobody transcodes from keeps no ffmpeg running.

`size` bounds the pool as a whole, not per tier: one encoder each for the `size` tiers asked for last
(warming a tier stops the encoder of the tier used longest ago), so three qualities in use hold one
spare encoder, not three.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from typing import Any

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
    """Up to `size` encoders started ahead of time for the (codec, bitrate) tiers used last, each waiting for a
    source on stdin.

    A household whose phones ask for MP3 keeps MP3 encoders ready while they listen; one that never does
    starts none.
    """

    def __init__(self, binary: str, bitrates: list[int], size: int, idle_seconds: float = 300.0) -> None:
        self.binary = binary
        self.size = size
        self.idle_seconds = idle_seconds
        self._idle: dict[Key, deque[asyncio.subprocess.Process]] = {("vorbis", b): deque() for b in bitrates}
        self._last_use: dict[Key, float] = {}
        self._reapers: dict[Key, asyncio.TimerHandle] = {}
        self._filling: set[Key] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False
        self.spawned = 0
        self.reaped = 0

    def take(self, bitrate: int, codec: str = "vorbis") -> asyncio.subprocess.Process | None:
        """An idle encoder for `bitrate` in `codec`, or None (the caller says what to warm next: `refill`)."""
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
        if q is not None and self.size > 0:
            self.touch(bitrate, codec)
        return proc

    def touch(self, bitrate: int, codec: str = "vorbis") -> None:
        """A tier was just used (a transcode started or ended): its encoders stay for another `idle_seconds`."""
        key = (codec, bitrate)
        if key in self._idle:
            self._last_use[key] = time.monotonic()
            self._schedule_reap(key, self.idle_seconds)

    def _schedule_reap(self, key: Key, delay: float) -> None:
        if key not in self._reapers and not self._closed:
            loop = asyncio.get_running_loop()
            self._reapers[key] = loop.call_later(max(0.0, delay), self._reap, key)

    def _reap(self, key: Key) -> None:
        """Stop the idle encoders of a tier unused for `idle_seconds`; check again later otherwise."""
        self._reapers.pop(key, None)
        left = self._last_use.get(key, 0.0) + self.idle_seconds - time.monotonic()
        if left > 0:
            self._schedule_reap(key, left)
            return
        q = self._idle[key]
        while q:
            self._stop(key, q.popleft())

    def _stop(self, key: Key, proc: asyncio.subprocess.Process) -> None:
        kill(proc)
        self.reaped += 1
        task = asyncio.create_task(proc.wait(), name=f"ffmpeg-reap-{key[0]}-{key[1]}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def processes(self) -> int:
        """Encoders waiting here or being started."""
        return self.idle() + len(self._filling)

    def refill(self, key: Key) -> None:
        """Warm an encoder of `key` in the background, stopping one of the tier used longest ago if the pool is full."""
        if self.size <= 0 or self._closed or key in self._filling:
            return
        q = self._idle.setdefault(key, deque())
        if q:
            return  # warm already: one encoder per tier, for up to `size` tiers
        while self.processes() >= self.size:
            others = [k for k, o in self._idle.items() if o and k != key]
            if not others:
                return
            old = min(others, key=lambda k: self._last_use.get(k, 0.0))
            self._stop(old, self._idle[old].popleft())
        self._last_use.setdefault(key, time.monotonic())
        self._filling.add(key)
        task = asyncio.create_task(self._fill(key), name=f"ffmpeg-pool-{key[0]}-{key[1]}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _fill(self, key: Key) -> None:
        codec, bitrate = key
        try:
            proc = await spawn(tier_argv(self.binary, bitrate, codec=codec), stdin=True)
            self.spawned += 1
            if self._closed:
                kill(proc)
                await proc.wait()
                return
            self._idle[key].append(proc)
            self._schedule_reap(key, self._last_use.get(key, 0.0) + self.idle_seconds - time.monotonic())
        except OSError as e:
            log.error("ffmpeg.pool_failed", error=str(e))
        finally:
            self._filling.discard(key)

    def idle(self) -> int:
        return sum(len(q) for q in self._idle.values())

    async def close(self) -> None:
        self._closed = True
        for handle in self._reapers.values():
            handle.cancel()
        self._reapers.clear()
        for t in list(self._tasks):
            t.cancel()
        for q in self._idle.values():
            while q:
                proc = q.popleft()
                kill(proc)
                with contextlib.suppress(Exception):
                    await proc.wait()
