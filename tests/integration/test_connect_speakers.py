"""Two real `musicd speaker --sink null` processes and a real server: spotipy starts playback on A and
transfers it to B (A falls silent, B goes on from where A got to), a stale report is refused, and a
speaker killed mid-transfer does not block the handoff."""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from typing import Any

import httpx
import libopensonic
import pytest
import spotipy

from musicd.devtools.speakers import SpeakerProcess, build_long_library
from tests.integration.realtime_support import Client
from tests.live import REPO_ROOT, LiveServer, server_env, start_server

CONTINUITY_MS = 250
# Two members on one timeline: a behaviour bound that holds on a starved box (the bench measures precision).
JAM_SAME_TIMELINE_MS = 500


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    work = tmp_path_factory.mktemp("connect")
    lib = build_long_library(work / "Music", tracks=3, seconds=40.0)
    with start_server(work, lib) as server:
        with server.client("alice") as c:
            key = c.post("/v1/me/api-keys", json={"name": "speakers"}).json()["key"]
        speakers = [SpeakerProcess(server.base, name, work / f"state-{name}", api_key=key, cwd=REPO_ROOT)
                    for name in ("Speaker A", "Speaker B")]
        try:
            for s in speakers:
                s.ready()
            sp = spotipy.Spotify(auth=server.token("alice"), requests_timeout=10, retries=0, status_retries=0)
            sp.prefix = f"{server.base}/v1/"
            album = sp.search("Long Album 1", type="album", limit=1)["albums"]["items"][0]["uri"]
            yield {"server": server, "a": speakers[0], "b": speakers[1], "sp": sp, "album": album, "work": work,
                   "key": key}
        finally:
            for s in speakers:
                s.stop()


def _progress(sp: spotipy.Spotify) -> tuple[str | None, int, bool]:
    cur = sp.current_playback()
    return (cur["device"] or {}).get("id"), cur["progress_ms"], cur["is_playing"]


def _playing_on(rig: dict[str, Any], s: SpeakerProcess) -> None:
    """Playback on `s`, a few seconds into the album (each test sets up what it needs: with xdist the tests
    of this module may run on different workers, each with its own rig)."""
    sp: spotipy.Spotify = rig["sp"]
    cur = sp.current_playback()
    if cur is None or not cur["is_playing"] or (cur["device"] or {}).get("id") != s.device_id:
        mark = len(s.events)
        sp.start_playback(device_id=s.device_id, context_uri=rig["album"], position_ms=6000)
        s.wait("playing", 15, after=mark)


def test_handoff_between_two_speakers(rig: dict[str, Any]) -> None:
    a: SpeakerProcess = rig["a"]
    b: SpeakerProcess = rig["b"]
    sp: spotipy.Spotify = rig["sp"]
    listed = {d["id"]: d for d in sp.devices()["devices"]}
    assert {a.device_id, b.device_id} <= set(listed) and listed[str(a.device_id)]["type"] == "Speaker"

    mark_a = len(a.events)
    sp.start_playback(device_id=a.device_id, context_uri=rig["album"], position_ms=5000)
    started = a.wait("playing", 15, after=mark_a)
    assert started["position_ms"] >= 5000
    time.sleep(2.5)  # A plays and reports what it really played
    dev, p1, playing = _progress(sp)
    assert dev == a.device_id and playing and p1 >= 7000

    mark_a, mark_b = len(a.events), len(b.events)
    sp.transfer_playback(b.device_id, force_play=True)
    stopped = a.wait("stopped", 10, after=mark_a)
    begun = b.wait("start", 10, after=mark_b)
    b.wait("playing", 10, after=mark_b)
    # Continuity: B starts where A had got to, carried forward to when B started (B skips its own measured
    # start-up lag on top, so that its audio lines up; scripts/bench_connect.py measures what is heard).
    expected = stopped["position_ms"] + (begun["t"] - stopped["t"])
    assert abs(begun["position_ms"] - expected) <= CONTINUITY_MS, (stopped, begun)
    # B plays on and reports; A stays silent.
    time.sleep(2.2)
    dev, p2, playing = _progress(sp)
    assert dev == b.device_id and playing and p2 >= begun["position_ms"] + 1500
    assert not [e for e in a.events[mark_a:] if e["event"] in ("start", "playing")]


