"""A radio station (docs/radio.md) as the context of Connect playback, driven by spotipy unchanged:
`start_playback(context_uri="spotify:station:...")` plays the station's own sequence on the active device,
the queue stays full and `next_track` goes on past the station's first page as the server takes its next
pages; bad station URIs get clear errors and leave the state alone."""

from __future__ import annotations

import asyncio

import pytest

from tests.integration.realtime_support import api, login, new_user
from tests.integration.test_v1_spotipy_player import _device, _reason, _sp
from tests.live import LiveServer

PAGE = 50  # services/player.py STATION_PAGE: the context's first page; the walk below goes past it


@pytest.mark.slow
async def test_spotipy_plays_a_station_context_past_its_first_page(live_server: LiveServer) -> None:
    name, password, _ = new_user(live_server, "radio")
    token = str(login(live_server, name, password)["access_token"])
    sp = _sp(live_server, token)
    run = asyncio.to_thread
    seed = (await run(lambda: sp.search("a", type="track", limit=1)))["tracks"]["items"][0]
    station = f"spotify:station:track:{seed['id']}"
    with api(live_server, token) as c:  # the station's sequence for this user, as a player pages it
        pages = [c.get(f"/v1/stations/{station}", params={"offset": o, "limit": PAGE}) for o in (0, PAGE)]
    assert all(p.status_code == 200 for p in pages), pages[0].text
    sequence = [t["id"] for p in pages for t in p.json()["tracks"]["items"]]
    assert sequence[0] == seed["id"] and len(sequence) == 2 * PAGE

    ws, dev = await _device(live_server, token, "Radio")
    try:
        await run(lambda: sp.start_playback(device_id=dev, context_uri=station))
        st = await ws.expect("player_state", where=lambda d: d["device_id"] == dev and d["track_id"])
        assert st["context_uri"] == station and st["is_playing"] and st["track_id"] == seed["id"]
        assert st["next_track_ids"] == sequence[1:21]
        cur = await run(sp.current_playback)
        assert cur["context"]["uri"] == station and cur["context"]["type"] == "station"
        assert cur["item"]["id"] == seed["id"]
        q = await run(sp.queue)
        assert [t["id"] for t in q["queue"]] == sequence[1:21]

        played = [seed["id"]]
        for _ in range(PAGE + 10):  # past the first page: the server appended the station's next one
            await run(sp.next_track)
            played.append((await run(sp.currently_playing))["item"]["id"])
        assert played == sequence[: len(played)]
        q = await run(sp.queue)
        assert [t["id"] for t in q["queue"]] == sequence[len(played):len(played) + 20]
        cur = await run(sp.current_playback)
        assert cur["context"]["uri"] == station and cur["is_playing"]

        # Bad stations: clear errors, the state as it was.
        before = cur["state_version"]
        assert (await run(_reason, lambda: sp.start_playback(context_uri="spotify:station:planet:xyz")))[0] == 400
        with api(live_server, token) as c:
            r = c.put("/v1/me/player/play", json={"context_uri": "spotify:station:planet:xyz"})
            assert r.status_code == 400 and r.json()["error"]["code"] == "bad_station", r.text
            r = c.put("/v1/me/player/play", json={"context_uri": "spotify:station:track:0000000000000000000000"})
            assert r.status_code == 404 and r.json()["error"]["code"] == "track_not_found", r.text
        assert (await run(sp.current_playback))["state_version"] == before
    finally:
        await ws.close()
