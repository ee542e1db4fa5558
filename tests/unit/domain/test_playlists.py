"""The pure playlist edit logic: applying edits, snapshot ids, and when a stale edit may be merged."""

from __future__ import annotations

import random

import pytest

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
    apply_ops,
    check_merge,
    parse_snapshot,
    snapshot_id,
)
from musicd.errors import ConflictError, ValidationError


def _entries(*ids: str) -> list[PlaylistEntry]:
    return [PlaylistEntry(i, "u", "t0") for i in ids]


def _ids(entries: list[PlaylistEntry]) -> list[str]:
    return [e.track_id for e in entries]


def _run(ids: list[str], *ops: EditOp) -> tuple[list[str], int | None]:
    new, low = apply_ops(_entries(*ids), list(ops), "me", "t1")
    return _ids(new), low


def test_append_insert_and_their_low() -> None:
    assert _run(["a", "b"], Append(["c", "d"])) == (["a", "b", "c", "d"], 2)
    assert _run(["a", "b"], Insert(["x"], 1)) == (["a", "x", "b"], 1)
    assert _run(["a", "b"], Insert(["x"], 2)) == (["a", "b", "x"], 2)
    with pytest.raises(ValidationError):
        _run(["a", "b"], Insert(["x"], 3))


def test_new_entries_carry_who_and_when_and_old_ones_keep_theirs() -> None:
    new, _ = apply_ops(_entries("a"), [Append(["b"])], "bob", "t9")
    assert new == [PlaylistEntry("a", "u", "t0"), PlaylistEntry("b", "bob", "t9")]


def test_remove_by_track_and_by_position() -> None:
    assert _run(["a", "b", "a", "c"], RemoveTracks(["a"])) == (["b", "c"], 0)
    assert _run(["a", "b", "a", "c"], RemoveTracks(["z"])) == (["a", "b", "a", "c"], None)
    assert _run(["a", "b", "a", "c"], RemoveAt([2], ["a"])) == (["a", "b", "c"], 2)
    with pytest.raises(ValidationError) as e:
        _run(["a", "b"], RemoveAt([1], ["a"]))
    assert e.value.code == "position_mismatch"
    with pytest.raises(ValidationError):
        _run(["a", "b"], RemoveAt([5], [None]))


@pytest.mark.parametrize(("start", "length", "before", "want", "low"), [
    (0, 1, 3, ["b", "c", "a", "d", "e"], 0),  # Spotify's example: first item to just before the fourth
    (3, 2, 0, ["d", "e", "a", "b", "c"], 0),
    (1, 2, 5, ["a", "d", "e", "b", "c"], 1),
    (1, 2, 2, ["a", "b", "c", "d", "e"], None),  # into itself: nothing moves
    (1, 2, 3, ["a", "b", "c", "d", "e"], None),
])
def test_reorder(start: int, length: int, before: int, want: list[str], low: int | None) -> None:
    assert _run(list("abcde"), Reorder(range_start=start, range_length=length, insert_before=before)) == (want, low)


@pytest.mark.parametrize("op", [Reorder(5, 0), Reorder(0, 6), Reorder(4, 0, range_length=2), Reorder(0, 1, 0)])
def test_reorder_out_of_range_is_a_400(op: Reorder) -> None:
    with pytest.raises(ValidationError):
        _run(list("abcde"), op)


def test_replace_keeps_the_unchanged_prefix() -> None:
    new, low = apply_ops(_entries("a", "b", "c"), [Replace(["a", "b", "x"])], "me", "t1")
    assert _ids(new) == ["a", "b", "x"] and low == 2
    assert new[0].added_at == "t0" and new[2].added_at == "t1"
    assert _run(["a"], Replace(["a"])) == (["a"], None)
    assert _run(["a", "b"], Replace([])) == ([], 0)


def test_a_playlist_holds_at_most_ten_thousand_items() -> None:
    full = [f"t{i}" for i in range(MAX_ITEMS)]
    assert len(_run(full[:-1], Append(["x"]))[0]) == MAX_ITEMS
    with pytest.raises(ValidationError) as e:
        _run(full, Append(["x"]))
    assert e.value.code == "playlist_full"


