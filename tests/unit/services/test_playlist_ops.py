"""Playlist edits through the order keys (services/playlist_ops.py) on a real database against the pure
model (domain.playlists.apply_ops): the same list after every edit, for hundreds of random edits of every
kind; and each `playlist_changed` carries operations that, replayed on the list before, give the list after."""

from __future__ import annotations

import random

from musicd.devtools.library_builder import BuiltLibrary
from musicd.domain.events import PlaylistChanged
from musicd.domain.playlists import (
    Append,
    EditOp,
    Insert,
    PlaylistEntry,
    RemoveAt,
    RemoveTracks,
    Reorder,
    Replace,
    apply_ops,
)
from musicd.errors import ValidationError
from musicd.services.registry import Services


def _op(rng: random.Random, n: int, tracks: list[str]) -> list[EditOp]:
    kind = rng.choice(["append", "insert", "remove", "remove_at", "reorder", "reorder", "replace", "two"])
    pick = lambda k: [rng.choice(tracks) for _ in range(k)]  # noqa: E731
    if kind == "append" or n == 0:
        return [Append(pick(rng.randint(1, 4)))]
    if kind == "insert":
        return [Insert(pick(rng.randint(1, 3)), rng.randint(0, n))]
    if kind == "remove":
        return [RemoveTracks(pick(1))]
    if kind == "remove_at":
        ps = sorted(rng.sample(range(n), min(n, rng.randint(1, 3))))
        return [RemoveAt(ps, [None] * len(ps))]
    if kind == "replace" and rng.random() < 0.2:
        return [Replace(pick(rng.randint(0, 8)))]
    if kind == "two":  # Subsonic's updatePlaylist: removals by index, then an append
        return [RemoveAt([rng.randrange(n)], [None]), Append(pick(2))]
    start = rng.randrange(n)
    return [Reorder(start, rng.randint(0, n), range_length=rng.randint(1, min(4, n - start)))]


async def _items(s: Services, user: object, pid: str) -> list[str]:
    _, items = await s.playlists.subsonic_get(user, pid)  # type: ignore[arg-type]
    return [i.entry.track_id for i in items]


async def test_order_key_edits_match_the_model(services_for, built_library: BuiltLibrary) -> None:
    async with services_for(built_library.root) as s:
        await s.library.scan()
        tracks = [r[0] for r in await s.db.fetchall("SELECT id FROM tracks ORDER BY path")][:8]
        alice = await s.accounts.create("alice", "long-enough-pw")
        events = s.bus.listen("test", (PlaylistChanged,))
        pl = await s.playlists.create(alice, "Model", public=False)
        rng = random.Random(3)
        model: list[str] = []
        applied = 0
        for _ in range(300):
            ops = _op(rng, len(model), tracks)
            try:
                want, _ = apply_ops([PlaylistEntry(t, None, "") for t in model], ops, None, "")
            except ValidationError:
                continue
            await s.playlists._edit(alice, pl.id, ops, None, "update")
            got = await _items(s, alice, pl.id)
            assert got == [e.track_id for e in want], ops
            ev = events.get_nowait()
            while ev is not None and ev.playlist_id != pl.id:
                ev = events.get_nowait()
            assert ev is not None
            # The event's operations, as applied, replay on the list before to the list after.
            replayed, _ = apply_ops([PlaylistEntry(t, None, "") for t in model], list(ev.operations), None, "")
            assert [e.track_id for e in replayed] == got
            assert not any(isinstance(op, RemoveTracks) for op in ev.operations)
            model = got
            applied += 1
        assert applied > 200
        keys = [r[0] for r in await s.db.fetchall(
            "SELECT order_key FROM playlist_entries WHERE playlist_id = ? ORDER BY order_key", (pl.id,))]
        assert max(len(k) for k in keys) < 40, "keys stay short under random edits"
