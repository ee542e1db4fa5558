"""The background transcoder on a real library: progress, resume after a restart, stale tiers, a full cache."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from musicd.devtools.library_builder import BuiltLibrary


def touch(p: Path) -> None:
    p.write_bytes(p.read_bytes())  # same bytes, new mtime: a new source version


async def test_pass_status_resume_and_stale(services_for, library_copy: BuiltLibrary,  # type: ignore[no-untyped-def]
                                            tmp_path: Path) -> None:
    data = tmp_path / "d"
    async with services_for(library_copy.root, data_dir=data) as s:
        await s.library.scan()
        await s.transcoder.load()
        st = await s.transcoding.status()
        assert st.wanted > 0 and st.done == 0 and st.pending == st.wanted
        assert set(st.by_tier) == {"low", "normal", "high"}
        first = await s.transcoding.run_pass(limit=5)
        assert first.made == 5 and first.failed == 0 and first.stopped == ""
        assert (await s.transcoding.status()).done == 5
        rest = await s.transcoding.run_pass()
        assert rest.made == st.wanted - 5
        st2 = await s.transcoding.status()
        assert st2.done == st.wanted and st2.pending == 0 and st2.cache_bytes > 0
        assert (await s.transcoding.run_pass()).made == 0, "nothing left to do"
        wanted = st.wanted

    async with services_for(library_copy.root, data_dir=data) as s:  # a restart resumes from the folder
        await s.transcoder.load()
        st = await s.transcoding.status()
        assert st.done == wanted and st.cache_files == wanted
        # A changed source: its old tiers are stale and get made again.
        row = await s.db.fetchone("SELECT id, path FROM tracks WHERE format = 'flac' LIMIT 1")
        touch(Path(row[1]))
        await s.library.scan()
        assert (await s.transcoding.status()).pending > 0
        again = await s.transcoding.run_pass()
        assert again.removed_stale >= 1 and again.made == again.removed_stale
        assert (await s.transcoding.status()).pending == 0


async def test_stops_when_the_cache_is_full(services_for, built_library: BuiltLibrary) -> None:  # type: ignore[no-untyped-def]
    async with services_for(built_library.root) as s:
        await s.library.scan()
        await s.transcoder.load()
        s.transcoder.cache.max_bytes = 60_000
        summary = await s.transcoding.run_pass()
        assert summary.stopped == "cache_full"
        assert s.transcoder.cache.total_bytes <= 60_000
        assert (await s.transcoding.status()).pending > 0


@pytest.mark.slow
async def test_the_background_pass_waits_while_anyone_streams(services_for, built_library: BuiltLibrary) -> None:  # type: ignore[no-untyped-def]
    """No background encoder runs beside the household's streams: a track starts only after
    `pre_transcode_quiet_seconds` without a stream; then the pass makes every tier."""
    import asyncio

    async with services_for(built_library.root) as s:
        await s.library.scan()
        await s.transcoder.load()
        s.transcoding.cfg = msgspec.structs.replace(s.transcoding.cfg, pre_transcode_quiet_seconds=0.5)
        track = (await s.db.fetchone("SELECT id FROM tracks LIMIT 1"))[0]
        wanted = (await s.transcoding.status()).wanted
        background = asyncio.create_task(s.transcoding.background_pass())
        try:
            for _ in range(15):  # someone listens: a stream opened every 0.1 s for 1.5 s
                await s.playback.open_track(track, "original")
                await asyncio.sleep(0.1)
            assert (await s.transcoding.status()).done == 0 and not background.done()
            summary = await asyncio.wait_for(background, 120)  # quiet now: the pass runs to its end
            assert summary.made == wanted and (await s.transcoding.status()).pending == 0
        finally:
            background.cancel()
            await asyncio.gather(background, return_exceptions=True)
