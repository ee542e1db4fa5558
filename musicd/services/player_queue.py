"""Edits of what comes next in a user's playback (musicd's own /v1/me/player/queue extension).

What comes next is the play-next queue, then the context's order after the current track: the list GET
/v1/me/player/queue shows. A client names an item by its index in that list and the track it saw there;
when the list has moved since (the track is not there any more), the edit is refused with `stale_state`
instead of touching another item. Each function returns the changed fields of the `PlayerState`.
"""

from __future__ import annotations

from typing import Any

from musicd.domain.player import MAX_QUEUE, MAX_TRACKS, PlayerState
from musicd.errors import PlayerError, ValidationError

__all__ = ["jump_fields", "move_fields", "remove_fields"]


def _coming(s: PlayerState) -> int:
    return len(s.queue) + max(0, len(s.order) - s.pos - 1)


def _check(s: PlayerState, index: int, track_id: str) -> int:
    """The context position (in `order`) of the `index`-th coming item, or -1 for a play-next item."""
    coming = _coming(s)
    if not 0 <= index < coming:
        raise ValidationError(f"index must be 0 to {coming - 1}", code="invalid_index")
    at = -1 if index < len(s.queue) else s.pos + 1 + index - len(s.queue)
    if (s.queue[index] if at < 0 else s.tracks[s.order[at]]) != track_id:
        raise PlayerError("the queue changed", status=409, reason="STALE_STATE", code="stale_state")
    return at


def remove_fields(s: PlayerState, index: int, track_id: str) -> dict[str, Any]:
    """Take out the `index`-th coming item, when it is still `track_id`."""
    at = _check(s, index, track_id)
    if at < 0:
        return {"queue": s.queue[:index] + s.queue[index + 1:]}
    return {"order": s.order[:at] + s.order[at + 1:]}


def move_fields(s: PlayerState, index: int, track_id: str, to: int) -> dict[str, Any]:
    """Move the `index`-th coming item to be the `to`-th. Where it lands decides what it is: inside the
    play-next queue it is a queued item, among the context's tracks a context track (at the boundary it
    stays what it was)."""
    at = _check(s, index, track_id)
    if not 0 <= to < _coming(s):
        raise ValidationError(f"to must be 0 to {_coming(s) - 1}", code="invalid_index")
    queue, rest, tracks = list(s.queue), list(s.order[s.pos + 1:]), s.tracks
    queued = at < 0
    if queued:
        queue.pop(index)
    else:
        rest.pop(index - len(s.queue))
    if to < len(queue) or (to == len(queue) and queued):
        if len(queue) >= MAX_QUEUE:
            raise ValidationError(f"the queue holds at most {MAX_QUEUE} tracks", code="queue_full")
        queue.insert(to, track_id)
    else:
        if queued:  # a play-next track joins the context: it gets a place among the context's tracks
            if len(tracks) >= MAX_TRACKS:
                raise ValidationError(f"a context holds at most {MAX_TRACKS} tracks", code="queue_full")
            tracks = [*tracks, track_id]
            item = len(tracks) - 1
        else:
            item = s.order[at]
        rest.insert(to - len(queue), item)
    return {"queue": queue, "order": [*s.order[:s.pos + 1], *rest], "tracks": tracks}


def jump_fields(s: PlayerState, index: int, track_id: str) -> dict[str, Any]:
    """Play the `index`-th coming item now. A play-next item takes the queued items before it along
    (they were skipped); a context track leaves the play-next queue as it is."""
    at = _check(s, index, track_id)
    if at < 0:
        return {"current": track_id, "from_queue": True, "queue": s.queue[index + 1:], "position_ms": 0,
                "playing": True}
    return {"current": track_id, "from_queue": False, "pos": at, "position_ms": 0, "playing": True}
