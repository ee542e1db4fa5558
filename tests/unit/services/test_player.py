"""The server-held playback state on a real database: commands, version ordering, reports, restart."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from musicd.devtools.library_builder import BuiltLibrary
from musicd.errors import PlayerError, ValidationError
from musicd.services.player import Context
from musicd.services.registry import Services


async def _setup(s: Services) -> tuple:  # type: ignore[type-arg]
    await s.library.scan()
    user = await s.accounts.create("pat", "long-enough-pw")
    album = (await s.db.fetchone("SELECT album_id FROM tracks GROUP BY album_id HAVING count(*) >= 3"))[0]
    dev = await s.devices.register(user.id, 1, {"name": "Speaker A", "kind": "speaker"})
    return user, album, dev.id


async def test_commands_grow_the_version_and_the_state_survives_a_restart(
        services_for, built_library: BuiltLibrary, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data = tmp_path / "data"
    async with services_for(built_library.root, data_dir=data) as s:
        user, album, dev = await _setup(s)
        with pytest.raises(PlayerError) as e:
            await s.player.play(user, Context("album", album))
        assert e.value.reason == "NO_ACTIVE_DEVICE" and e.value.status == 404
        st = await s.player.play(user, Context("album", album), offset=1, position_ms=2_000, device_id=dev)
        assert st.playing and st.device_id == dev and st.version == 1 and st.position_ms == 2_000
        tracks = st.tracks
        assert st.current == tracks[1]
        st = await s.player.pause(user)
        assert not st.playing and st.version == 2
        paused_at = st.position_ms
        await asyncio.sleep(0.3)
        assert (await s.player.state(user.id)).position_ms == paused_at
        st = await s.player.set_repeat(user, "context")
        st = await s.player.set_shuffle(user, True)
        assert st.order[st.pos] == 1 and sorted(st.order) == list(range(len(tracks)))
        order, version = st.order, st.version
    async with services_for(built_library.root, data_dir=data) as s:
        st = await s.player.state(user.id)
        assert st.version == version and st.order == order and st.repeat == "context" and st.shuffle
        assert st.position_ms == paused_at and not st.playing and st.current == tracks[1]


async def test_reports_are_ordered_by_version(services_for, built_library: BuiltLibrary) -> None:  # type: ignore[no-untyped-def]
    async with services_for(built_library.root) as s:
        user, album, dev = await _setup(s)
        other = (await s.devices.register(user.id, 2, {"name": "Speaker B", "kind": "speaker"})).id
        st = await s.player.play(user, Context("album", album), device_id=dev)
        v = st.version
        st = await s.player.report(user, dev, v, st.current, 1_500, True)
        assert st.version == v + 1 and st.position_ms == 1_500
        # A report against an older version (a command came in between) is refused and changes nothing.
        with pytest.raises(PlayerError) as e:
            await s.player.report(user, dev, v, st.current, 1_800, True)
        assert e.value.code == "stale_state"
        # Past the end, from the future, from a version that does not exist yet: refused.
        for bad in ({"position_ms": st.duration_ms + 5_000}, {"at": time.time() + 60}, {"version": st.version + 5}):
            with pytest.raises((ValidationError, PlayerError)):
                await s.player.report(user, dev, bad.get("version", st.version), st.current,
                                      bad.get("position_ms", 100), True, at=bad.get("at"))
        assert (await s.player.state(user.id)).version == st.version
        # Transfer: the old device's late report is refused; the new one takes the position on.
        await asyncio.sleep(0.2)
        moved = await s.player.transfer(user, other)
        assert moved.device_id == other and moved.playing
        assert 1_500 + 200 <= moved.position_ms <= 1_500 + 1_000
        with pytest.raises(PlayerError) as e:
            await s.player.report(user, dev, moved.version, st.current, 1_900, True)
        assert e.value.code == "not_active_device"
        # The expected version of a controller: two racing controllers, the second is refused.
        await s.player.pause(user, expected=moved.version)
        with pytest.raises(PlayerError) as e:
            await s.player.seek(user, 0, expected=moved.version)
        assert e.value.code == "stale_state"


async def test_end_of_track_reports_advance_and_play_next_comes_first(
        services_for, built_library: BuiltLibrary) -> None:  # type: ignore[no-untyped-def]
    async with services_for(built_library.root) as s:
        user, album, dev = await _setup(s)
        st = await s.player.play(user, Context("album", album), device_id=dev)
        extra = st.tracks[-1]
        st = await s.player.add_to_queue(user, extra)
        st = await s.player.report(user, dev, st.version, st.current, st.duration_ms, True, ended=True)
        assert st.current == extra and st.from_queue and st.queue == [] and st.position_ms == 0
        st = await s.player.skip(user, 1)
        assert st.current == st.tracks[1]
        st = await s.player.skip(user, -1)
        assert st.current == st.tracks[0]
