"""The play-event pipeline on a real database: bus -> batch writer -> listening_history and play counts."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections import Counter
from pathlib import Path

from musicd.devtools.library_builder import BuiltLibrary
from musicd.services.play_events import PlayEvent, PlayEventService


async def _setup(s) -> tuple[list[str], list[tuple[str, float]]]:  # type: ignore[no-untyped-def]
    await s.library.scan()
    users = [(await s.accounts.create(f"u{i}", "long-enough-pw")).id for i in range(3)]
    rows = await s.db.fetchall("SELECT id, duration FROM tracks ORDER BY id")
    return users, [(r[0], float(r[1])) for r in rows]


async def test_ten_thousand_events(services_for, built_library: BuiltLibrary) -> None:  # type: ignore[no-untyped-def]
    async with services_for(built_library.root) as s:
        users, tracks = await _setup(s)
        svc: PlayEventService = s.play_events
        batches: list[int] = []
        ten = asyncio.Event()
        real_write = svc.repo.write_batch

        async def spy(new, updates, counts):  # type: ignore[no-untyped-def]
            batches.append(len(new))
            await real_write(new, updates, counts)
            if len(batches) == 10:
                ten.set()

        svc.repo.write_batch = spy  # type: ignore[method-assign]
        expected_plays: Counter[str] = Counter()
        t0 = time.time() - 3600
        n_events = 0
        for i in range(2500):
            user, (track, duration) = users[i % 3], tracks[i % len(tracks)]
            at = t0 + i * 0.5
            skip = i % 5 == 0  # a skip: never reaches half the track
            end_ms = 200 if skip else int(duration * 1000)
            for kind, ms in (("start", 0), ("progress", 100), ("progress", end_ms // 2 + 1 if not skip else 150),
                             ("end", end_ms)):
                svc.submit(PlayEvent(user, track, kind, at + ms / 1000, position_ms=ms, ms_played=ms,
                                     device_id=f"dev{i % 7}", context_uri=f"album:{i % 4}"))
                n_events += 1
            if not skip:
                expected_plays[track] += 1
        assert n_events == 10_000
        assert svc.pending() == 10_000, "submit only queues: nothing is written on the request path"

        writer = asyncio.create_task(svc.run())
        await asyncio.wait_for(ten.wait(), 30)
        await asyncio.sleep(0.05)
        writer.cancel()
        assert svc.written_events == n_events
        assert len(batches) == 10, "one transaction per 1,000 events"

        total = await s.db.fetchone("SELECT count(*), sum(ms_played) FROM listening_history")
        assert total[0] == sum(expected_plays.values()) == 2000
        rows = await s.db.fetchall("SELECT id, play_count, last_played_at FROM tracks")
        for tid, count, last in rows:
            assert count == expected_plays[tid], tid
            assert (last is not None) == (count > 0)
        # Each stored play has its full listening time (the end event lengthened the stored row).
        by_track = dict(tracks)
        hist = await s.db.fetchall("SELECT track_id, ms_played, context_uri, device_id FROM listening_history")
        for tid, ms, ctx, dev in hist:
            assert ms == int(by_track[tid] * 1000)
            assert ctx.startswith("album:") and dev.startswith("dev")
        per_user = await s.db.fetchone("SELECT sum(play_count) FROM user_track_plays")
        assert per_user[0] == 2000


async def test_flushed_on_clean_shutdown(services_for, built_library: BuiltLibrary,  # type: ignore[no-untyped-def]
                                         tmp_path: Path) -> None:
    data = tmp_path / "plays"
    async with services_for(built_library.root, data_dir=data) as s:
        users, tracks = await _setup(s)
        s.spawn("play-events", s.play_events.run())  # 10 s window: nothing would be written yet
        now = time.time()
        for i, (tid, _) in enumerate(tracks[:20]):
            s.play_events.submit(PlayEvent(users[0], tid, "scrobble", now - 100 + i, ms_played=5000))
        await asyncio.sleep(0.1)
        assert s.play_events.written_events == 0
    # services.close() stopped the writer and flushed the queue.
    with sqlite3.connect(data / "musicd.db") as db:
        assert db.execute("SELECT count(*) FROM listening_history").fetchone()[0] == 20
        assert db.execute("SELECT sum(play_count) FROM tracks").fetchone()[0] == 20


async def test_unknown_tracks_and_bad_events(services_for, built_library: BuiltLibrary) -> None:  # type: ignore[no-untyped-def]
    import pytest

    from musicd.errors import ValidationError

    async with services_for(built_library.root) as s:
        users, tracks = await _setup(s)
        with pytest.raises(ValidationError):
            s.play_events.submit(PlayEvent(users[0], tracks[0][0], "pause", time.time()))
        with pytest.raises(ValidationError):
            s.play_events.submit(PlayEvent(users[0], tracks[0][0], "end", time.time(), ms_played=-1))
        s.play_events.submit(PlayEvent(users[0], "no-such-track", "scrobble", time.time(), ms_played=9000))
        s.play_events.submit(PlayEvent(users[0], tracks[0][0], "start", time.time(), device_id="d1"))
        assert [n.track_id for n in s.play_events.now_playing()] == [tracks[0][0]]
        assert await s.play_events.flush() == 2
        assert (await s.db.fetchone("SELECT count(*) FROM listening_history"))[0] == 0
