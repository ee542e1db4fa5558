"""spotipy's player methods, unchanged, against /v1/me/player; the devices are realtime connections that
registered as devices (docs/realtime.md), and each sees the state it must play."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
import spotipy

from tests.integration.realtime_support import Client, api, login, new_user
from tests.live import LiveServer


def _sp(server: LiveServer, token: str) -> spotipy.Spotify:
    sp = spotipy.Spotify(auth=token, requests_timeout=10, retries=0, status_retries=0)
    sp.prefix = f"{server.base}/v1/"
    return sp


def _album(sp: spotipy.Spotify) -> tuple[str, list[str]]:
    for a in sp.search("a", type="album", limit=50)["albums"]["items"]:
        ids = [t["id"] for t in sp.album_tracks(a["id"])["items"]]
        if len(ids) >= 3:
            return a["uri"], ids
    raise AssertionError("no album with 3 tracks in the test library")


async def _device(server: LiveServer, token: str, name: str) -> tuple[Client, str]:
    c = await Client.open(server, token)
    await c.send({"type": "device_register", "name": name, "kind": "speaker", "id": 1})
    ack = await c.expect("ack")
    return c, ack["result"]["device"]["id"]


def _reason(call: Any) -> tuple[int, str | None]:
    with pytest.raises(spotipy.SpotifyException) as e:
        call()
    return e.value.http_status, e.value.reason


async def test_spotipy_player_methods(live_server: LiveServer) -> None:
    name, password, _ = new_user(live_server, "player")
    token = str(login(live_server, name, password)["access_token"])
    sp = _sp(live_server, token)
    run = asyncio.to_thread
    uri, tracks = await run(_album, sp)
    assert await run(sp.current_playback) is None
    assert await run(_reason, lambda: sp.start_playback(context_uri=uri)) == (404, "NO_ACTIVE_DEVICE")
    a, a_id = await _device(live_server, token, "Kitchen")
    b, b_id = await _device(live_server, token, "Attic")
    listed = {d["id"]: d for d in (await run(sp.devices))["devices"]}
    assert set(listed) == {a_id, b_id} and listed[a_id]["name"] == "Kitchen" and not listed[a_id]["is_active"]

    await run(lambda: sp.start_playback(device_id=a_id, context_uri=uri, offset={"position": 1}, position_ms=1000))
    st = await a.expect("player_state", where=lambda d: d["device_id"] == a_id)
    assert st["track_id"] == tracks[1] and st["is_playing"] and st["position_ms"] >= 1000
    cur = await run(sp.current_playback)
    assert cur["device"]["id"] == a_id and cur["device"]["is_active"] and cur["item"]["id"] == tracks[1]
    assert cur["is_playing"] and cur["context"]["uri"] == uri and cur["repeat_state"] == "off"
    assert not cur["shuffle_state"] and cur["progress_ms"] >= 1000

    await run(sp.pause_playback)
    p1 = (await run(sp.currently_playing))["progress_ms"]
    await asyncio.sleep(0.3)
    now = await run(sp.currently_playing)
    assert now["progress_ms"] == p1 and not now["is_playing"]
    await run(lambda: sp.seek_track(1500))
    await run(lambda: sp.volume(40))
    await run(lambda: sp.repeat("context"))
    await run(lambda: sp.shuffle(True))
    cur = await run(sp.current_playback)
    assert cur["progress_ms"] == 1500 and cur["device"]["volume_percent"] == 40
    assert cur["repeat_state"] == "context" and cur["shuffle_state"] and cur["item"]["id"] == tracks[1]
    await run(lambda: sp.add_to_queue(sp.track(tracks[2])["uri"]))  # the URI musicd returned, handed back
    q = await run(sp.queue)
    assert q["currently_playing"]["id"] == tracks[1] and q["queue"][0]["id"] == tracks[2]
    await run(sp.next_track)
    assert (await run(sp.currently_playing))["item"]["id"] == tracks[2]
    await run(sp.previous_track)
    assert (await run(sp.currently_playing))["item"]["id"] == tracks[1]

    # Transfer while paused: B takes the exact position; with force_play it plays.
    await run(lambda: sp.seek_track(1200))
    await run(lambda: sp.transfer_playback(b_id, force_play=True))
    st = await b.expect("player_state", where=lambda d: d["device_id"] == b_id)
    assert st["is_playing"] and st["track_id"] == tracks[1] and 1200 <= st["position_ms"] < 1500
    assert st["volume"] == 40 and st["shuffle"] and st["repeat"] == "context"
    seen_by_a = await a.expect("player_state", where=lambda d: d["device_id"] == b_id)
    assert seen_by_a["state_version"] == st["state_version"]

    # Bad input: clear errors, the state unchanged.
    before = (await run(sp.current_playback))["state_version"]
    assert await run(_reason, lambda: sp.start_playback(device_id="nosuchdevice0")) == (404, "DEVICE_NOT_FOUND")
    assert (await run(_reason, lambda: sp.seek_track(-5)))[0] == 400
    assert (await run(_reason, lambda: sp.add_to_queue("0000000000000000000000")))[0] == 404
    with api(live_server, token) as c:
        r = c.post("/v1/me/player/queue", params={"uri": "musicd:album:xyz"})
        assert r.status_code == 400 and r.json()["error"]["code"] == "bad_uri"
        r = c.put("/v1/me/player/play", content=b"{not json")
        assert r.status_code == 400 and r.json()["error"]["code"] == "bad_body"
        for path, params in (("volume", {"volume_percent": 150}), ("repeat", {"state": "sometimes"}),
                             ("shuffle", {"state": "maybe"})):
            r = c.put(f"/v1/me/player/{path}", params=params)  # spotipy checks these before sending
            assert r.status_code == 400, r.text
    assert (await run(sp.current_playback))["state_version"] == before

    # Another user sees none of these devices and cannot command them.
    bob = _sp(live_server, live_server.token("bob"))
    assert a_id not in {d["id"] for d in (await run(bob.devices))["devices"]}
    assert await run(_reason, lambda: bob.transfer_playback(a_id)) == (404, "DEVICE_NOT_FOUND")

    # The active device goes away: it is no longer listed; the state pauses after the grace period.
    await b.close()
    deadline = time.monotonic() + 10
    while True:
        cur = await run(sp.current_playback)
        if not cur["is_playing"]:
            break
        assert time.monotonic() < deadline, cur
        await asyncio.sleep(0.2)
    assert b_id not in {d["id"] for d in (await run(sp.devices))["devices"]}
    await run(lambda: sp.transfer_playback(a_id, force_play=True))
    st = await a.expect("player_state", where=lambda d: d["device_id"] == a_id and d["is_playing"])
    assert st["position_ms"] >= cur["progress_ms"]
    await a.close()