def test_stale_report_is_refused(rig: dict[str, Any]) -> None:
    server: LiveServer = rig["server"]
    sp: spotipy.Spotify = rig["sp"]
    a: SpeakerProcess = rig["a"]
    b: SpeakerProcess = rig["b"]
    _playing_on(rig, b)

    async def go() -> None:
        c = await Client.open(server, server.token("alice"))
        await c.send({"type": "player_get", "id": 1})
        st = (await c.expect("ack"))["result"]["state"]
        # The old device (A) reports a late position: it is not the active device any more.
        await c.send({"type": "player_report", "id": 2, "device_id": a.device_id, "state_version": st["state_version"],
                      "track_id": st["track_id"], "position_ms": 1000, "is_playing": True})
        assert (await c.expect("error"))["code"] == "not_active_device"
        # The active device's id with an older version (a command came in between): stale.
        await c.send({"type": "player_report", "id": 3, "device_id": b.device_id,
                      "state_version": st["state_version"] - 1, "track_id": st["track_id"], "position_ms": 1000,
                      "is_playing": True})
        assert (await c.expect("error"))["code"] == "stale_state"
        await c.close()

    asyncio.run(go())
    dev, pos, playing = _progress(sp)
    assert dev == b.device_id and playing and pos > 5000  # the bogus 1000 ms was not taken


def test_speaker_killed_mid_transfer(rig: dict[str, Any]) -> None:
    server: LiveServer = rig["server"]
    sp: spotipy.Spotify = rig["sp"]
    a: SpeakerProcess = rig["a"]
    b: SpeakerProcess = rig["b"]
    _playing_on(rig, b)
    time.sleep(1.2)
    _, last_known, _ = _progress(sp)
    # B is unplugged and at once the user moves playback to A: the last known state carries over.
    b.kill()
    mark_a = len(a.events)
    sp.transfer_playback(a.device_id, force_play=True)
    begun = a.wait("start", 10, after=mark_a)
    a.wait("playing", 10, after=mark_a)
    assert begun["position_ms"] >= last_known
    assert b.device_id not in {d["id"] for d in sp.devices()["devices"]}

    # A fresh B (the same device id from its state dir) comes back; playback is moved to it and it is killed
    # right after the command: the state pauses at the last known position and can resume on A.
    b2 = SpeakerProcess(server.base, "Speaker B", rig["work"] / "state-Speaker B", api_key=rig["key"], cwd=REPO_ROOT)
    try:
        assert b2.ready() == b.device_id
        sp.transfer_playback(b2.device_id, force_play=True)
        b2.kill()
        deadline = time.monotonic() + 15
        while _progress(sp)[2]:
            assert time.monotonic() < deadline, "the state kept playing on a vanished device"
            time.sleep(0.2)
        _, paused_at, _ = _progress(sp)
        time.sleep(0.5)
        assert _progress(sp)[1] == paused_at  # paused: not extrapolated
        with httpx.Client(base_url=server.base, headers=server.headers("alice"), timeout=10) as c:
            r = c.put("/v1/me/player/play", params={"device_id": b2.device_id})
            assert r.status_code == 404 and r.json()["error"]["reason"] == "DEVICE_NOT_FOUND"
        mark_a = len(a.events)
        sp.start_playback(device_id=a.device_id)
        begun = a.wait("start", 10, after=mark_a)
        assert abs(begun["position_ms"] - paused_at) <= CONTINUITY_MS
    finally:
        b2.stop()
    rig["b"] = b2




