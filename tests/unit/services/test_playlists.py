"""PlaylistService on a real database: the Subsonic method set, visibility, and serialised concurrent edits."""

from __future__ import annotations

import asyncio

import pytest

from musicd.devtools.library_builder import BuiltLibrary
from musicd.errors import ConflictError, ForbiddenError, NotFoundError, ValidationError
from musicd.services.registry import Services


async def _setup(s: Services) -> tuple[list[str], dict[str, object]]:
    await s.library.scan()
    users = {name: await s.accounts.create(name, "long-enough-pw", role=role)
             for name, role in (("alice", "user"), ("bob", "user"), ("guest", "guest"), ("root", "admin"))}
    rows = await s.db.fetchall("SELECT id FROM tracks ORDER BY path")
    return [r[0] for r in rows], users


async def _ids(s: Services, user: object, pid: str) -> list[str]:
    _, items = await s.playlists.subsonic_get(user, pid)  # type: ignore[arg-type]
    return [i.entry.track_id for i in items]


async def test_subsonic_create_update_replace_delete(services_for, built_library: BuiltLibrary) -> None:
    async with services_for(built_library.root) as s:
        t, u = await _setup(s)
        alice, bob, guest, root = u["alice"], u["bob"], u["guest"], u["root"]
        pl = await s.playlists.subsonic_create(alice, "Sub", [t[0], t[1], t[2]])
        assert (pl.name, pl.total, pl.public, pl.owner_name) == ("Sub", 3, False, "alice")
        pl = await s.playlists.subsonic_update(alice, pl.id, name="Renamed", comment="note", public=True,
                                               add=[t[3], t[0]], remove_indexes=[0, 2])
        assert (pl.name, pl.description, pl.public) == ("Renamed", "note", True)
        assert await _ids(s, alice, pl.id) == [t[1], t[3], t[0]]  # indexes are of the list before the update
        pl = await s.playlists.subsonic_create(alice, None, [t[4], t[4]], playlist_id=pl.id)  # replaces
        assert await _ids(s, alice, pl.id) == [t[4], t[4]] and pl.name == "Renamed"

        # Everyone's public playlists are listed for Subsonic clients; private ones only for their owner.
        private = await s.playlists.subsonic_create(alice, "Mine", [])
        assert {p.id for p, _ in await s.playlists.subsonic_list(bob)} >= {pl.id}
        assert private.id not in {p.id for p, _ in await s.playlists.subsonic_list(bob)}
        assert private.id in {p.id for p, _ in await s.playlists.subsonic_list(alice)}
        assert {p.id for p, _ in await s.playlists.subsonic_list(root, alice.id)} == {pl.id, private.id}
        with pytest.raises(ForbiddenError):
            await s.playlists.subsonic_list(bob, alice.id)
        _, items = await s.playlists.subsonic_get(bob, pl.id)
        assert items[0].track is not None and items[0].track.id == t[4]
        with pytest.raises(NotFoundError):
            await s.playlists.subsonic_get(bob, private.id)

        with pytest.raises(ForbiddenError):
            await s.playlists.subsonic_update(bob, pl.id, add=[t[0]])
        with pytest.raises(ForbiddenError):
            await s.playlists.subsonic_update(bob, pl.id, name="Hijack")
        with pytest.raises(ForbiddenError):
            await s.playlists.subsonic_create(guest, "Nope", [])
        with pytest.raises(ValidationError):
            await s.playlists.subsonic_update(alice, pl.id, remove_indexes=[7])
        with pytest.raises(ValidationError):
            await s.playlists.subsonic_create(alice, "Bad", ["no-such-track"])
        with pytest.raises(ForbiddenError):
            await s.playlists.delete(bob, pl.id)
        await s.playlists.delete(alice, pl.id)
        with pytest.raises(NotFoundError):
            await s.playlists.subsonic_get(alice, pl.id)

        # Search resolves only what the asker may read.
        assert await s.playlists.lookup([private.id, "nope"], bob.id) == [None, None]
        assert [p.id if p else None for p in await s.playlists.lookup([private.id], alice.id)] == [private.id]


async def test_concurrent_appends_all_land_one_version_each(services_for, built_library: BuiltLibrary) -> None:
    async with services_for(built_library.root) as s:
        t, u = await _setup(s)
        alice = u["alice"]
        pl = await s.playlists.create(alice, "Busy", public=True)
        snaps = await asyncio.gather(*(s.playlists.add(alice, pl.id, [t[i % len(t)]], snapshot=pl.snapshot_id)
                                       for i in range(50)))
        assert len(set(snaps)) == 50  # every change got its own snapshot
        got, _ = await s.playlists.get(alice, pl.id)
        assert got.total == 50 and got.version == pl.version + 50
        assert sorted(await _ids(s, alice, pl.id)) == sorted(t[i % len(t)] for i in range(50))


async def test_tracks_removed_by_a_scan_leave_no_hole(services_for, built_library: BuiltLibrary) -> None:
    """The scanner deletes a gone track's entries and bumps the version without an edit log entry: reads and
    positions stay dense, and a stale positional edit across that bump is refused."""
    async with services_for(built_library.root) as s:
        t, u = await _setup(s)
        alice = u["alice"]
        pl = await s.playlists.create(alice, "Holes")
        old = await s.playlists.add(alice, pl.id, [t[0], t[1], t[2], t[1], t[3]])
        await s.library.catalog.remove_tracks([t[1]])
        got, page = await s.playlists.page(alice, pl.id)
        assert got.total == 3 and [i.entry.track_id for i in page.items] == [t[0], t[2], t[3]]
        assert [i.position for i in page.items] == [0, 1, 2]
        with pytest.raises(ConflictError):
            await s.playlists.remove(alice, pl.id, [(t[2], [1])], snapshot=old)
        await s.playlists.add(alice, pl.id, [t[4]], snapshot=old)  # an append still merges
        now = (await s.playlists.get(alice, pl.id))[0].snapshot_id
        await s.playlists.remove(alice, pl.id, [(t[2], [1])], snapshot=now)
        assert await _ids(s, alice, pl.id) == [t[0], t[3], t[4]]
        await s.playlists.reorder(alice, pl.id, 2, 0)
        assert await _ids(s, alice, pl.id) == [t[4], t[0], t[3]]
