"""The server-held playback state of one user and the pure rules that change it.

One `PlayerState` per user: what plays (from which context), the play order (shuffled or not), the
play-next queue, where in the track and when that was true, playing or paused, repeat, volume and the
active device. `version` grows with every change; a command or a device report made against an older
version is refused by the service (a late report never takes control back).

Position rule: `position_at(state, now)` extrapolates only while playing, and never past the track's end.
"""

from __future__ import annotations

import random
from typing import Literal

import msgspec

__all__ = [
    "DEVICE_KINDS",
    "MAX_QUEUE",
    "MAX_TRACKS",
    "Device",
    "PlayerState",
    "Repeat",
    "advance",
    "position_at",
    "shuffled_order",
    "with_position",
]

Repeat = Literal["off", "track", "context"]

MAX_TRACKS = 10_000  # tracks of one context
MAX_QUEUE = 1_000  # play-next items
PREVIOUS_RESTARTS_MS = 3_000  # "previous" after this far into a track restarts it (as Spotify does)


class PlayerState(msgspec.Struct, frozen=True, kw_only=True):
    """A user's playback. `order` lists indexes of `tracks` in play order; `pos` is where in `order` the
    current context track is. `current` is the playing track: the context's, or a play-next item when
    `from_queue`. `position_ms` was true at `updated_at` (epoch seconds)."""

    user_id: str
    version: int = 0
    device_id: str | None = None
    context_uri: str | None = None
    tracks: list[str] = msgspec.field(default_factory=list)
    order: list[int] = msgspec.field(default_factory=list)
    pos: int = 0
    queue: list[str] = msgspec.field(default_factory=list)
    current: str | None = None
    from_queue: bool = False
    duration_ms: int = 0
    position_ms: int = 0
    updated_at: float = 0.0
    playing: bool = False
    shuffle: bool = False
    repeat: Repeat = "off"
    volume: int = 100
    seed: int = 0  # of the shuffle order, so a restart keeps it
    changed_by: str | None = None  # device id (or "api") whose command or report made this version
    cause: str = "init"  # what made this version: play, pause, seek, transfer, report, ...

    @property
    def active(self) -> bool:
        """Whether there is something to play."""
        return self.current is not None


def position_at(state: PlayerState, now: float) -> int:
    """Where the track is at `now`: extrapolated while playing, never past its end, never negative."""
    pos = state.position_ms
    if state.playing and now > state.updated_at:
        pos += int((now - state.updated_at) * 1000)
    if state.duration_ms > 0:
        pos = min(pos, state.duration_ms)
    return max(0, pos)


def with_position(state: PlayerState, now: float) -> PlayerState:
    """The state with its position brought to `now` (same version)."""
    return msgspec.structs.replace(state, position_ms=position_at(state, now), updated_at=now)


def shuffled_order(n: int, first: int | None, seed: int) -> list[int]:
    """A play order of `n` tracks from `seed`, starting with `first` when given."""
    rest = [i for i in range(n) if i != first]
    random.Random(seed).shuffle(rest)
    return ([first] if first is not None and 0 <= first < n else []) + rest


def advance(state: PlayerState, step: int, position_ms: int, auto: bool = False) -> tuple[str | None, bool, int, bool]:
    """The track after (step=1) or before (step=-1) the current one: (track, from_queue, new pos, stopped).

    Next takes the play-next queue first. Repeat `context` wraps around; `track` repeats only when the
    track ended by itself (`auto`). Previous more than 3 s into a track restarts it."""
    if step < 0:
        if position_ms > PREVIOUS_RESTARTS_MS or not state.order:
            return state.current, state.from_queue, state.pos, False
        p = state.pos - 1 if not state.from_queue else state.pos
        if p < 0:
            p = len(state.order) - 1 if state.repeat == "context" else 0
        return state.tracks[state.order[p]], False, p, False
    if auto and state.repeat == "track" and state.current is not None:
        return state.current, state.from_queue, state.pos, False
    if state.queue:
        return state.queue[0], True, state.pos, False
    if not state.order:
        return None, False, 0, True
    p = state.pos + 1  # after a play-next item too: `pos` is the context track played before it
    if p >= len(state.order):
        if state.repeat != "context":
            # The end of the context: stay on its last track, paused at its end.
            last = len(state.order) - 1
            return state.tracks[state.order[last]], False, last, True
        p = 0
    return state.tracks[state.order[p]], False, p, False


DEVICE_KINDS = ("web", "speaker", "subsonic")


class Device(msgspec.Struct, frozen=True, kw_only=True):
    """A place playback can happen: a web player tab, a `musicd speaker`, a Subsonic app.
    `type` is Spotify's device type (Computer, Speaker, Smartphone, ...)."""

    id: str
    user_id: str
    name: str
    kind: str
    type: str = "Computer"
    supports_volume: bool = True
    last_seen: float = 0.0
