"""Play events: clients report start / progress / end, the bus carries them, a batch writer stores plays.

A play counts (one listening_history row, +1 on the track's play count, "recently played") once
it has lasted 30 s or half the track, whichever comes first, or at once for a Subsonic scrobble
submission. Later events of the same play only lengthen its stored `ms_played`. Skips never reach
the history. The writer commits every 1,000 events or 10 s, so a crash loses at most that window;
`close()` drains the queue, so a clean shutdown loses nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from datetime import UTC, datetime

import msgspec

from musicd.domain import events as ev
from musicd.errors import ValidationError
from musicd.logs import get_logger
from musicd.services.bus import EventBus
from musicd.store.history import HistoryRepository, NewPlay, PlayUpdate

__all__ = ["EVENT_KINDS", "TOPIC", "NowPlaying", "PlayEvent", "PlayEventService"]

log = get_logger("musicd.plays")

TOPIC = "player.events"  # legacy topic of the batch writer (see musicd.services.bus)
EVENT_KINDS = ("start", "progress", "end", "scrobble")
_TYPED: dict[str, type[ev.PlayEvent]] = {
    "start": ev.PlayStarted, "progress": ev.PlayProgressed, "end": ev.PlayEnded, "scrobble": ev.PlayScrobbled,
}
COUNT_AFTER_MS = 30_000
_OPEN_PLAY_TTL_S = 6 * 3600
_NOW_PLAYING_TTL_S = 15 * 60


class PlayEvent(msgspec.Struct, frozen=True):
    """One report from a player; `at` is when it happened (POSIX seconds, server clock by default)."""

    user_id: str
    track_id: str
    event: str
    at: float
    position_ms: int = 0
    ms_played: int = 0
    context_uri: str | None = None
    device_id: str | None = None


class NowPlaying(msgspec.Struct, frozen=True):
    user_id: str
    track_id: str
    device_id: str | None
    started_at: float
    position_ms: int
    updated_at: float


class _Play:
    __slots__ = ("context_uri", "counted", "device_id", "ms_played", "played_at", "seen", "stored_ms")

    def __init__(self, e: PlayEvent, started: float) -> None:
        self.played_at = _iso(started)
        self.ms_played = 0
        self.stored_ms = 0
        self.counted = False
        self.context_uri = e.context_uri
        self.device_id = e.device_id
        self.seen = e.at


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class PlayEventService:
    def __init__(
        self, repo: HistoryRepository, bus: EventBus, *, batch_size: int = 1000, window_s: float = 10.0,
        on_written: Callable[[int, int], None] | None = None,
    ) -> None:
        self.repo = repo
        self.bus = bus
        self.batch_size = batch_size
        self.window_s = window_s
        self._queue = bus.subscribe(TOPIC)
        self._open: dict[tuple[str, str, str], _Play] = {}
        self._durations: dict[str, float] = {}
        self._now: dict[tuple[str, str], NowPlaying] = {}
        self._on_written = on_written
        self._write_lock = asyncio.Lock()
        self._inflight: list[PlayEvent] = []
        self._writing: asyncio.Future[None] | None = None
        self.written_events = 0
        self.written_plays = 0

    # ---- producer side: request handlers ----

    def submit(self, event: PlayEvent) -> None:
        """Validate and publish one event (never blocks, never touches the database)."""
        if event.event not in EVENT_KINDS:
            raise ValidationError(f"event must be one of {', '.join(EVENT_KINDS)}", code="invalid_event")
        if event.position_ms < 0 or event.ms_played < 0:
            raise ValidationError("position_ms and ms_played must be >= 0", code="invalid_event")
        key = (event.user_id, event.device_id or "")
        if event.event in ("start", "progress"):
            prev = self._now.get(key)
            started = prev.started_at if prev and prev.track_id == event.track_id and event.event != "start" \
                else event.at - event.position_ms / 1000
            self._now[key] = NowPlaying(event.user_id, event.track_id, event.device_id, started,
                                        event.position_ms, event.at)
        elif event.event == "end":
            self._now.pop(key, None)
        self.bus.publish(TOPIC, event)
        typed = _TYPED[event.event]
        extra = {"ms_played": event.ms_played} if typed is ev.PlayEnded else {}
        self.bus.publish(typed(at=event.at, user_id=event.user_id, track_id=event.track_id, device_id=event.device_id,
                               context_uri=event.context_uri, position_ms=event.position_ms, **extra))

    def now_playing(self) -> list[NowPlaying]:
        """What each user's devices are playing (reported in the last 15 minutes), newest first."""
        cutoff = time.time() - _NOW_PLAYING_TTL_S
        for k in [k for k, v in self._now.items() if v.updated_at < cutoff]:
            del self._now[k]
        return sorted(self._now.values(), key=lambda n: n.updated_at, reverse=True)

    def pending(self) -> int:
        return self._queue.qsize()

    # ---- consumer side: the batch writer ----

    async def run(self) -> None:
        """The writer loop: one transaction per `batch_size` events or `window_s` seconds."""
        loop = asyncio.get_running_loop()
        while True:
            first = await self._queue.get()
            # Kept on self while it fills: a shutdown during the window hands it to close().
            self._inflight = batch = [first]
            deadline = loop.time() + self.window_s
            while len(batch) < self.batch_size:
                try:
                    batch.append(self._queue.get_nowait())
                    continue
                except asyncio.QueueEmpty:
                    pass
                timeout = deadline - loop.time()
                if timeout <= 0:
                    break
                try:
                    batch.append(await asyncio.wait_for(self._queue.get(), timeout))
                except TimeoutError:
                    break
            self._inflight = []
            # Shielded: a shutdown never interrupts a transaction half-way; close() waits for it.
            self._writing = asyncio.ensure_future(self._write(batch))
            try:
                await asyncio.shield(self._writing)
            except asyncio.CancelledError:
                raise
            except Exception as e:  # a failed batch is logged; the loop must keep serving
                log.error("plays.write_failed", events=len(batch), error=str(e))

    async def flush(self) -> int:
        """Write everything queued now (and a batch the stopped writer was filling); returns the events written."""
        if self._writing is not None and not self._writing.done():
            with contextlib.suppress(Exception):
                await self._writing
        n = 0
        if self._inflight:
            batch, self._inflight = self._inflight, []
            await self._write(batch)
            n += len(batch)
        while not self._queue.empty():
            batch = []
            while len(batch) < self.batch_size and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            await self._write(batch)
            n += len(batch)
        return n

    async def close(self) -> None:
        """Drain the queue into the database (called on shutdown after the writer task is stopped)."""
        try:
            n = await self.flush()
        except Exception as e:
            log.error("plays.flush_failed", error=str(e))
            return
        if n:
            log.info("plays.flushed", events=n)

    async def _write(self, batch: list[PlayEvent]) -> None:
        async with self._write_lock:
            missing = list({e.track_id for e in batch if e.track_id not in self._durations})
            if missing:
                if len(self._durations) > 100_000:
                    self._durations.clear()
                found = await self.repo.durations(missing)
                for tid in missing:
                    self._durations[tid] = found.get(tid, 0.0)
            new: dict[tuple[str, str, str], NewPlay] = {}
            updates: dict[tuple[str, str, str], PlayUpdate] = {}
            counts: dict[str, tuple[int, str]] = {}
            for e in batch:
                self._apply(e, new, updates, counts)
            self._expire(batch[-1].at if batch else time.time())
            await self.repo.write_batch(
                list(new.values()), list(updates.values()), [(n, last, tid) for tid, (n, last) in counts.items()]
            )
            self.written_events += len(batch)
            self.written_plays += len(new)
            if self._on_written:
                self._on_written(len(batch), len(new))

    def _apply(self, e: PlayEvent, new: dict[tuple[str, str, str], NewPlay],
               updates: dict[tuple[str, str, str], PlayUpdate], counts: dict[str, tuple[int, str]]) -> None:
        duration = self._durations.get(e.track_id)
        if duration is None or duration <= 0:
            return  # not a track of this library (removed meanwhile, or a bad id): nothing to count
        key = (e.user_id, e.device_id or "", e.track_id)
        play = self._open.get(key)
        if e.event == "start" or play is None:
            play = _Play(e, e.at - (e.ms_played or e.position_ms) / 1000)
            self._open[key] = play
        play.seen = e.at
        play.ms_played = max(play.ms_played, e.ms_played)
        if e.context_uri:
            play.context_uri = e.context_uri
        threshold = min(COUNT_AFTER_MS, duration * 500)
        if not play.counted and (e.event == "scrobble" or play.ms_played >= threshold):
            play.counted = True
            play.stored_ms = play.ms_played
            pk = (e.user_id, play.played_at, e.track_id)
            new[pk] = (e.user_id, e.track_id, play.played_at, play.ms_played, play.context_uri, play.device_id)
            n, last = counts.get(e.track_id, (0, ""))
            counts[e.track_id] = (n + 1, max(last, play.played_at))
        elif play.counted and play.ms_played > play.stored_ms:
            play.stored_ms = play.ms_played
            pk = (e.user_id, play.played_at, e.track_id)
            if pk in new:
                row = new[pk]
                new[pk] = (*row[:3], play.ms_played, *row[4:])  # type: ignore[assignment]
            else:
                updates[pk] = (play.ms_played, e.user_id, play.played_at, e.track_id)
        if e.event in ("end", "scrobble"):
            self._open.pop(key, None)

    def _expire(self, now: float) -> None:
        if len(self._open) < 1024:
            return
        cutoff = now - _OPEN_PLAY_TTL_S
        for k in [k for k, p in self._open.items() if p.seen < cutoff]:
            del self._open[k]
