"""The play-event pipeline on a real database: journal -> batch writer -> listening_history and play counts."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections import Counter
from pathlib import Path

import pytest

from musicd.devtools.library_builder import BuiltLibrary
from musicd.errors import ValidationError
from musicd.services.play_events import MAX_EVENT_MS, PlayEvent, PlayEventService


async def _setup(s) -> tuple[list[str], list[tuple[str, float]]]:  # type: ignore[no-untyped-def]
    await s.library.scan()
    users = [(await s.accounts.create(f"u{i}", "long-enough-pw")).id for i in range(3)]
    rows = await s.db.fetchall("SELECT id, duration FROM tracks ORDER BY id")
    return users, [(r[0], float(r[1])) for r in rows]


def _count(db: Path, sql: str) -> int:
    with sqlite3.connect(db) as c:
        return int(c.execute(sql).fetchone()[0] or 0)


async def test_ten_thousand_events(services_for, built_library: BuiltLibrary) -> None:  # type: ignore[no-untyped-def]
    async with services_for(built_library.root) as s:
        users, tracks = await _setup(s)
        svc: PlayEventService = s.play_events
        batches: list[int] = []
        ten = asyncio.Event()
        real_fold = svc.repo.fold

        async def spy(plan, limit, only=None):  # type: ignore[no-untyped-def]
            n, w = await real_fold(plan, limit, only)
            batches.append(n)
            if len(batches) == 10:
                ten.set()
            return n, w

        svc.repo.fold = spy  # type: ignore[method-assign]
        expected_plays: Counter[str] = Counter()
        t0 = time.time() - 3600
        events: list[PlayEvent] = []
        for i in range(2500):
            user, (track, duration) = users[i % 3], tracks[i % len(tracks)]
            at = t0 + i * 0.5
            skip = i % 5 == 0  # a skip: never reaches half the track
            end_ms = 200 if skip else int(duration * 1000)
            for kind, ms in (("start", 0), ("progress", 100), ("progress", end_ms // 2 + 1 if not skip else 150),
                             ("end", end_ms)):
                events.append(PlayEvent(user, track, kind, at + ms / 1000, position_ms=ms, ms_played=ms,
                                        device_id=f"dev{i % 7}", context_uri=f"album:{i % 4}"))
            if not skip:
                expected_plays[track] += 1
        assert len(events) == 10_000
        for i in range(0, len(events), 500):  # as clients send them: up to 500 per request
            assert await svc.submit(events[i:i + 500]) == 500
        assert svc.pending() == 10_000
        assert _count(s.db.path, "SELECT count(*) FROM play_journal") == 10_000
        assert _count(s.db.path, "SELECT count(*) FROM listening_history") == 0, "the request path only journals"

        writer = asyncio.create_task(svc.run())
        await asyncio.wait_for(ten.wait(), 30)
        await asyncio.sleep(0.05)
        writer.cancel()
        assert svc.written_events == 10_000 and svc.pending() == 0
        assert batches == [1000] * 10, "one transaction per 1,000 events"
        assert _count(s.db.path, "SELECT count(*) FROM play_journal") == 0, "folded rows leave the journal"

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
        assert _count(s.db.path, "SELECT count(*) FROM play_sessions") == 0, "every play ended"


async def test_flushed_on_clean_shutdown(services_for, built_library: BuiltLibrary,  # type: ignore[no-untyped-def]
                                         tmp_path: Path) -> None:
    data = tmp_path / "plays"
    async with services_for(built_library.root, data_dir=data) as s:
        users, tracks = await _setup(s)
        s.spawn("play-events", s.play_events.run())  # 10 s window: nothing would be written yet
        now = time.time()
        await s.play_events.submit([PlayEvent(users[0], tid, "scrobble", now - 100 + i, ms_played=5000)
                                    for i, (tid, _) in enumerate(tracks[:20])])
        await asyncio.sleep(0.1)
        assert s.play_events.written_events == 0
    # services.close() stopped the writer and folded the journal.
    assert _count(data / "musicd.db", "SELECT count(*) FROM listening_history") == 20
    assert _count(data / "musicd.db", "SELECT sum(play_count) FROM tracks") == 20
    assert _count(data / "musicd.db", "SELECT count(*) FROM play_journal") == 0


async def test_journal_outlives_the_process_and_open_plays_outlive_a_restart(  # type: ignore[no-untyped-def]
        services_for, built_library: BuiltLibrary, tmp_path: Path) -> None:
    """What a crash leaves in the journal is folded at the next start; a play counted before a restart is
    lengthened, not counted again, by its `end` after the restart."""
    data = tmp_path / "plays"
    now = time.time()
    async with services_for(built_library.root, data_dir=data) as s:
        users, tracks = await _setup(s)
        (a, da), (b, db_) = tracks[0], tracks[1]
        s.spawn("play-events", s.play_events.run())  # a server: the writer runs, and folds the journal at close
        await s.play_events.submit([
            PlayEvent(users[0], a, "start", now - 60, device_id="phone"),
            PlayEvent(users[0], a, "progress", now - 59, position_ms=int(da * 600), ms_played=int(da * 600),
                      device_id="phone"),
        ])
    # The play of `a` counted and is still open.
    assert _count(data / "musicd.db", "SELECT count(*) FROM listening_history") == 1
    assert _count(data / "musicd.db", "SELECT count(*) FROM play_sessions") == 1
    async with services_for(built_library.root, data_dir=data) as s:
        # A process that never runs the writer (a crash right after the acknowledgements) keeps the journal.
        await s.play_events.submit([
            PlayEvent(users[0], a, "end", now - 58, position_ms=int(da * 1000), ms_played=int(da * 1000),
                      device_id="phone"),
            PlayEvent(users[1], b, "scrobble", now - 30, ms_played=int(db_ * 1000)),
        ])
    assert _count(data / "musicd.db", "SELECT count(*) FROM play_journal") == 2
    async with services_for(built_library.root, data_dir=data) as s:
        assert await s.play_events.recover() == 2
        rows = await s.db.fetchall("SELECT user_id, track_id, ms_played FROM listening_history ORDER BY track_id")
        assert sorted(tuple(r) for r in rows) == sorted([(users[0], a, int(da * 1000)), (users[1], b, int(db_ * 1000))])
        counts = dict(await s.db.fetchall("SELECT id, play_count FROM tracks WHERE play_count > 0"))
        assert counts == {a: 1, b: 1}
        assert _count(data / "musicd.db", "SELECT count(*) FROM play_sessions") == 0


async def test_bad_values_are_refused_and_nothing_is_journaled(  # type: ignore[no-untyped-def]
        services_for, built_library: BuiltLibrary) -> None:
    async with services_for(built_library.root) as s:
        users, tracks = await _setup(s)
        u, t, now = users[0], tracks[0][0], time.time()
        bad = [
            (PlayEvent(u, t, "pause", now), "invalid_event"),
            (PlayEvent(u, t, "end", now, ms_played=-1), "invalid_event"),
            (PlayEvent(u, t, "progress", now, position_ms=2**63), "invalid_event"),
            (PlayEvent(u, t, "end", now, ms_played=2**63), "invalid_event"),
            (PlayEvent(u, t, "end", now, ms_played=10**5000), "invalid_event"),
            (PlayEvent(u, t, "end", now, ms_played=MAX_EVENT_MS + 1), "invalid_event"),
            (PlayEvent(u, t, "scrobble", 1e14), "invalid_timestamp"),
            (PlayEvent(u, t, "scrobble", float("inf")), "invalid_timestamp"),
            (PlayEvent(u, t, "scrobble", float("nan")), "invalid_timestamp"),
            (PlayEvent(u, t, "scrobble", now - 40 * 86400), "invalid_timestamp"),
            (PlayEvent(u, t, "scrobble", now + 3600), "invalid_timestamp"),
            (PlayEvent(u, "x" * 300, "scrobble", now), "invalid_event"),
            (PlayEvent(u, t, "start", now, context_uri="c" * 2000), "invalid_event"),
        ]
        for event, code in bad:
            with pytest.raises(ValidationError) as err:
                await s.play_events.submit([PlayEvent(u, t, "start", now), event])  # all or nothing
            assert err.value.code == code, event
            assert "internal" not in err.value.message
        assert s.play_events.pending() == 0
        assert _count(s.db.path, "SELECT count(*) FROM play_journal") == 0
        # An unknown track is accepted (the API checks ids where it can) and dropped by the writer.
        await s.play_events.submit([PlayEvent(u, "no-such-track", "scrobble", now, ms_played=9000),
                                    PlayEvent(u, t, "start", now, device_id="d1")])
        assert [n.track_id for n in s.play_events.now_playing()] == [t]
        assert await s.play_events.flush() == 2
        assert (await s.db.fetchone("SELECT count(*) FROM listening_history"))[0] == 0


async def test_a_poison_row_is_parked_and_the_rest_written(  # type: ignore[no-untyped-def]
        services_for, built_library: BuiltLibrary) -> None:
    """Rows that got into the journal anyway (an older server, a bug) never cost the other rows their plays:
    one the writer cannot read is parked, one the database refuses is found row by row and parked."""
    async with services_for(built_library.root) as s:
        users, tracks = await _setup(s)
        now = time.time()
        (poison_track, _), *good = tracks[:6]
        await s.db.execute(
            "CREATE TEMP TRIGGER refuse_poison BEFORE INSERT ON listening_history"
            f" WHEN NEW.track_id = '{poison_track}' BEGIN SELECT RAISE(ABORT, 'poison row'); END")
        entries = []
        for i, (tid, d) in enumerate(good):
            entries.append((users[i % 3], tid, "scrobble", now - 50 + i, 0, int(d * 1000), None, None))
            if i == 1:  # past the year 9999: no date at all (written straight into the journal)
                entries.append((users[0], tid, "scrobble", 1e14, 0, 1000, None, None))
            if i == 3:  # the database refuses it
                entries.append((users[1], poison_track, "scrobble", now - 40, 0, 1000, None, None))
        await s.play_events.repo.append(entries)
        assert await s.play_events.recover() == len(entries)
        rows = await s.db.fetchall("SELECT user_id, track_id FROM listening_history")
        assert sorted(tuple(r) for r in rows) == sorted((users[i % 3], tid) for i, (tid, _) in enumerate(good))
        assert s.play_events.parked_events == 2
        parked = await s.play_events.repo.parked()
        assert [p[1] for p in parked] == [users[0], users[1]]
        assert "not a time" in parked[0][2] and "poison row" in parked[1][2]
        assert _count(s.db.path, "SELECT count(*) FROM play_journal") == 0
        assert _count(s.db.path, "SELECT sum(play_count) FROM tracks") == len(good)


async def test_plays_that_start_in_the_same_millisecond_all_count(  # type: ignore[no-untyped-def]
        services_for, built_library: BuiltLibrary) -> None:
    """Two devices of one user starting one track in the same millisecond are two plays, and so are two
    scrobbles of one track with one time: each keeps its own row, and a later event lengthens only its own."""
    async with services_for(built_library.root) as s:
        users, tracks = await _setup(s)
        (t, d), at = tracks[0], time.time() - 100
        half, full = int(d * 600), int(d * 1000)
        await s.play_events.submit([
            *(PlayEvent(users[0], t, kind, at, position_ms=ms, ms_played=ms, device_id=dev)
              for dev in ("a", "b") for kind, ms in (("start", 0), ("progress", half))),
            PlayEvent(users[1], t, "scrobble", at, ms_played=full, device_id="subsonic:app"),
            PlayEvent(users[1], t, "scrobble", at, ms_played=full, device_id="subsonic:app"),
        ])
        assert await s.play_events.flush() == 6
        await s.play_events.submit([PlayEvent(users[0], t, "end", at + 1, position_ms=full, ms_played=full,
                                              device_id="a")])
        assert await s.play_events.flush() == 1
        rows = await s.db.fetchall("SELECT user_id, device_id, ms_played FROM listening_history")
        assert sorted(tuple(r) for r in rows) == sorted([(users[0], "a", full), (users[0], "b", half),
                                                         (users[1], "subsonic:app", full),
                                                         (users[1], "subsonic:app", full)])
        assert (await s.db.fetchone("SELECT play_count FROM tracks WHERE id = ?", (t,)))[0] == 4
        assert _count(s.db.path, "SELECT sum(play_count) FROM user_track_plays") == 4


async def test_concurrent_requests_share_journal_transactions(  # type: ignore[no-untyped-def]
        services_for, built_library: BuiltLibrary) -> None:
    """Requests that arrive together are journaled together (group commit); when the database refuses one
    request's rows, only that request fails."""
    async with services_for(built_library.root) as s:
        users, tracks = await _setup(s)
        repo, real_append, calls = s.play_events.repo, s.play_events.repo.append, []

        async def append(entries):  # type: ignore[no-untyped-def]
            calls.append(len(entries))
            if any(e[1] == "refused" for e in entries):
                raise OverflowError("Python int too large to convert to SQLite INTEGER")  # as sqlite3 says it
            await real_append(entries)

        repo.append = append  # type: ignore[method-assign]
        now = time.time()
        requests = [[PlayEvent(users[i % 3], tracks[i % len(tracks)][0], "scrobble", now, ms_played=1000)]
                    for i in range(40)]
        requests[17] = [PlayEvent(users[1], "refused", "scrobble", now, ms_played=1000)]
        results = await asyncio.gather(*(s.play_events.submit(r) for r in requests), return_exceptions=True)
        assert [i for i, r in enumerate(results) if isinstance(r, Exception)] == [17]
        assert all(r == 1 for i, r in enumerate(results) if i != 17)
        assert max(calls) > 1 and len(calls) <= 41, "the 40 requests shared a transaction, retried one by one"
        assert _count(s.db.path, "SELECT count(*) FROM play_journal") == 39 == s.play_events.pending()
