"""Playlists: the entity, its entries, snapshot ids, and the pure edit logic that decides stale-snapshot merges.

Every change bumps the playlist's version (its `snapshot_id`). A change sent against an older snapshot
is merged when it commutes with the changes made since (it is then applied as-is to the current list)
and refused otherwise. To decide, each change records `low`: the first entry index it touched (None
when it touched no entry). A change that depends on the entries at indices `[0, need)` commutes with
every later change whose `low >= need`, because that prefix is then unchanged.
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Sequence

import msgspec

from musicd.domain.catalog import TrackView
from musicd.errors import ConflictError, ValidationError

__all__ = [
    "MAX_ITEMS",
    "Append",
    "EditOp",
    "Insert",
    "Playlist",
    "PlaylistEntry",
    "PlaylistItem",
    "RemoveAt",
    "RemoveTracks",
    "Reorder",
    "Replace",
    "Viewer",
    "apply_ops",
    "check_merge",
    "needs_prefix",
    "parse_snapshot",
    "snapshot_id",
]

MAX_ITEMS = 10_000  # Spotify's limit on a playlist's length


class Playlist(msgspec.Struct, frozen=True):
    """A user's playlist with its counts; `version` is what `snapshot_id` encodes."""

    id: str
    owner_id: str
    owner_name: str
    name: str
    description: str
    public: bool
    collaborative: bool
    version: int
    cover_id: str | None  # an uploaded cover
    first_cover_id: str | None  # the cover of the first entry's track, shown when none was uploaded
    total: int  # entries
    followers: int
    created_at: str
    updated_at: str

    @property
    def snapshot_id(self) -> str:
        return snapshot_id(self.id, self.version)

    @property
    def image_id(self) -> str | None:
        return self.cover_id or self.first_cover_id


class Viewer(msgspec.Struct, frozen=True):
    """How the asking user relates to a playlist."""

    owner: bool
    collaborator: bool
    following: bool


class PlaylistEntry(msgspec.Struct, frozen=True):
    """One slot of a playlist: a track, who added it and when."""

    track_id: str
    added_by: str | None
    added_at: str


class PlaylistItem(msgspec.Struct, frozen=True):
    """An entry at its index with the track resolved (None when the track is gone)."""

    position: int
    entry: PlaylistEntry
    track: TrackView | None


# Edit operations on the entry list; positions are 0-based indices into the list as the client saw it.


class Append(msgspec.Struct, frozen=True, tag="append"):
    track_ids: list[str]


class Insert(msgspec.Struct, frozen=True, tag="insert"):
    track_ids: list[str]
    position: int


class RemoveTracks(msgspec.Struct, frozen=True, tag="remove_tracks"):
    """Remove every occurrence of these tracks."""

    track_ids: list[str]


class RemoveAt(msgspec.Struct, frozen=True, tag="remove_at"):
    """Remove the entries at these indices; `expected[i]` (when set) must be the track at `positions[i]`."""

    positions: list[int]
    expected: list[str | None]


class Reorder(msgspec.Struct, frozen=True, tag="reorder"):
    range_start: int
    insert_before: int
    range_length: int = 1


class Replace(msgspec.Struct, frozen=True, tag="replace"):
    track_ids: list[str]


EditOp = Append | Insert | RemoveTracks | RemoveAt | Reorder | Replace


def snapshot_id(playlist_id: str, version: int) -> str:
    """The opaque snapshot id of a playlist version."""
    raw = f"{version}:{playlist_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def parse_snapshot(playlist_id: str, snapshot: str) -> int:
    """The version a snapshot id of this playlist names; ValidationError when it is not one."""
    try:
        raw = base64.urlsafe_b64decode(snapshot + "=" * (-len(snapshot) % 4)).decode()
        version, _, pid = raw.partition(":")
        n = int(version)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        n, pid = -1, ""
    if pid != playlist_id or n < 1:
        raise ValidationError("snapshot_id is not a snapshot of this playlist", code="invalid_snapshot")
    return n


def needs_prefix(op: EditOp) -> float | None:
    """How many leading entries `op`'s meaning depends on (None: none, inf: the whole list)."""
    match op:
        case Append() | RemoveTracks():
            return None
        case Insert(position=p):
            return p
        case RemoveAt(positions=ps):
            return max(ps) + 1 if ps else None
        case Reorder(range_start=rs, range_length=rl, insert_before=ib):
            return max(rs + rl, ib)
        case Replace():
            return math.inf
    raise TypeError(op)


