"""Play events: clients report start / progress / end / scrobble; each is journaled before it is
acknowledged, and a batch writer folds the journal into the listening history (services/play_fold.py
says when a play counts).

The request path does one small insert into the journal (store/history.py says what that promises
for a crash and for a power cut) and nothing else: the folding into history and counts happens in the
writer, every 1,000 events or 10 s, in one transaction that also deletes the folded rows. Events left in
the journal by a crash are folded at start before the server answers. The writer reads only the journal,
never the bus: the bus carries the events as notifications for whoever listens, and may drop them.

Every event is checked here, for both APIs, before it is journaled: one bad value gets a clear error and
never reaches the writer; a row the database still refuses is parked on its own and the rest written.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

import msgspec

from musicd.domain import events as ev
from musicd.errors import ValidationError
from musicd.logs import get_logger
from musicd.services.bus import EventBus
from musicd.services.play_fold import (
    COUNT_AFTER_MS,
    EVENT_KINDS,
    MAX_EVENT_MS,
    check_time,
    check_values,
    describe_time,
    plan_fold,
)
from musicd.store.history import (
    FoldWrites,
    HistoryRepository,
    JournalEntry,
    JournalRow,
    OpenPlay,
    RejectedRow,
    SessionKey,
)

__all__ = ["COUNT_AFTER_MS", "EVENT_KINDS", "MAX_EVENT_MS", "NowPlaying", "PlayEvent", "PlayEventService"]

log = get_logger("musicd.plays")

MAX_AGE_S = 30 * 24 * 3600  # a play reported later than this (an offline phone, say) is refused
MAX_AHEAD_S = 10 * 60  # clients' clocks run a little fast; beyond this a time is a bug
_MAX_ID = 256
_MAX_URI = 1024
_TYPED: dict[str, type[ev.PlayEvent]] = {
    "start": ev.PlayStarted, "progress": ev.PlayProgressed, "end": ev.PlayEnded, "scrobble": ev.PlayScrobbled,
}
_NOW_PLAYING_TTL_S = 15 * 60
_BACKOFF_MAX_S = 30.0


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


def _check(e: PlayEvent, now: float) -> None:
    """Refuse an event that cannot be stored, with a message that names the value."""
    if (why := check_values(e.event, e.position_ms, e.ms_played)) is not None:
        raise ValidationError(why, code="invalid_event")
    if check_time(e.at) is not None or not now - MAX_AGE_S <= e.at <= now + MAX_AHEAD_S:
        raise ValidationError(f"the time of a play event must be within the last {MAX_AGE_S // 86400} days and not"
                              f" in the future, not {describe_time(e.at)}", code="invalid_timestamp")
    if not e.track_id or len(e.track_id) > _MAX_ID:
        raise ValidationError(f"track_id must be 1 to {_MAX_ID} characters", code="invalid_event")
    if e.device_id is not None and len(e.device_id) > _MAX_ID:
        raise ValidationError(f"device_id must be at most {_MAX_ID} characters", code="invalid_event")
    if e.context_uri is not None and len(e.context_uri) > _MAX_URI:
        raise ValidationError(f"context_uri must be at most {_MAX_URI} characters", code="invalid_event")


async def _settle(done: asyncio.Future[None], work: Coroutine[Any, Any, None]) -> None:
    try:
        await work
    except Exception as e:
        if not done.done():
            done.set_exception(e)
    else:
        if not done.done():
            done.set_result(None)


class PlayEventService:
    def __init__(
        self, repo: HistoryRepository, bus: EventBus, *, batch_size: int = 1000, window_s: float = 10.0,
        on_written: Callable[[int, int], None] | None = None,
    ) -> None:
        self.repo = repo
        self.bus = bus
        self.batch_size = batch_size
        self.window_s = window_s
        self._now: dict[tuple[str, str], NowPlaying] = {}
        self._on_written = on_written
        self._fold_lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._pending = 0
        self._running = False
        self._writing: asyncio.Future[int] | None = None
        self._to_journal: list[tuple[list[JournalEntry], asyncio.Future[None]]] = []
        self._appender: asyncio.Future[None] | None = None
        self.written_events = 0
        self.written_plays = 0
        self.parked_events = 0

    # ---- producer side: request handlers ----

    async def submit(self, events: Sequence[PlayEvent]) -> int:
        """Check events, journal them durably (one small transaction), then acknowledge: returns how many.

        All or nothing: one bad event refuses the whole request with a ValidationError."""
        now = time.time()
        for e in events:
            _check(e, now)
        if not events:
            return 0
        await self._journal([(e.user_id, e.track_id, e.event, e.at, e.position_ms, e.ms_played, e.context_uri,
                              e.device_id) for e in events])
        self._pending += len(events)
        self._wake.set()
        for e in events:
            self._track_now_playing(e)
            typed = _TYPED[e.event]
            extra = {"ms_played": e.ms_played} if typed is ev.PlayEnded else {}
            self.bus.publish(typed(at=e.at, user_id=e.user_id, track_id=e.track_id, device_id=e.device_id,
                                   context_uri=e.context_uri, position_ms=e.position_ms, **extra))
        return len(events)

    async def _journal(self, entries: list[JournalEntry]) -> None:
        """Group commit: the requests that arrive while a journal transaction runs share the next one, so
        concurrent clients cost one transaction per group, not one each."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._to_journal.append((entries, done))
        if self._appender is None:
            self._appender = asyncio.ensure_future(self._append_groups())
        await asyncio.shield(done)  # a client that hangs up does not take its group's transaction with it

    async def _append_groups(self) -> None:
        try:
            while self._to_journal:
                group, self._to_journal = self._to_journal, []
                if len(group) == 1:
                    await _settle(group[0][1], self.repo.append(group[0][0]))
                    continue
                try:
                    await self.repo.append([e for entries, _ in group for e in entries])
                except Exception:
                    # Some request's rows failed the group: each request alone, so only that one fails.
                    for entries, done in group:
                        await _settle(done, self.repo.append(entries))
                else:
                    for _, done in group:
                        if not done.done():
                            done.set_result(None)
        finally:
            self._appender = None

    def _track_now_playing(self, e: PlayEvent) -> None:
        key = (e.user_id, e.device_id or "")
        if e.event in ("start", "progress"):
            prev = self._now.get(key)
            started = prev.started_at if prev and prev.track_id == e.track_id and e.event != "start" \
                else e.at - e.position_ms / 1000
            self._now[key] = NowPlaying(e.user_id, e.track_id, e.device_id, started, e.position_ms, e.at)
        elif e.event == "end":
            self._now.pop(key, None)

    def now_playing(self) -> list[NowPlaying]:
        """What each user's devices are playing (reported in the last 15 minutes), newest first."""
        cutoff = time.time() - _NOW_PLAYING_TTL_S
        for k in [k for k, v in self._now.items() if v.updated_at < cutoff]:
            del self._now[k]
        return sorted(self._now.values(), key=lambda n: n.updated_at, reverse=True)

    def pending(self) -> int:
        """Events journaled and not folded yet."""
        return self._pending

    # ---- consumer side: the batch writer ----

    async def recover(self) -> int:
        """Fold what an earlier run left in the journal (a crash); called at start before serving."""
        self._pending = await self.repo.journal_size()
        if not self._pending:
            return 0
        try:
            n = await self.flush()
        except Exception as e:  # the writer loop retries; serving must not wait for a failing disk
            log.error("plays.replay_failed", pending=self._pending, error=str(e))
            return 0
        log.info("plays.replayed", events=n)
        return n

    async def run(self) -> None:
        """The writer loop: fold once `batch_size` events are journaled or `window_s` after the first."""
        loop = asyncio.get_running_loop()
        self._running = True
        failures = 0
        while True:
            while self._pending == 0:
                self._wake.clear()
                await self._wake.wait()
            deadline = loop.time() + self.window_s
            while self._pending < self.batch_size and (timeout := deadline - loop.time()) > 0:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout)
            # Shielded: a shutdown never interrupts a transaction half-way; close() waits for it.
            self._writing = asyncio.ensure_future(self._fold_all())
            try:
                await asyncio.shield(self._writing)
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as e:  # the database is failing (full disk, I/O): the events stay journaled
                failures += 1
                log.error("plays.write_failed", pending=self._pending, error=str(e), attempt=failures)
                await asyncio.sleep(min(_BACKOFF_MAX_S, 0.5 * 2 ** min(failures, 6)))

    async def flush(self) -> int:
        """Fold everything journaled now; returns the events folded."""
        if self._writing is not None and not self._writing.done():
            with contextlib.suppress(Exception):
                await self._writing
        return await self._fold_all()

    async def close(self) -> None:
        """Fold what is journaled (called on shutdown after the writer task is stopped)."""
        if not self._running:
            return  # a CLI command: the server's writer folds the journal, not us
        try:
            n = await self.flush()
        except Exception as e:
            log.error("plays.flush_failed", error=str(e))
            return
        if n:
            log.info("plays.flushed", events=n)

    async def _fold_all(self) -> int:
        total = 0
        async with self._fold_lock:
            while True:
                try:
                    n = await self._fold(self.batch_size)
                    more = n == self.batch_size and self._pending > 0
                except RejectedRow as e:
                    log.warning("plays.batch_refused", error=str(e))
                    n, more = await self._fold_one_by_one(), True
                total += n
                if not more:
                    return total

    async def _fold(self, limit: int, only: int | None = None) -> int:
        def plan(rows: list[JournalRow], open_plays: dict[SessionKey, OpenPlay]) -> FoldWrites:
            return plan_fold(rows, open_plays, time.time())

        n, w = await self.repo.fold(plan, limit, only)
        self._pending = max(0, self._pending - n)
        for jid, why in w.parked:
            log.warning("plays.parked", journal_id=jid, error=why)
        self.parked_events += len(w.parked)
        self.written_events += n
        self.written_plays += len(w.new)
        if n and self._on_written:
            self._on_written(n, len(w.new))
        return n

    async def _fold_one_by_one(self) -> int:
        """The database refused a batch: fold its rows one at a time and park the one it refuses."""
        n = 0
        for jid in await self.repo.journal_ids(self.batch_size):
            try:
                n += await self._fold(1, only=jid)
            except RejectedRow as e:
                await self.repo.park(jid, str(e))
                self._pending = max(0, self._pending - 1)
                self.parked_events += 1
                log.warning("plays.parked", journal_id=jid, error=str(e))
                n += 1
        return n
