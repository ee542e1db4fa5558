"""Playlist item edits applied to the stored entries through their fractional order keys.

Entries sort by an order key (the fractional-indexing scheme: a string that sorts between its two
neighbours), so an edit writes only the entries it adds, moves or removes: moving one entry of a
10,000-entry playlist updates one row, where dense positions rewrote every entry after it. Clients still
speak positions (Spotify's and Subsonic's APIs are positional): an index is an entry's rank, read by an
index walk that writes nothing.

Each edit comes back resolved: the operation as it applied to the list it met (a `remove_tracks` becomes
the `remove_at` of the entries it removed), which is what `playlist_changed` sends, so an open view at the
snapshot before can replay it in place.
"""

from __future__ import annotations

from collections.abc import Sequence

from fractional_indexing import generate_n_keys_between

from musicd.domain.playlists import (
    MAX_ITEMS,
    Append,
    EditOp,
    Insert,
    PlaylistEntry,
    RemoveAt,
    RemoveTracks,
    Reorder,
    Replace,
    check_merge,
)
from musicd.errors import ConflictError, ValidationError
from musicd.store.playlists import KeyedEntry, PlaylistEditor

__all__ = ["apply_op", "merge_stale", "rebase_reorder"]


def _conflict() -> ConflictError:
    return ConflictError("the playlist changed since that snapshot where this reorder depends on it",
                         code="snapshot_conflict")


def _full() -> ValidationError:
    return ValidationError(f"a playlist holds at most {MAX_ITEMS} items", code="playlist_full")


async def _put(ed: PlaylistEditor, track_ids: Sequence[str], lo: str | None, hi: str | None, by: str | None,
               at: str) -> None:
    """Insert entries for `track_ids` between the order keys `lo` and `hi` (None: the list's ends)."""
    keys = generate_n_keys_between(lo, hi, len(track_ids))
    await ed.insert([KeyedEntry(k, PlaylistEntry(t, by, at)) for k, t in zip(keys, track_ids, strict=True)])


async def _insert(ed: PlaylistEditor, n: int, track_ids: list[str], position: int, by: str | None,
                  at: str) -> None:
    if n + len(track_ids) > MAX_ITEMS:
        raise _full()
    if position == n:
        # Appends (the common case) read only the last key.
        lo, hi = await ed.last_key(), None
    else:
        pair = await ed.rows(position - 1, 2) if position > 0 else [None, *(await ed.rows(0, 1))]
        lo, hi = (pair[0].key if pair[0] else None), pair[1].key
    await _put(ed, track_ids, lo, hi, by, at)


async def _remove_at(ed: PlaylistEditor, n: int, op: RemoveAt) -> RemoveAt:
    for p in op.positions:
        if not 0 <= p < n:
            raise ValidationError(f"position {p} is outside the playlist", code="invalid_position")
    if not op.positions:
        return op
    first, last = min(op.positions), max(op.positions)
    span = await ed.rows(first, last - first + 1)
    picked = [span[p - first] for p in op.positions]
    for p, tid, row in zip(op.positions, op.expected, picked, strict=True):
        if tid is not None and row.entry.track_id != tid:
            raise ValidationError(f"the item at position {p} is not {tid}", code="position_mismatch")
    await ed.delete([(r.key, r.entry.track_id) for r in picked])
    ps = sorted(set(op.positions))
    return RemoveAt(ps, [span[p - first].entry.track_id for p in ps])


def _check_range(op: Reorder, n: int) -> None:
    rs, rl, ib = op.range_start, op.range_length, op.insert_before
    if rl < 1 or not 0 <= rs < n or rs + rl > n or not 0 <= ib <= n:
        raise ValidationError(
            f"range_start, range_length and insert_before must lie within the playlist's {n} items",
            code="invalid_range",
        )


