"""The speaker's sound output: decoders that turn tracks into PCM, and a clock that plays it out.

Each track is decoded by its own ffmpeg to raw PCM on a pipe, as fast as it is read (up to `_AHEAD_S` of
audio ahead). The output takes samples from it at the pace of the wall clock (every `_TICK_S`), applies
the volume to the samples (a volume change takes effect at the next tick, nothing restarts) and hands them
to the sink: the null sink drops them, a real one is one long-lived ffmpeg writing to PulseAudio or ALSA.
So the position is a count of samples played, exact to the sample, and:

- start-up costs no position: the samples that should have played while ffmpeg started are skipped, so the
  audio lines up with where the state says the track is now (a start in the future waits instead);
- gapless next: when a track's decoder has decoded its last sample, the next track's decoder starts
  (prefetch), and its first sample follows the last one of the track before in the same tick;
- drift (a Jam) is corrected by a small rate change: a few source frames more or fewer per tick, up to
  `_MAX_RATE`, resampled by picking frames.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable

import numpy as np

from musicd.media.ffmpeg import PCM_CHANNELS, PCM_RATE, decode_argv, ffmpeg_binary, sink_argv

__all__ = ["Output"]

_FRAME = 2 * PCM_CHANNELS  # bytes of one s16le frame
_TICK_S = 0.01
_AHEAD_S = 10.0  # decoded ahead of what plays, per track (1.7 MB)
_MAX_RATE = 0.04  # the largest rate change used to correct drift (4 %)

Source = Callable[[str], tuple[str, str]]  # track id -> (URL, HTTP headers)


class _Decoder:
    """One ffmpeg decoding one track to PCM, read ahead into memory (bounded)."""

    def __init__(self, argv: list[str], track_id: str) -> None:
        self.argv = argv
        self.track_id = track_id
        self.buf = bytearray()
        self.eof = False
        self.code: int | None = None
        self._room = asyncio.Event()
        self._data = asyncio.Event()
        self._proc: asyncio.subprocess.Process | None = None
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    async def start(self) -> None:
        self._proc = await asyncio.create_subprocess_exec(
            *self.argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL)
        self._task = asyncio.create_task(self._pump(self._proc))
        if self._closed:  # closed while it was starting (a prefetch that was given up)
            await self.close()

    async def _pump(self, proc: asyncio.subprocess.Process) -> None:
        assert proc.stdout is not None
        limit = int(_AHEAD_S * PCM_RATE) * _FRAME
        try:
            while True:
                while len(self.buf) >= limit:
                    self._room.clear()
                    await self._room.wait()
                chunk = await proc.stdout.read(1 << 16)
                if not chunk:
                    break
                self.buf += chunk
                self._data.set()
            self.code = await proc.wait()
        finally:
            self.eof = True
            self._data.set()

    async def first_data(self) -> None:
        await self._data.wait()

    @property
    def finished(self) -> bool:
        return self.eof and len(self.buf) < _FRAME

    def take(self, nbytes: int) -> bytes:
        nbytes -= nbytes % _FRAME
        out = bytes(self.buf[:nbytes])
        del self.buf[:nbytes]
        self._room.set()
        return out

    async def close(self) -> None:
        self._closed = True
        proc, task = self._proc, self._task
        if task is not None:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
        if proc is not None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            # Read the pipe to its end: a paused pipe (the read-ahead was full) would never see the EOF that
            # `wait()` waits for.
            if proc.stdout is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(proc.stdout.read(), 5)
            await proc.wait()


class Output:
    """Plays one track at a time (and the next one gaplessly); `position_ms()` is what was played,
    `on_end(track_id, position_ms)` fires when a track ends, `on_playing(track_id, position_ms)` when a
    track's first sample plays."""

    def __init__(self, sink: str, source: Source, on_end: Callable[[str, int], Awaitable[None]],
                 on_playing: Callable[[str, int], None], ffmpeg: str = "ffmpeg") -> None:
        self.sink = sink
        self.binary = ffmpeg_binary(ffmpeg)
        self.source = source
        self.on_end = on_end
        self.on_playing = on_playing
        self.track_id: str | None = None
        self.start_ms = 0
        self.volume = 100
        self.startup_ms = 0.0  # what the last start took, from play() to its first decoded sample
        self.upcoming: str | None = None  # the track to prefetch and play gaplessly after this one
        self._frames = 0  # source frames of the current track passed since start_ms
        self._current: _Decoder | None = None
        self._next: _Decoder | None = None
        self._task: asyncio.Task[None] | None = None
        self._correction = 0  # frames still to skip (> 0) or to stretch (< 0), spread over ticks
        self._sink: asyncio.subprocess.Process | None = None
        # Standby: the output keeps time with what plays on another device, decoding but dropping the samples,
        # so that a transfer here is only `wake()` (no ffmpeg start-up on the handoff path).
        self.standby = False
        self._sounding = False  # the current start has passed its first sample
        self.failed = False  # the last track stopped because its decoder failed (the server went away)
        self._callbacks: set[asyncio.Task[None]] = set()

    @property
    def running(self) -> bool:
        """Decoding and keeping time: audible, or in standby."""
        return self._task is not None and not self._task.done()

    @property
    def playing(self) -> bool:
        """Audible."""
        return self.running and not self.standby

    def wake(self) -> None:
        """Standby → audible at once (the decoder is warm and on time): a handoff without a start-up."""
        if self.running and self.standby:
            self.standby, self.startup_ms = False, 0.0
            if self._sounding:  # else the first sample, still to come, announces it
                self.on_playing(self.track_id or "", self.position_ms())

    def mute(self) -> int:
        """Audible → standby (falls silent at once, keeps time); the position reached."""
        self.standby = True
        return self.position_ms()

    def position_ms(self) -> int:
        return max(0, self.start_ms + self._frames * 1000 // PCM_RATE)

    def set_volume(self, volume: int) -> None:
        """Applied to the samples from the next tick on."""
        self.volume = max(0, min(100, volume))

    def nudge(self, ms: float) -> None:
        """Move the position by `ms` (ahead when positive) through a small rate change, not a seek."""
        self._correction = int(ms * PCM_RATE / 1000)

    async def prefetch(self, track_id: str | None) -> None:
        """The track to play gaplessly after the current one (None: stop at its end)."""
        self.upcoming = track_id
        if self._next is not None and self._next.track_id != track_id:
            stale, self._next = self._next, None
            await stale.close()

    def _decoder(self, track_id: str, start_ms: int) -> _Decoder:
        url, headers = self.source(track_id)
        return _Decoder(decode_argv(self.binary, url, headers=headers, start_ms=max(0, start_ms)), track_id)

    async def play(self, track_id: str, start_ms: int, volume: int | None = None, standby: bool = False) -> None:
        """Stop what plays and play `track_id` so that it is at `start_ms` now (negative: it starts later);
        in standby, silently."""
        asked = time.monotonic()
        await self.stop()
        self.standby, self._sounding = standby, False
        if volume is not None:
            self.set_volume(volume)
        dec = self._decoder(track_id, start_ms)
        await dec.start()
        self._current, self.track_id, self.start_ms, self._frames = dec, track_id, start_ms, 0
        self._correction, self.failed = 0, False
        self._task = asyncio.create_task(self._run(dec, asked, max(0, start_ms)))

    async def _run(self, dec: _Decoder, asked: float, decoded_from: int) -> None:
        await dec.first_data()
        self.startup_ms = (time.monotonic() - asked) * 1000
        if dec.finished:  # nothing to play (an unreadable track, or a start past its end)
            self._current = None
            if dec.code == 0 and not self.standby:
                self._call(self.on_end(dec.track_id, self.position_ms()))
            self.failed = dec.code != 0
            return
        # Where the track should be now: skip what played while ffmpeg started (once that much is decoded),
        # or wait for a start in the future.
        while True:
            now_ms = self.start_ms + (time.monotonic() - asked) * 1000
            if now_ms < 0:
                await asyncio.sleep(-now_ms / 1000)
                continue
            need = int((now_ms - decoded_from) * PCM_RATE / 1000)
            if len(dec.buf) // _FRAME > need or dec.eof:
                break
            await asyncio.sleep(0.005)
        dec.take(need * _FRAME)
        self._frames = (decoded_from - self.start_ms) * PCM_RATE // 1000 + need
        self._sounding = True
        if not self.standby:
            self.on_playing(dec.track_id, self.position_ms())
        if self.sink != "null" and (self._sink is None or self._sink.returncode is not None):
            self._sink = await asyncio.create_subprocess_exec(
                *sink_argv(self.binary, self.sink), stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
        t0, out = time.monotonic(), 0
        while True:
            await asyncio.sleep(_TICK_S)
            due = int((time.monotonic() - t0) * PCM_RATE) - out
            if due <= 0:
                continue
            pcm, got, done = await self._pull(due)
            out += due
            if got < due and not done:
                t0 += (due - got) / PCM_RATE  # an underrun: the audio paused, the clock does not catch up
                out -= due - got
            await self._write(pcm)
            if done:
                self._current = None
                return

    async def _pull(self, n: int) -> tuple[bytes, int, bool]:
        """`n` frames to play: from the current track, then the next one gaplessly; (pcm, frames, ended)."""
        dec = self._current
        assert dec is not None
        k = max(-int(n * _MAX_RATE), min(int(n * _MAX_RATE) + 1, self._correction))
        raw = dec.take((n + k) * _FRAME)
        taken = len(raw) // _FRAME
        self._frames += taken
        self._correction -= k if taken == n + k else 0
        if k and taken == n + k:
            idx = np.linspace(0, n + k - 1, n).round().astype(np.int64)
            raw = np.frombuffer(raw, dtype=np.int16).reshape(-1, PCM_CHANNELS)[idx].tobytes()
            taken = n
        if dec.eof and self._next is None and self.upcoming:  # prefetch: the next track, ready in time
            self._next = self._decoder(self.upcoming, 0)
            self._call(self._next.start())  # not awaited: the clock of what plays must not wait for a spawn
        if not dec.finished:
            return raw, taken, False
        ended_at = self.position_ms()
        nxt, self._next = self._next, None
        if dec.code != 0 or nxt is None:
            if dec.code == 0 and not self.standby:
                self._call(self.on_end(dec.track_id, ended_at))
            self.failed = dec.code != 0
            return raw, taken, True
        # Gapless: the next track's first samples follow in the same tick.
        self._current, self.track_id, self.start_ms, self._frames, self._correction = nxt, nxt.track_id, 0, 0, 0
        self.upcoming = None  # the next state names the one after
        rest = nxt.take((n - taken) * _FRAME)
        self._frames = len(rest) // _FRAME
        if not self.standby:
            self._call(self.on_end(dec.track_id, ended_at))
            self.on_playing(nxt.track_id, 0)
        await dec.close()
        return raw + rest, taken + self._frames, False

    async def _write(self, pcm: bytes) -> None:
        if self.standby:
            return
        if self.volume != 100:
            a = np.frombuffer(pcm, dtype=np.int16).astype(np.float32) * (self.volume / 100)
            pcm = a.astype(np.int16).tobytes()
        sink = self._sink
        if self.sink == "null" or sink is None or sink.stdin is None:
            return
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sink.stdin.write(pcm)
            await sink.stdin.drain()

    def _call(self, coro: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._callbacks.add(task)
        task.add_done_callback(self._callbacks.discard)

    async def stop(self) -> int:
        """Fall silent at once; the position reached."""
        task, cur, nxt = self._task, self._current, self._next
        self._task, self._current, self._next = None, None, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
        for d in (cur, nxt):
            if d is not None:
                await d.close()
        return self.position_ms()

    async def close(self) -> None:
        """Stop, and end the sound output's process."""
        await self.stop()
        sink, self._sink = self._sink, None
        if sink is not None and sink.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                sink.kill()
            await sink.wait()
