"""When a play counts: folding journaled play events and the open plays into history rows and counts.

A play counts (one listening_history row, +1 on the track's play count, "recently played") once it has
lasted 30 s or half the track, whichever comes first, or at once for a Subsonic scrobble submission.
Later events of the same play only lengthen its stored `ms_played`. Skips never reach the history.
Events of tracks that are not in the library (removed meanwhile, or a bad id) are dropped.

`plan_fold` is pure: it gets a batch of journal rows and the open plays they touch, and says what to
write. A row it cannot make sense of is parked with the reason instead of failing the batch.
"""

from __future__ import annotations

import itertools
import math
from datetime import UTC, datetime

from musicd.store.history import FoldWrites, JournalRow, NewPlay, PlayUpdate, SessionKey, SessionRow

__all__ = ["COUNT_AFTER_MS", "EVENT_KINDS", "MAX_EVENT_MS", "check_row", "describe_time", "plan_fold"]

EVENT_KINDS = ("start", "progress", "end", "scrobble")
COUNT_AFTER_MS = 30_000
MAX_EVENT_MS = 24 * 3600 * 1000  # a position or listening time longer than a day is a client bug
OPEN_PLAY_TTL_S = 6 * 3600
_tokens = itertools.count()
_LATEST_S = 253_402_300_799  # 9999-12-31T23:59:59Z, the last instant an ISO timestamp can name


def _shown(v: object) -> str:
    """A value for a message (a 5,000-digit integer cannot even be turned into text)."""
    if isinstance(v, int) and not -(10**30) < v < 10**30:
        return "a number out of range"
    return repr(v)


def check_row(event: str, at: float, position_ms: int, ms_played: int) -> str | None:
    """Why an event cannot be stored (None when it can): the bounds every stored event keeps."""
    if event not in EVENT_KINDS:
        return f"event must be one of {', '.join(EVENT_KINDS)}, not {event!r}"
    for name, ms in (("position (position_ms)", position_ms), ("listening time (ms_played)", ms_played)):
        if not isinstance(ms, int) or not 0 <= ms <= MAX_EVENT_MS:
            return f"{name} must be between 0 and {MAX_EVENT_MS} ms (a day), not {_shown(ms)}"
    if not isinstance(at, int | float) or not math.isfinite(at) or not 0 <= at <= _LATEST_S:
        return f"time {_shown(at)} is not a time a play can have happened"
    return None


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def describe_time(at: float) -> str:
    """A POSIX time for a message: ISO when it names a date, else the value itself."""
    try:
        return _iso(at)
    except (ValueError, OverflowError, OSError, TypeError):
        return _shown(at)


class _Play:
    """A working copy of an open play (a SessionRow) while a batch is folded."""

    __slots__ = ("context_uri", "counted", "device_id", "ms_played", "played_at", "seen", "stored_ms", "token")

    def __init__(self, played_at: str, ms_played: int, stored_ms: int, counted: bool, context_uri: str | None,
                 device_id: str | None, seen: float) -> None:
        # Which play this is within the fold: two plays can share a start millisecond (two devices, two
        # scrobbles of one track), so neither their times nor their keys tell them apart.
        self.token = next(_tokens)
        self.played_at = played_at
        self.ms_played = ms_played
        self.stored_ms = stored_ms
        self.counted = counted
        self.context_uri = context_uri
        self.device_id = device_id
        self.seen = seen


class _Fold:
    def __init__(self, open_plays: dict[SessionKey, SessionRow], now: float) -> None:
        self.stored = open_plays
        self.now = now
        self.plays: dict[SessionKey, _Play | None] = {}  # every key touched; None once the play ended
        self.new: dict[int, NewPlay] = {}  # by play token
        self.updates: dict[tuple[str, str, str, str | None], PlayUpdate] = {}
        self.counts: dict[str, tuple[int, str]] = {}

    def play(self, key: SessionKey) -> _Play | None:
        if key in self.plays:
            return self.plays[key]
        s = self.stored.get(key)
        return None if s is None else _Play(s.played_at, s.ms_played, s.stored_ms, s.counted, s.context_uri,
                                            s.device_id, s.seen)

    def apply(self, e: JournalRow) -> None:
        if e.duration is None or e.duration <= 0:
            return  # not a track of this library: nothing to count
        key = (e.user_id, e.device_id or "", e.track_id)
        play = self.play(key)
        if e.event == "start" or play is None:
            play = _Play(_iso(e.at - (e.ms_played or e.position_ms) / 1000), 0, 0, False, e.context_uri,
                         e.device_id, self.now)
        self.plays[key] = play
        play.seen = self.now  # server time: a play is forgotten when no event of it arrived for 6 h
        play.ms_played = max(play.ms_played, e.ms_played)
        if e.context_uri:
            play.context_uri = e.context_uri
        threshold = min(COUNT_AFTER_MS, e.duration * 500)
        if not play.counted and (e.event == "scrobble" or play.ms_played >= threshold):
            play.counted = True
            play.stored_ms = play.ms_played
            self.new[play.token] = (e.user_id, e.track_id, play.played_at, play.ms_played, play.context_uri,
                                    play.device_id)
            n, last = self.counts.get(e.track_id, (0, ""))
            self.counts[e.track_id] = (n + 1, max(last, play.played_at))
        elif play.counted and play.ms_played > play.stored_ms:
            play.stored_ms = play.ms_played
            if play.token in self.new:
                row = self.new[play.token]
                self.new[play.token] = (row[0], row[1], row[2], play.ms_played, row[4], row[5])
            else:
                pk = (e.user_id, play.played_at, e.track_id, play.device_id)
                self.updates[pk] = (play.ms_played, *pk)
        if e.event in ("end", "scrobble"):
            self.plays[key] = None

    def writes(self, parked: list[tuple[int, str]]) -> FoldWrites:
        sessions = [SessionRow(*k, p.played_at, p.ms_played, p.stored_ms, p.counted, p.context_uri, p.device_id,
                               p.seen) for k, p in self.plays.items() if p is not None]
        closed = [k for k, p in self.plays.items() if p is None and k in self.stored]
        return FoldWrites(new=list(self.new.values()), updates=list(self.updates.values()),
                          counts=[(n, last, tid) for tid, (n, last) in self.counts.items()],
                          sessions=sessions, closed=closed, parked=parked, expire_before=self.now - OPEN_PLAY_TTL_S)


def plan_fold(rows: list[JournalRow], open_plays: dict[SessionKey, SessionRow], now: float) -> FoldWrites:
    """What folding `rows` (oldest first) into the history writes, given the open plays they touch."""
    fold = _Fold(open_plays, now)
    parked: list[tuple[int, str]] = []
    for e in rows:
        why = check_row(e.event, e.at, e.position_ms, e.ms_played)
        if why is None:
            try:
                fold.apply(e)
            except (ValueError, OverflowError, OSError, TypeError) as exc:  # checked above; kept as a last guard
                why = f"{type(exc).__name__}: {exc}"
        if why is not None:
            parked.append((e.id, why))
    return fold.writes(parked)
