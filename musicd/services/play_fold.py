"""When a play counts: folding journaled play events and the open plays into history rows and counts.

A play counts (one listening_history row, +1 on the track's play count, "recently played") once it has
lasted 30 s or half the track, whichever comes first, or at once for a Subsonic scrobble submission.
Later events of the same play only lengthen its stored `ms_played`. Skips never reach the history.
Events of tracks that are not in the library (removed meanwhile, or a bad id) are dropped.

`plan_fold` is pure: it gets a batch of journal rows and the open plays they touch, and says what to
write. A row it cannot make sense of is parked with the reason instead of failing the batch.
"""

from __future__ import annotations

import math

from musicd.domain.stamps import epoch_iso
from musicd.store.history import FoldWrites, JournalRow, NewPlay, OpenPlay, PlayUpdate, SessionKey

__all__ = ["COUNT_AFTER_MS", "EVENT_KINDS", "MAX_EVENT_MS", "check_time", "check_values", "describe_time", "plan_fold"]

EVENT_KINDS = ("start", "progress", "end", "scrobble")
COUNT_AFTER_MS = 30_000
MAX_EVENT_MS = 24 * 3600 * 1000  # a position or listening time longer than a day is a client bug
OPEN_PLAY_TTL_S = 6 * 3600
_LATEST_S = 253_402_300_799  # 9999-12-31T23:59:59Z, the last instant an ISO timestamp can name


def _shown(v: object) -> str:
    """A value for a message (a 5,000-digit integer cannot even be turned into text)."""
    if isinstance(v, int) and not -(10**30) < v < 10**30:
        return "a number out of range"
    return repr(v)


def check_values(event: str, position_ms: int, ms_played: int) -> str | None:
    """Why an event's kind or numbers cannot be stored (None when they can)."""
    if event not in EVENT_KINDS:
        return f"event must be one of {', '.join(EVENT_KINDS)}, not {event!r}"
    for name, ms in (("position (position_ms)", position_ms), ("listening time (ms_played)", ms_played)):
        if not isinstance(ms, int) or not 0 <= ms <= MAX_EVENT_MS:
            return f"{name} must be between 0 and {MAX_EVENT_MS} ms (a day), not {_shown(ms)}"
    return None


def check_time(at: float) -> str | None:
    """Why `at` (POSIX seconds) cannot be stored as a play's time (None when it can)."""
    if not isinstance(at, int | float) or not math.isfinite(at) or not 0 <= at <= _LATEST_S:
        return f"time {_shown(at)} is not a time a play can have happened"
    return None


def describe_time(at: float) -> str:
    """A POSIX time for a message: ISO when it names a date, else the value itself."""
    try:
        return epoch_iso(at)
    except (ValueError, OverflowError, OSError, TypeError):
        return _shown(at)


class _Fold:
    def __init__(self, open_plays: dict[SessionKey, OpenPlay], now: float) -> None:
        self.stored = open_plays  # read for this fold only: changed in place
        self.now = now
        self.plays: dict[SessionKey, OpenPlay | None] = {}  # every key touched; None once the play ended
        self.new: list[NewPlay] = []
        # The history row in `new` of each key's current play. Two plays can share a start millisecond (two
        # devices, two scrobbles of one track), so neither their times nor their keys tell their rows apart.
        self.row_of: dict[SessionKey, int] = {}
        self.updates: dict[tuple[str, str, str, str | None], PlayUpdate] = {}
        self.counts: dict[str, tuple[int, str]] = {}

    def apply(self, e: JournalRow) -> None:
        if e.duration is None or e.duration <= 0:
            return  # not a track of this library: nothing to count
        key = (e.user_id, e.device_id or "", e.track_id)
        play = self.plays[key] if key in self.plays else self.stored.get(key)
        if e.event == "start" or play is None:
            play = OpenPlay(*key, epoch_iso(e.at - (e.ms_played or e.position_ms) / 1000), 0, 0, False, e.context_uri,
                            e.device_id, self.now)
            self.row_of.pop(key, None)
        self.plays[key] = play
        play.seen = self.now  # server time: a play is forgotten when no event of it arrived for 6 h
        play.ms_played = max(play.ms_played, e.ms_played)
        if e.context_uri:
            play.context_uri = e.context_uri
        threshold = min(COUNT_AFTER_MS, e.duration * 500)
        if not play.counted and (e.event == "scrobble" or play.ms_played >= threshold):
            play.counted = True
            play.stored_ms = play.ms_played
            self.row_of[key] = len(self.new)
            self.new.append((e.user_id, e.track_id, play.played_at, play.ms_played, play.context_uri,
                             play.device_id))
            n, last = self.counts.get(e.track_id, (0, ""))
            self.counts[e.track_id] = (n + 1, max(last, play.played_at))
        elif play.counted and play.ms_played > play.stored_ms:
            play.stored_ms = play.ms_played
            if key in self.row_of:
                u, t, at, _, ctx, dev = self.new[self.row_of[key]]
                self.new[self.row_of[key]] = (u, t, at, play.ms_played, ctx, dev)
            else:
                pk = (e.user_id, play.played_at, e.track_id, play.device_id)
                self.updates[pk] = (play.ms_played, *pk)
        if e.event in ("end", "scrobble"):
            self.plays[key] = None
            self.row_of.pop(key, None)

    def writes(self, parked: list[tuple[int, str]]) -> FoldWrites:
        return FoldWrites(new=self.new, updates=list(self.updates.values()),
                          counts=[(n, last, tid) for tid, (n, last) in self.counts.items()],
                          sessions=[p for p in self.plays.values() if p is not None],
                          closed=[k for k, p in self.plays.items() if p is None and k in self.stored],
                          parked=parked, expire_before=self.now - OPEN_PLAY_TTL_S)


def plan_fold(rows: list[JournalRow], open_plays: dict[SessionKey, OpenPlay], now: float) -> FoldWrites:
    """What folding `rows` (oldest first) into the history writes, given the open plays they touch."""
    fold = _Fold(open_plays, now)
    parked: list[tuple[int, str]] = []
    for e in rows:
        why = check_values(e.event, e.position_ms, e.ms_played) or check_time(e.at)
        if why is None:
            try:
                fold.apply(e)
            except (ValueError, OverflowError, OSError, TypeError) as exc:  # checked above; kept as a last guard
                why = f"{type(exc).__name__}: {exc}"
        if why is not None:
            parked.append((e.id, why))
    return fold.writes(parked)