@pytest.mark.slow
def test_pairing_by_code(rig: dict[str, Any]) -> None:
    server: LiveServer = rig["server"]
    work = rig["work"]
    first = SpeakerProcess(server.base, "Paired One", work / "state-paired-1", cwd=REPO_ROOT)
    second = SpeakerProcess(server.base, "Paired Two", work / "state-paired-2", cwd=REPO_ROOT)
    try:
        code1 = first.wait("pairing", 30)["code"]
        code2 = second.wait("pairing", 30)["code"]
        assert len(code1) == 8 and code1 != code2
        # Approved in the web player's way (the API): the speaker signs in and becomes alice's device.
        with server.client("alice") as c:
            r = c.post("/v1/me/speakers/approve", json={"code": code1.lower()})
            assert r.status_code == 200 and r.json()["name"] == "Paired One"
            dev1 = first.ready()
            assert dev1 in {d["id"] for d in c.get("/v1/me/player/devices").json()["devices"]}
            r = c.post("/v1/me/speakers/approve", json={"code": code1})
            assert r.status_code == 404  # a code is good once
        # Guessing codes is rate limited.
        with server.client("bob") as c:
            codes = [c.post("/v1/me/speakers/approve", json={"code": f"WRONG{i:03d}"}).status_code for i in range(8)]
        assert codes[0] == 404 and codes[-1] == 429
        # Approved with the CLI on the server's box.
        env = server_env(server.data_dir)
        out = subprocess.run([sys.executable, "-m", "musicd", "speaker", "approve", code2, "--user", "alice"],
                             env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        second.ready()
        # A restarted speaker signs in with what it saved: no new code.
        first.stop()
        again = SpeakerProcess(server.base, "Paired One", work / "state-paired-1", cwd=REPO_ROOT)
        try:
            assert again.ready() == dev1
            assert not [e for e in again.events if e["event"] == "pairing"]
        finally:
            again.stop()
        r = httpx.post(f"{server.base}/v1/speakers/pairings/nosuchpairing/token", json={"secret": "x"}, timeout=10)
        assert r.status_code == 401
    finally:
        first.stop()
        second.stop()


def test_subsonic_app_is_a_device_and_resumes_on_a_speaker(rig: dict[str, Any]) -> None:
    server: LiveServer = rig["server"]
    sp: spotipy.Spotify = rig["sp"]
    a: SpeakerProcess = rig["a"]
    tracks = [t["id"] for t in sp.album_tracks(rig["album"])["items"]]
    u = urllib.parse.urlsplit(server.base)

    async def go() -> None:
        app = libopensonic.AsyncConnection(f"http://{u.hostname}", port=u.port or 80, api_key=rig["key"],
                                           app_name="Phone App")
        run = asyncio.to_thread
        try:
            # The app starts a song: it becomes the active device (restricted: the server cannot command it).
            cur = await run(sp.current_playback)
            a_was_playing = bool(cur and cur["is_playing"] and (cur["device"] or {}).get("id") == a.device_id)
            mark_a = len(a.events)
            assert await app.report_playback(tracks[1], "song", 7000, "starting")
            devices = {d["name"]: d for d in (await run(sp.devices))["devices"]}
            phone = devices["Phone App"]
            assert phone["is_restricted"] and phone["is_active"]
            cur = await run(sp.current_playback)
            assert cur["item"]["id"] == tracks[1] and cur["is_playing"] and 7000 <= cur["progress_ms"] < 8000
            if a_was_playing:  # the speaker falls silent: the app took over
                await run(a.wait, "stopped", 10, None, mark_a)
            assert await app.report_playback(tracks[1], "song", 9000, "paused")
            cur = await run(sp.current_playback)
            assert not cur["is_playing"] and cur["progress_ms"] == 9000
            # The app cannot be commanded from here (Spotify's DEVICE_NOT_CONTROLLABLE)...
            with pytest.raises(spotipy.SpotifyException) as refused:
                await run(sp.start_playback)
            assert refused.value.http_status == 403 and refused.value.reason == "DEVICE_NOT_CONTROLLABLE"
            # ...and resumes on the speaker exactly where it paused.
            mark_a = len(a.events)
            await run(lambda: sp.transfer_playback(a.device_id, force_play=True))
            begun = await run(a.wait, "start", 10, None, mark_a)
            assert begun["track_id"] == tracks[1]
            assert abs(begun["position_ms"] - 9000) <= CONTINUITY_MS
            await run(a.wait, "playing", 10, None, mark_a)
            # Late reports and saved queues of the app do not take control back.
            assert await app.report_playback(tracks[1], "song", 9500, "playing")
            assert await app.save_play_queue_by_index([tracks[0], tracks[2]], 1, 100)
            cur = await run(sp.current_playback)
            assert cur["device"]["id"] == a.device_id and cur["is_playing"] and cur["progress_ms"] > 9000
            # jukeboxControl drives the speaker.
            st = await app.jukebox_control("status")
            assert st.playing and st.position is not None and st.position >= 9
            # (py-opensonic sends ids with "add" only, so its way to replace the playlist is clear + add.)
            st = await app.jukebox_control("clear")
            assert not st.playing and st.current_index == -1
            await app.jukebox_control("add", sids=tracks)
            st = await app.jukebox_control("start")
            assert st.playing and st.current_index == 0
            mark_a = len(a.events)
            st = await app.jukebox_control("skip", index=2, offset=3)
            assert st.current_index == 2
            begun = await run(a.wait, "start", 10, lambda e: e["track_id"] == tracks[2], mark_a)
            assert abs(begun["position_ms"] - 3000) <= CONTINUITY_MS
            await app.jukebox_control("setGain", gain=0.5)
            assert (await run(sp.current_playback))["device"]["volume_percent"] == 50
            playlist = await app.jukebox_control("get")
            assert [s.id for s in playlist.entry or []] == tracks
            mark_a = len(a.events)
            st = await app.jukebox_control("stop")
            assert not st.playing
            await run(a.wait, "stopped", 10, None, mark_a)
            # With nothing playing, the app's saved queue becomes the state, and a speaker resumes it.
            assert await app.save_play_queue_by_index([tracks[0], tracks[1], tracks[2]], 2, 4000)
            cur = await run(sp.current_playback)
            assert cur["item"]["id"] == tracks[2] and cur["progress_ms"] == 4000 and not cur["is_playing"]
            mark_a = len(a.events)
            await run(lambda: sp.start_playback(device_id=a.device_id))
            begun = await run(a.wait, "start", 10, None, mark_a)
            assert begun["track_id"] == tracks[2]
            assert abs(begun["position_ms"] - 4000) <= CONTINUITY_MS
            # Bad input: a Subsonic error, the state unchanged.
            with pytest.raises(Exception, match="gain"):
                await app.jukebox_control("setGain", gain=3.0)
        finally:
            await app.cleanup()

    asyncio.run(go())


@pytest.mark.slow
def test_jam_two_users_one_timeline(rig: dict[str, Any]) -> None:
    server: LiveServer = rig["server"]
    sp: spotipy.Spotify = rig["sp"]
    a: SpeakerProcess = rig["a"]
    with server.client("bob") as c:
        bob_key = c.post("/v1/me/api-keys", json={"name": "jam"}).json()["key"]
    c_spk = SpeakerProcess(server.base, "Bob's speaker", rig["work"] / "state-bob", api_key=bob_key, cwd=REPO_ROOT)
    alice = server.client("alice")
    bob = server.client("bob")
    try:
        c_spk.ready()
        mark_a = len(a.events)
        sp.start_playback(device_id=a.device_id, context_uri=rig["album"], position_ms=2000)
        a.wait("playing", 15, after=mark_a)
        r = alice.post("/v1/me/jam", json={"device_id": a.device_id})
        assert r.status_code == 201, r.text
        jam = r.json()
        assert bob.post("/v1/jam/join", json={"code": "WRONG1", "device_id": c_spk.device_id}).status_code == 404
        assert bob.post("/v1/jam/join", json={"code": jam["code"], "device_id": a.device_id}).status_code == 404
        r = bob.post("/v1/jam/join", json={"code": jam["code"].lower(), "device_id": c_spk.device_id})
        assert r.status_code == 200 and {m["user_id"] for m in r.json()["members"]} == {
            server.user_id("alice"), server.user_id("bob")}
        for s in (a, c_spk):
            s.wait("jam_start", 15, lambda e: e["track_id"] == jam["track_id"])
        # Both follow one timeline: what each really plays is close to it, and so to each other.
        time.sleep(5)
        last = {s.name: [e for e in s.events if e["event"] == "jam_position"][-4:] for s in (a, c_spk)}
        assert all(last.values()), last
        spread = abs(statistics.median(e["drift_ms"] for e in last[a.name])
                     - statistics.median(e["drift_ms"] for e in last[c_spk.name]))
        assert spread <= JAM_SAME_TIMELINE_MS, last
        # Members add to the shared queue; only the host controls; the host ends it for everyone.
        tracks = [t["id"] for t in sp.album_tracks(rig["album"])["items"]]
        assert bob.post(f"/v1/jam/{jam['jam_id']}/queue", params={"uri": f"spotify:track:{tracks[0]}"}
                        ).status_code == 204
        assert bob.get(f"/v1/jam/{jam['jam_id']}").json()["queue"][-1] == tracks[0]
        r = bob.put(f"/v1/jam/{jam['jam_id']}/pause")
        assert r.status_code == 403 and r.json()["error"]["code"] == "not_host"
        mark_a, mark_c = len(a.events), len(c_spk.events)
        assert alice.delete(f"/v1/jam/{jam['jam_id']}").status_code == 204
        a.wait("jam_left", 10, after=mark_a)
        c_spk.wait("jam_left", 10, after=mark_c)
        assert bob.get(f"/v1/jam/{jam['jam_id']}").status_code == 404
    finally:
        c_spk.stop()
        alice.close()
        bob.close()


def test_gapless_next_and_live_volume(rig: dict[str, Any]) -> None:
    """The next track's decoder is prefetched: its first sample follows the last one of the track before
    (no new start, no gap); a volume change is applied to the samples without restarting anything."""
    sp: spotipy.Spotify = rig["sp"]
    a: SpeakerProcess = rig["a"]
    tracks = [t["id"] for t in sp.album_tracks(rig["album"])["items"]]
    mark = len(a.events)
    sp.start_playback(device_id=a.device_id, context_uri=rig["album"], offset={"position": 0}, position_ms=36_500)
    a.wait("playing", 15, lambda e: e["track_id"] == tracks[0], mark)
    # Live volume: the output goes on (no stop, no new start) and the position keeps advancing.
    mark_v = len(a.events)
    sp.volume(30, device_id=a.device_id)
    time.sleep(1.0)
    ended = a.wait("ended", 15, lambda e: e["track_id"] == tracks[0], mark)
    nxt = a.wait("playing", 5, lambda e: e["track_id"] == tracks[1], mark)
    assert ended["position_ms"] >= 39_900
    assert nxt["position_ms"] < 50 and nxt["t"] - ended["t"] <= 50, (ended, nxt)
    # The server moves on to the next track (the speaker's `ended` report) and the speaker does not restart.
    deadline = time.monotonic() + 10
    while (cur := sp.current_playback())["item"]["id"] != tracks[1]:
        assert time.monotonic() < deadline, cur
        time.sleep(0.2)
    time.sleep(1.5)
    assert [e["event"] for e in a.events[mark_v:] if e["event"] in ("start", "stopped")] == []
    assert [e["volume"] for e in a.events[mark_v:] if e["event"] == "volume"] == [30]
    assert cur["device"]["volume_percent"] == 30 and cur["is_playing"]
    sp.volume(100, device_id=a.device_id)