def check_merge(ops: Sequence[EditOp], base: int, current: int, lows: dict[int, int | None]) -> None:
    """Raise the 409 `snapshot_conflict` unless `ops`, made against version `base`, commute with what followed.

    `lows` maps each later version to the first index it touched; a version missing from it (the log was
    pruned, or the scanner removed tracks) counts as having touched index 0.
    """
    if base > current:
        raise ValidationError("snapshot_id is newer than the playlist", code="invalid_snapshot")
    needs = [n for n in (needs_prefix(op) for op in ops) if n is not None]
    if base == current or not needs:
        return
    need = max(needs)
    for v in range(base + 1, current + 1):
        low = lows.get(v, 0)
        if low is not None and low < need:
            raise ConflictError(
                f"the playlist changed since that snapshot (version {v}) where this change depends on it",
                code="snapshot_conflict",
            )


def _reorder(items: list[PlaylistEntry], op: Reorder) -> tuple[list[PlaylistEntry], int | None]:
    n = len(items)
    rs, rl, ib = op.range_start, op.range_length, op.insert_before
    if rl < 1 or not 0 <= rs < n or rs + rl > n or not 0 <= ib <= n:
        raise ValidationError(
            f"range_start, range_length and insert_before must lie within the playlist's {n} items",
            code="invalid_range",
        )
    if rs <= ib <= rs + rl:
        return items, None  # moving a block to where it already is
    block = items[rs:rs + rl]
    if ib < rs:
        return items[:ib] + block + items[ib:rs] + items[rs + rl:], ib
    return items[:rs] + items[rs + rl:ib] + block + items[ib:], rs


def _apply(
    items: list[PlaylistEntry], op: EditOp, fresh: list[PlaylistEntry],
) -> tuple[list[PlaylistEntry], int | None]:
    match op:
        case Append():
            return items + fresh, len(items) if fresh else None
        case Insert(position=p):
            if not 0 <= p <= len(items):
                raise ValidationError(f"position must be between 0 and {len(items)}", code="invalid_position")
            return items[:p] + fresh + items[p:], p if fresh else None
        case RemoveTracks(track_ids=ids):
            gone = set(ids)
            kept = [e for e in items if e.track_id not in gone]
            low = next((i for i, e in enumerate(items) if e.track_id in gone), None)
            return kept, low
        case RemoveAt(positions=ps, expected=want):
            for p, tid in zip(ps, want, strict=True):
                if not 0 <= p < len(items):
                    raise ValidationError(f"position {p} is outside the playlist", code="invalid_position")
                if tid is not None and items[p].track_id != tid:
                    raise ValidationError(f"the item at position {p} is not {tid}", code="position_mismatch")
            drop = set(ps)
            return [e for i, e in enumerate(items) if i not in drop], min(ps) if ps else None
        case Reorder():
            return _reorder(items, op)
        case Replace():
            # Keep the entries of an unchanged prefix, so their added_at/added_by survive.
            low = 0
            while low < min(len(items), len(fresh)) and items[low].track_id == fresh[low].track_id:
                low += 1
            if low == len(items) == len(fresh):
                return items, None
            return items[:low] + fresh[low:], low
    raise TypeError(op)


def apply_ops(
    items: Sequence[PlaylistEntry], ops: Sequence[EditOp], added_by: str | None, added_at: str,
) -> tuple[list[PlaylistEntry], int | None]:
    """The entry list after `ops` (in order) and the first index they touched; ValidationError on bad input."""
    cur = list(items)
    low: int | None = None
    for op in ops:
        ids = getattr(op, "track_ids", [])
        fresh = [PlaylistEntry(t, added_by, added_at) for t in ids] if not isinstance(op, RemoveTracks) else []
        cur, op_low = _apply(cur, op, fresh)
        if op_low is not None:
            low = op_low if low is None else min(low, op_low)
    if len(cur) > MAX_ITEMS:
        raise ValidationError(f"a playlist holds at most {MAX_ITEMS} items", code="playlist_full")
    return cur, low
