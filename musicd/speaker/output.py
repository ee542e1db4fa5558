"""The speaker's sound output: one ffmpeg that plays a track in real time and says how far it got.

ffmpeg reads the track over HTTP (Range seeks), decodes at the track's own pace (`-re`) and writes to the
sound output, or with the `null` sink to nowhere. Its `-progress` lines (`out_time_us`, every 50 ms) are
what was really played: the position the speaker reports is that, never a clock's guess.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable

from musicd.media.ffmpeg import ffmpeg_binary, playback_argv

__all__ = ["Output"]


class Output:
    """Plays one track at a time; `position_ms()` is what was played, `on_end` fires when a track ends."""

    def __init__(self, sink: str, on_end: Callable[[str], Awaitable[None]],
                 on_playing: Callable[[str, int], None], ffmpeg: str = "ffmpeg") -> None:
        self.sink = sink
        self.binary = ffmpeg_binary(ffmpeg)
        self.on_end = on_end
        self.on_playing = on_playing
        self.track_id: str | None = None
        self.start_ms = 0
        self.volume = 100
        self._played_us = 0
        self._proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._generation = 0
        # How far what was played lags the wall clock from the moment ffmpeg starts (its start-up, the
        # first fetch and seek, its pacing): measured on every track, smoothed, and skipped over when a
        # track starts, so that the audio lines up with where the state says the track is.
        self.lag_ms = 250.0
        self._spawned = 0.0

    @property
    def playing(self) -> bool:
        return self._proc is not None and self._proc.returncode is None

    def position_ms(self) -> int:
        return self.start_ms + self._played_us // 1000

    async def play(self, url: str, headers: str, track_id: str, start_ms: int, volume: int) -> None:
        """Stop what plays and play `track_id` from `start_ms`."""
        await self.stop()
        self._generation += 1
        self.track_id, self.start_ms, self.volume, self._played_us = track_id, max(0, start_ms), volume, 0
        self._spawned = time.monotonic()
        argv = playback_argv(self.binary, url, headers=headers, start_ms=self.start_ms, volume=volume,
                             sink=self.sink)
        self._proc = await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL)
        self._reader = asyncio.create_task(self._follow(self._proc, self._generation))

    async def _follow(self, proc: asyncio.subprocess.Process, generation: int) -> None:
        assert proc.stdout is not None
        announced = measured = False
        ended = False
        async for raw in proc.stdout:
            key, _, value = raw.decode(errors="replace").strip().partition("=")
            if key == "out_time_us" and value.lstrip("-").isdigit():
                self._played_us = max(self._played_us, int(value))
                if not announced and self._played_us > 0:
                    announced = True
                    self.on_playing(self.track_id or "", self.position_ms())
                if not measured and self._played_us >= 1_000_000:
                    measured = True
                    lag = (time.monotonic() - self._spawned) * 1000 - self._played_us / 1000
                    self.lag_ms = min(1500.0, max(0.0, 0.5 * self.lag_ms + 0.5 * lag))
            elif key == "progress" and value == "end":
                ended = True
        code = await proc.wait()
        if ended and code == 0 and generation == self._generation and self.track_id is not None:
            self._proc = None
            await self.on_end(self.track_id)

    async def stop(self) -> int:
        """Fall silent at once; the position reached."""
        proc, reader = self._proc, self._reader
        self._proc = self._reader = None
        self._generation += 1
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
        if reader is not None and reader is not asyncio.current_task():
            reader.cancel()
            with contextlib.suppress(BaseException):
                await reader
        return self.position_ms()