def test_snapshot_ids_round_trip_and_belong_to_one_playlist() -> None:
    s = snapshot_id("P1", 42)
    assert parse_snapshot("P1", s) == 42
    for bad in ("", "garbage!", snapshot_id("P2", 42), "MA"):
        with pytest.raises(ValidationError):
            parse_snapshot("P1", bad)


def test_position_free_edits_always_merge() -> None:
    lows: dict[int, int | None] = {2: 0, 3: 0}
    check_merge([Append(["x"])], 1, 3, lows)
    check_merge([RemoveTracks(["x"])], 1, 3, lows)


def test_positional_edits_merge_only_when_their_prefix_is_untouched() -> None:
    check_merge([Reorder(0, 3, range_length=2)], 1, 3, {2: 5, 3: None})  # later changes at >= 5, or none
    check_merge([RemoveAt([3], ["a"])], 1, 2, {2: 4})
    with pytest.raises(ConflictError) as e:
        check_merge([RemoveAt([3], ["a"])], 1, 2, {2: 3})
    assert e.value.code == "snapshot_conflict"
    with pytest.raises(ConflictError):
        check_merge([Insert(["x"], 2)], 1, 3, {2: 5})  # version 3 is not in the log: counts as touching 0
    check_merge([Insert(["x"], 0)], 1, 3, {2: 0})  # inserting first depends on nothing
    with pytest.raises(ConflictError):
        check_merge([Replace(["x"])], 1, 2, {2: 7})
    check_merge([Replace(["x"])], 1, 2, {2: None})
    with pytest.raises(ValidationError):
        check_merge([Append(["x"])], 5, 3, {})


def _random_op(rng: random.Random, n: int, fresh: list[str]) -> EditOp:
    kinds = ["append", "remove"] + (["insert", "remove_at", "reorder"] if n else ["insert"])
    kind = rng.choice(kinds)
    if kind == "append":
        return Append([fresh.pop()])
    if kind == "insert":
        return Insert([fresh.pop()], rng.randint(0, n))
    if kind == "remove":
        return RemoveTracks([f"e{rng.randint(0, 40)}"])
    if kind == "remove_at":
        return RemoveAt([rng.randrange(n)], [None])
    start = rng.randrange(n)
    length = rng.randint(1, n - start)
    return Reorder(start, rng.randint(0, n), range_length=length)


def test_a_merged_stale_edit_does_to_the_same_items_what_it_meant() -> None:
    """Property: when check_merge lets an edit made against an old list through, applying it to the current
    list removes / moves / inserts next to the same items (by identity) as it would have on the old list."""
    rng = random.Random(7)
    fresh = [f"n{i}" for i in range(100_000)]
    merged = 0
    for _ in range(3000):
        base = [f"e{i}" for i in range(rng.randint(0, 12))]
        op = _random_op(rng, len(base), fresh)
        if isinstance(op, RemoveAt):
            op = RemoveAt(op.positions, [base[op.positions[0]]])
        cur, lows = list(base), {}
        for v in range(2, 2 + rng.randint(1, 3)):
            try:
                new, low = apply_ops(_entries(*cur), [_random_op(rng, len(cur), fresh)], "x", "t")
            except ValidationError:
                continue
            cur, lows[v] = _ids(new), low
        current = 1 + len(lows)
        lows = {i + 2: low for i, low in enumerate(lows.values())}
        try:
            check_merge([op], 1, current, lows)
        except ConflictError:
            continue
        merged += 1
        after, _ = apply_ops(_entries(*cur), [op], "me", "t")
        out = _ids(after)
        match op:
            case Insert(track_ids=[x], position=p):
                prev = base[p - 1] if p else None
                assert (out.index(x) == 0) if prev is None else out[out.index(x) - 1] == prev
            case RemoveAt(expected=[gone]):
                assert out.count(gone) == cur.count(gone) - 1
            case Reorder(range_start=s, range_length=n, insert_before=b) if not s <= b <= s + n:
                block = base[s:s + n]
                i = out.index(block[0])
                assert out[i:i + n] == block
                assert (i == 0) if b == 0 else out[i - 1] == base[b - 1]
    assert merged > 300
