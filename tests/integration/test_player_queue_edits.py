"""musicd's own /v1/me/player/queue edits (what the web player's remote queue view uses): move an item
(`PUT …/queue/move`), play one now (`PUT …/queue/play`), remove one (`DELETE …/queue`). An item is named by
its index in GET …/queue and the track seen there; a stale `state_version`, an item that moved, an unknown
index or another user's device are refused and change nothing."""

from __future__ import annotations

from typing import Any

import httpx

from tests.integration.realtime_support import DOC, TABLES, Client, api, login, new_user
from tests.live import LiveServer


def _album(c: httpx.Client) -> tuple[str, list[str]]:
    for a in c.get("/v1/search", params={"q": "a", "type": "album", "limit": 50}).json()["albums"]["items"]:
        ids = [t["id"] for t in c.get(f"/v1/albums/{a['id']}/tracks").json()["items"]]
        if len(ids) >= 4:
            return a["uri"], ids
    raise AssertionError("no album with 4 tracks in the test library")


def _coming(c: httpx.Client) -> list[str]:
    return [t["id"] for t in c.get("/v1/me/player/queue").json()["queue"]]


def _version(c: httpx.Client) -> int:
    return int(c.get("/v1/me/player").json()["state_version"])


def _error(r: httpx.Response) -> tuple[int, str]:
    return r.status_code, r.json()["error"]["code"]


def test_the_documented_queue_edits() -> None:
    """docs/realtime.md lists the three edits this file exercises, with the parameters it sends."""
    documented = {}
    for cells in TABLES["request"]:
        method, target = cells[0].split(" ", 1)
        path, query = target.split("?", 1)
        documented[(method, path)] = sorted(p.split("=")[0] for p in query.split("&"))
    assert documented == {("DELETE", "/v1/me/player/queue"): ["index", "uri"],
                          ("PUT", "/v1/me/player/queue/move"): ["index", "to", "uri"],
                          ("PUT", "/v1/me/player/queue/play"): ["index", "uri"]}
    assert "`jump` (an item of the queue played now)" in DOC.read_text()


async def test_move_play_and_remove_queue_items(live_server: LiveServer) -> None:
    name, password, _ = new_user(live_server, "qedit")
    token = str(login(live_server, name, password)["access_token"])
    dev = await Client.open(live_server, token)
    await dev.send({"type": "device_register", "name": "Kitchen", "kind": "speaker", "id": 1})
    device = (await dev.expect("ack"))["result"]["device"]["id"]
    uri = lambda t: f"spotify:track:{t}"  # noqa: E731
    with api(live_server, token) as c:
        album, tracks = _album(c)
        r = c.put("/v1/me/player/play", params={"device_id": device}, json={"context_uri": album})
        assert r.status_code == 204, r.text
        assert c.post("/v1/me/player/queue", params={"uri": uri(tracks[3])}).status_code == 204
        rest = tracks[1:]
        assert _coming(c) == [tracks[3], *rest]

        # Move the queued item after the context's first track: it joins the context there.
        v = _version(c)
        r = c.put("/v1/me/player/queue/move", params={"index": 0, "uri": uri(tracks[3]), "to": 1, "state_version": v})
        assert r.status_code == 204, r.text
        assert _coming(c) == [tracks[1], tracks[3], *rest[1:]]
        st = await dev.expect("player_state", where=lambda d: d["state_version"] > v)
        assert st["next_track_ids"][:2] == [tracks[1], tracks[3]]

        # Refused, nothing changed: the version it was made on is stale; the item is not that track any more;
        # an index out of range; a destination out of range; another user's (or no) device.
        before, v = _coming(c), _version(c)
        bad: list[tuple[dict[str, Any], tuple[int, str]]] = [
            ({"index": 0, "uri": uri(tracks[1]), "to": 2, "state_version": v - 1}, (409, "stale_state")),
            ({"index": 0, "uri": uri(tracks[2]), "to": 2}, (409, "stale_state")),
            ({"index": 99, "uri": uri(tracks[1]), "to": 0}, (400, "invalid_index")),
            ({"index": 0, "uri": uri(tracks[1]), "to": 99}, (400, "invalid_index")),
            ({"index": 0, "uri": "musicd:album:x", "to": 1}, (400, "bad_uri")),
        ]
        for params, want in bad:
            assert _error(c.put("/v1/me/player/queue/move", params=params)) == want, params
        assert _error(c.put("/v1/me/player/queue/play", params={"index": 1, "uri": uri(tracks[3]),
                                                                 "state_version": v - 1})) == (409, "stale_state")
        assert _error(c.put("/v1/me/player/queue/play", params={"index": 5, "uri": uri(tracks[3])})) == \
            (400, "invalid_index")
        assert _error(c.delete("/v1/me/player/queue", params={"index": 0, "uri": uri(tracks[1]),
                                                               "state_version": v - 1})) == (409, "stale_state")
        with api(live_server, live_server.token("bob")) as bob:
            r = bob.put("/v1/me/player/queue/play", params={"index": 0, "uri": uri(tracks[1]), "device_id": device})
            assert r.status_code == 404 and r.json()["error"]["reason"] == "DEVICE_NOT_FOUND", r.text
        r = c.put("/v1/me/player/queue/move", params={"index": 0, "uri": uri(tracks[1]), "to": 1,
                                                      "device_id": "nosuchdevice0"})
        assert _error(r)[0] == 404
        assert _coming(c) == before and _version(c) == v

        # Play the second coming item now: the device gets it from its start, what was before it is skipped.
        r = c.put("/v1/me/player/queue/play", params={"index": 1, "uri": uri(tracks[3]), "state_version": v})
        assert r.status_code == 204, r.text
        st = await dev.expect("player_state", where=lambda d: d["state_version"] > v)
        assert st["track_id"] == tracks[3] and st["is_playing"] and st["position_ms"] < 1000
        assert st["device_id"] == device and st["cause"] == "jump"
        assert _coming(c) == rest[1:]
    await dev.close()
