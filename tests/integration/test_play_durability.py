"""Acknowledged plays survive kill -9, and one bad play event never costs anyone else's plays (issue 13).

Real servers in subprocesses, real HTTP from the /v1 and Subsonic sides, the database read afterwards.
"""

from __future__ import annotations

import sqlite3
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from musicd.devtools.library_builder import BuiltLibrary
from musicd.devtools.processes import kill_tree
from tests.integration.listens_support import library_tracks, new_account
from tests.integration.subsonic_support import Sub
from tests.live import USERS, LiveServer, serve, start_server

_ENV = {"MUSICD_TRANSCODE_PRE_TRANSCODE": "false", "MUSICD_TRANSCODE_POOL_SIZE": "0"}
Plays = Counter[tuple[str, str]]  # (user id, track id) -> plays


def _db(server: LiveServer, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with sqlite3.connect(f"file:{server.data_dir / 'musicd.db'}?mode=ro", uri=True) as db:
        return db.execute(sql, params).fetchall()


def _history(server: LiveServer) -> Plays:
    return Counter(dict(((u, t), n) for u, t, n in _db(
        server, "SELECT user_id, track_id, count(*) FROM listening_history GROUP BY user_id, track_id")))


def _check_counts(server: LiveServer, expected: Plays) -> None:
    """History, the tracks' play counts and the per-user counts all say what was acknowledged."""
    assert _history(server) == expected
    per_track: Counter[str] = Counter()
    for (_, tid), n in expected.items():
        per_track[tid] += n
    assert dict(_db(server, "SELECT id, play_count FROM tracks WHERE play_count > 0")) == dict(per_track)
    per_user = Counter(dict(((u, t), n) for u, t, n in _db(server, "SELECT user_id, track_id, play_count"
                                                                   " FROM user_track_plays")))
    assert per_user == expected


def _wait_folded(server: LiveServer) -> None:
    """Until the running writer has folded the journal (its window is 10 s unless the server was told otherwise)."""
    deadline = time.monotonic() + 60
    while _db(server, "SELECT count(*) FROM play_journal") != [(0,)]:
        assert time.monotonic() < deadline, "the writer did not fold the journal"
        time.sleep(0.2)


def _events(c: httpx.Client, *events: dict[str, Any]) -> None:
    r = c.post("/v1/me/player/events", json={"events": list(events)})
    assert r.status_code == 202, r.text


def _play_everything(server: LiveServer, tracks: list[tuple[str, float]]) -> tuple[Plays, list[tuple[str, str]]]:
    """Acknowledged plays of every kind by two users and an admin; returns them and the plays
    left open (counted, not ended)."""
    expected: Plays = Counter()
    still_open: list[tuple[str, str]] = []
    for k, name in enumerate(("alice", "bob", "admin")):
        uid = server.user_id(name)
        sub = Sub(server.base, name, USERS[name][0])
        mine = tracks[k * 8:(k + 1) * 8]
        with server.client(name) as c:
            for tid, d in mine[:2]:  # /v1: start, then progress past half the track (counts, stays open)
                half = int(d * 600)
                _events(c, {"track_id": tid, "event": "start", "device_id": "web"})
                _events(c, {"track_id": tid, "event": "progress", "position_ms": half, "ms_played": half,
                            "device_id": "web"})
                expected[uid, tid] += 1
                still_open.append((name, tid))
            for tid, d in mine[2:4]:  # /v1: start and end in one request
                ms = int(d * 1000)
                _events(c, {"track_id": tid, "event": "start", "device_id": "car"},
                        {"track_id": tid, "event": "end", "position_ms": ms, "ms_played": ms, "device_id": "car"})
                expected[uid, tid] += 1
        # Subsonic: two scrobbles in one call, one with its time, and the same track scrobbled twice.
        (a, _), (b, _), (c2, d2), (e, _) = mine[4:8]
        sub.call("scrobble", [("id", a), ("id", b), ("time", int(time.time() * 1000) - 5000)])
        sub.call("scrobble", {"id": a})
        expected[uid, a] += 2
        expected[uid, b] += 1
        # OpenSubsonic reportPlayback: starting, then playing past half the track.
        sub.call("reportPlayback", {"mediaId": c2, "mediaType": "song", "positionMs": 0, "state": "starting"})
        sub.call("reportPlayback", {"mediaId": c2, "mediaType": "song", "positionMs": int(d2 * 700),
                                    "state": "playing"})
        expected[uid, c2] += 1
        sub.call("scrobble", {"id": e, "submission": "false"})  # now playing only: never a play
    # ListenBrainz: a scrobbler's `single` listen of now is a play too.
    acc, used = new_account(server), {t for t, _ in tracks}
    t = next(t for t in library_tracks(server) if t.mbid and t.id not in used)
    listen = {"listened_at": int(time.time() - t.duration) - 1, "track_metadata": {
        "artist_name": "as the scrobbler names it", "track_name": "?", "additional_info": {"recording_mbid": t.mbid}}}
    r = httpx.post(f"{server.base}/listenbrainz/1/submit-listens", headers={"Authorization": f"Token {acc.lb_token}"},
                   json={"listen_type": "single", "payload": [listen]}, timeout=10)
    assert r.json() == {"status": "ok"}, r.text
    expected[acc.id, t.id] += 1
    return expected, still_open


@pytest.mark.slow
def test_acknowledged_plays_survive_kill_9(built_library: BuiltLibrary, tmp_path: Path) -> None:
    with start_server(tmp_path, built_library.root, **_ENV) as server:
        tracks = [(t, float(d)) for t, d in _db(server, "SELECT id, duration FROM tracks ORDER BY id LIMIT 24")]
        assert len(tracks) == 24
        expected, still_open = _play_everything(server, tracks)
        kill_tree(server.proc.pid)  # at once: well inside the writer's 10 s window
        user_ids = {n: server.user_id(n) for n in ("alice", "bob", "admin")}
    # The restarted server's writer gathers for 1 s, not 10: the plays ended below are folded by it, not
    # by the shutdown, and the test does not sit out a 10 s window (the first server kept the default).
    with serve(tmp_path, server.data_dir, built_library.root, MUSICD_LIBRARY_SCAN_ON_START="never",
               MUSICD_LISTENS_WRITE_WINDOW_S="1", **_ENV) as again:
        # The journal was folded at start, before the server answered /health.
        _check_counts(again, expected)
        assert _db(again, "SELECT count(*) FROM play_journal") == [(0,)]
        # The plays that were open when the server died end now: longer, not counted again.
        durations = dict(tracks)
        for name, tid in still_open:
            ms = int(durations[tid] * 1000)
            with again.client(name) as c:
                _events(c, {"track_id": tid, "event": "end", "position_ms": ms, "ms_played": ms, "device_id": "web"})
        _wait_folded(again)
    _check_counts(again, expected)
    for name, tid in still_open:
        assert _db(again, "SELECT ms_played FROM listening_history WHERE user_id = ? AND track_id = ?",
                   (user_ids[name], tid)) == [(int(durations[tid] * 1000),)]


_BAD_V1 = [  # (event fields, error code)
    ({"event": "end", "ms_played": 2**63}, "invalid_event"),
    ({"event": "progress", "position_ms": 2**63, "ms_played": 1000}, "invalid_event"),
    ({"event": "end", "ms_played": 2**64 * 1000}, "invalid_event"),
    ({"event": "end", "ms_played": -5}, "invalid_event"),
    ({"event": "end", "ms_played": 25 * 3600 * 1000}, "invalid_event"),
    ({"event": "start", "timestamp": 10**17}, "invalid_timestamp"),
    ({"event": "start", "timestamp": 2**63}, "invalid_timestamp"),
    ({"event": "start", "timestamp": 10**400}, "invalid_timestamp"),
    ({"event": "start", "timestamp": -1}, "invalid_timestamp"),
    ({"event": "start", "timestamp": int((time.time() + 86400) * 1000)}, "invalid_timestamp"),
]
_BAD_REST = [  # Subsonic calls with one bad value each
    ("reportPlayback", {"mediaType": "song", "positionMs": 2**63, "state": "playing"}),
    ("reportPlayback", {"mediaType": "song", "positionMs": 2**64 + 7, "state": "stopped"}),
    ("reportPlayback", {"mediaType": "song", "positionMs": 10**30, "state": "starting"}),
    ("scrobble", {"time": 10**17}),
    ("scrobble", {"time": "1e17"}),
    ("scrobble", {"time": 2**63}),
    ("scrobble", {"time": 10**400}),
    ("scrobble", {"time": -(10**17)}),
]


def _send_bad(server: LiveServer, name: str, tid: str) -> None:
    """Every bad value is a clear 400 or Subsonic error, never a 500 or "internal server error"."""
    with server.client(name) as c:
        for fields, code in _BAD_V1:
            r = c.post("/v1/me/player/events", json={"track_id": tid, **fields})
            assert r.status_code == 400, (fields, r.text)
            err = r.json()["error"]
            assert err["code"] == code and err["status"] == 400, (fields, err)
            assert "internal" not in err["message"].lower() and "Traceback" not in r.text
    sub = Sub(server.base, name, USERS[name][0])
    for method, params in _BAD_REST:
        key = "mediaId" if method == "reportPlayback" else "id"
        body = sub.json(method, {key: tid, **params})
        assert body["status"] == "failed", (method, params, body)
        assert body["error"]["code"] in (0, 10), body
        assert "internal" not in body["error"]["message"].lower(), body


def test_bad_values_are_clear_errors(live_server: LiveServer) -> None:
    tid = _db(live_server, "SELECT id FROM tracks ORDER BY id LIMIT 1")[0][0]
    _send_bad(live_server, "bob", tid)
    assert _db(live_server, "SELECT count(*) FROM play_journal WHERE ms_played > 86400000 OR position_ms > 86400000"
                            " OR at > 4102444800 OR at < 0") == [(0,)]


@pytest.mark.slow
def test_one_poison_event_never_costs_the_others(built_library: BuiltLibrary, tmp_path: Path) -> None:
    """The three events of issue 13 that used to fail the writer's whole batch, sent amid other users'
    plays: they are refused, and every other play of the batch is stored."""
    with start_server(tmp_path, built_library.root, **_ENV) as server:
        tracks = [(t, float(d)) for t, d in _db(server, "SELECT id, duration FROM tracks ORDER BY id LIMIT 24")]
        expected: Plays = Counter()
        for k, name in enumerate(("alice", "bob", "admin")):
            uid = server.user_id(name)
            with server.client(name) as c:
                for tid, d in tracks[k * 8:k * 8 + 4]:
                    ms = int(d * 1000)
                    _events(c, {"track_id": tid, "event": "start"},
                            {"track_id": tid, "event": "end", "ms_played": ms, "position_ms": ms})
                    expected[uid, tid] += 1
            if name == "bob":
                _send_bad(server, "admin", tracks[0][0])
            Sub(server.base, name, USERS[name][0]).call("scrobble", {"id": tracks[k * 8 + 5][0]})
            expected[uid, tracks[k * 8 + 5][0]] += 1
        _wait_folded(server)  # by the running writer, in its batch: all of it is there, nothing parked
    _check_counts(server, expected)
    assert _db(server, "SELECT count(*) FROM play_journal_parked") == [(0,)]
    assert "plays.write_failed" not in server.log()