async def rebase_reorder(ed: PlaylistEditor, op: Reorder, base: int) -> Reorder | None:
    """A reorder made on the older version `base`, moved onto the current list by the entries it named.

    The order of `base` is seen again by undoing the logged entry changes since; the block it named and
    the entry it was to go before are found in the current list by their order keys. None when a version
    since was not logged; the 409 snapshot_conflict when an entry named is gone or was moved, or the
    block was split.
    """
    logs = await ed.undo_logs(base)
    if logs is None:
        return None
    rows = await ed.rows()
    then = {r.key: r.entry.track_id for r in rows}
    for ch in logs:  # newest first
        for k in ch.added:
            then.pop(k, None)
        for k, t in ch.removed:
            then[k] = t
    order = sorted(then)  # code point order, as SQLite's BINARY collation of the keys
    rs, rl, ib = op.range_start, op.range_length, op.insert_before
    if rl < 1 or not 0 <= rs < len(order) or rs + rl > len(order) or not 0 <= ib <= len(order):
        raise _conflict()  # not a reorder of that snapshot
    block, anchor = order[rs:rs + rl], (order[ib] if ib < len(order) else None)
    rank = {r.key: i for i, r in enumerate(rows)}
    # A key given out since `base` may name another entry now (keys are reused once free): only keys
    # untouched since then still name the entries the sender saw.
    since = {k for ch in logs for k in ch.added}
    named = [*block, *([anchor] if anchor is not None else [])]
    if any(k not in rank or k in since for k in named):
        raise _conflict()
    start = rank[block[0]]
    if [rank[k] for k in block] != list(range(start, start + rl)):
        raise _conflict()
    return Reorder(range_start=start, insert_before=rank[anchor] if anchor is not None else len(rows),
                   range_length=rl)


async def _reorder(ed: PlaylistEditor, n: int, op: Reorder) -> Reorder | None:
    rs, rl, ib = op.range_start, op.range_length, op.insert_before
    _check_range(op, n)
    if rs <= ib <= rs + rl:
        return None  # moving a block to where it already is
    block = await ed.rows(rs, rl)
    lo = await ed.key_at(ib - 1)
    hi = await ed.key_at(ib) if ib < n else None
    new = generate_n_keys_between(lo, hi, rl)
    await ed.rekey(list(zip(block, new, strict=True)))
    return op


async def _replace(ed: PlaylistEditor, track_ids: list[str], by: str | None, at: str) -> int | None:
    if len(track_ids) > MAX_ITEMS:
        raise _full()
    rows = await ed.rows()
    # Keep the entries of an unchanged prefix, so their added_at/added_by survive.
    low = 0
    while low < min(len(rows), len(track_ids)) and rows[low].entry.track_id == track_ids[low]:
        low += 1
    if low == len(rows) == len(track_ids):
        return None
    await ed.delete([(r.key, r.entry.track_id) for r in rows[low:]])
    await _put(ed, track_ids[low:], rows[low - 1].key if low else None, None, by, at)
    return low


async def merge_stale(ed: PlaylistEditor, ops: Sequence[EditOp], base: int) -> Sequence[EditOp]:
    """`ops` made on version `base`, to apply now; the 409 snapshot_conflict when they cannot be.

    A reorder names entries: they are found again by their order keys and land where the sender meant
    (see rebase_reorder). Other edits, and reorders older than the edit log, merge when they commute.
    """
    if base < ed.version and len(ops) == 1 and isinstance(ops[0], Reorder):
        rebased = await rebase_reorder(ed, ops[0], base)
        if rebased is not None:
            return [rebased]
    check_merge(ops, base, ed.version, await ed.lows_since(base) if base < ed.version else {})
    return ops


async def apply_op(ed: PlaylistEditor, op: EditOp, by: str | None, at: str) -> tuple[EditOp | None, int | None]:
    """Apply one edit; (the edit as applied, None when it changed nothing; the first index it touched)."""
    n = await ed.count()
    match op:
        case Append(track_ids=ids):
            await _insert(ed, n, ids, n, by, at)
            return (op, n) if ids else (None, None)
        case Insert(track_ids=ids, position=p):
            if not 0 <= p <= n:
                raise ValidationError(f"position must be between 0 and {n}", code="invalid_position")
            await _insert(ed, n, ids, p, by, at)
            return (op, p) if ids else (None, None)
        case RemoveTracks(track_ids=ids):
            found = await ed.ranks_of(ids)
            if not found:
                return None, None
            await ed.delete([(k, t) for _, k, t in found])
            return RemoveAt([p for p, _, _ in found], [t for _, _, t in found]), found[0][0]
        case RemoveAt():
            done = await _remove_at(ed, n, op)
            return (done, min(done.positions)) if done.positions else (None, None)
        case Reorder():
            moved = await _reorder(ed, n, op)
            return (moved, min(op.range_start, op.insert_before)) if moved else (None, None)
        case Replace(track_ids=ids):
            low = await _replace(ed, ids, by, at)
            return (op, low) if low is not None else (None, None)
    raise TypeError(op)
