"""What the realtime channel delivers, and to whom, against a running server: playlist events with their
snapshot and operations, subscriptions, isolation (private playlists, friends who do not share or are in a
private session), friend activity from every play source, resume after a disconnect, bad input."""

from __future__ import annotations

import asyncio
import urllib.parse
from typing import Any

import libopensonic
import libsonic
import pytest
from liblistenbrainz import Listen, ListenBrainz

from tests.integration.listens_support import library_tracks
from tests.integration.realtime_support import (
    CLOSE,
    ERRORS,
    Client,
    api,
    close_name,
    metric,
    new_user,
)
from tests.live import LiveServer

pytestmark = pytest.mark.slow


def _tracks(server: LiveServer, n: int = 6) -> list[str]:
    with server.client("alice") as c:
        out: list[str] = []
        for album in c.get("/v1/browse/new-releases", params={"limit": 20}).json()["albums"]["items"]:
            out += [t["id"] for t in c.get(f"/v1/albums/{album['id']}/tracks").json()["items"]]
            if len(out) >= n:
                return out[:n]
    raise AssertionError("the test library has too few tracks")


def _person(server: LiveServer, prefix: str) -> dict[str, Any]:
    name, password, uid = new_user(server, prefix)
    return {"name": name, "password": password, "id": uid, "token": server.login(name, password)["access_token"]}


async def _marker(c: Client, who: dict[str, Any], server: LiveServer, track: str) -> None:
    """Make `who` save then unsave a track, and wait for the resulting saves_changed on `c`: whatever `c`
    was going to receive before it has arrived by then (events reach a user in order)."""
    with api(server, who["token"]) as http:
        assert http.put("/v1/me/tracks", params={"ids": track}).status_code == 200
        assert http.delete("/v1/me/tracks", params={"ids": track}).status_code == 200
    await c.expect("saves_changed", where=lambda d: not d["saved"])


async def test_playlist_events_reach_owner_collaborators_and_subscribers(live_server: LiveServer) -> None:
    s = live_server
    owner, collab, reader = _person(s, "own"), _person(s, "col"), _person(s, "rdr")
    t = _tracks(s)
    o = await Client.open(s, owner["token"])
    with api(s, owner["token"]) as http:
        pid = http.post("/v1/me/playlists", json={"name": "Live one", "public": False,
                                                  "collaborative": True}).json()["id"]
        created = await o.expect("playlist_created")
        assert created["playlist_id"] == pid and created["owner_id"] == owner["id"]
        assert http.post(f"/v1/playlists/{pid}/collaborators", json={"ids": [collab["id"]]}).status_code in (200, 201)
    c = await Client.open(s, collab["token"])
    r = await Client.open(s, reader["token"])
    # A private playlist: the reader may not subscribe (it looks the same as one that does not exist).
    await r.send({"type": "subscribe", "topic": f"playlist:{pid}", "id": "p"})
    err = await r.expect("error")
    assert (err["code"], err["ref"]) == ("forbidden", "p")
    await r.send({"type": "subscribe", "topic": "playlist:doesnotexist"})
    assert (await r.expect("error"))["code"] == "forbidden"

    with api(s, collab["token"]) as http:
        snap = http.post(f"/v1/playlists/{pid}/tracks", json={"uris": [f"spotify:track:{x}" for x in t[:3]]}).json()
    for who in (o, c):
        ch = await who.expect("playlist_changed")
        assert ch["snapshot_id"] == snap["snapshot_id"] and ch["by"] == collab["id"] and ch["kind"] == "add"
        assert ch["operations"] == [{"type": "append", "track_ids": t[:3]}]
    with api(s, owner["token"]) as http:
        r2 = http.put(f"/v1/playlists/{pid}/tracks", json={"range_start": 0, "insert_before": 3})
        assert r2.status_code == 200, r2.text
        reorder = await o.expect("playlist_changed")
        assert reorder["operations"] == [{"type": "reorder", "range_start": 0, "insert_before": 3, "range_length": 1}]
        assert reorder["snapshot_id"] == r2.json()["snapshot_id"]
        await _marker(r, reader, s, t[0])
        assert not [m for m in r.received if m["type"].startswith("playlist")], r.received
        # Made public (not collaborative): now the reader may subscribe, and gets the changes.
        assert http.put(f"/v1/playlists/{pid}", json={"public": True, "collaborative": False}).status_code == 200
        details = await o.expect("playlist_changed")
        assert details["kind"] == "details" and details["operations"][0]["public"] is True
        await r.send({"type": "subscribe", "topic": f"playlist:{pid}", "id": 2})
        assert (await r.expect("subscribed"))["topic"] == f"playlist:{pid}"
        http.post(f"/v1/playlists/{pid}/tracks", json={"uris": [f"musicd:track:{t[4]}"], "position": 0})
        ins = await r.expect("playlist_changed")
        assert ins["operations"] == [{"type": "insert", "track_ids": [t[4]], "position": 0}]
        assert http.delete(f"/v1/playlists/{pid}/followers").status_code == 200  # the owner unfollows: deleted
    for who in (o, r):
        assert (await who.expect("playlist_deleted"))["playlist_id"] == pid
    for who in (o, c, r):
        await who.close()


async def test_isolation_private_playlists_and_friends_who_do_not_share(live_server: LiveServer) -> None:
    s = live_server
    a, b = _person(s, "a"), _person(s, "b")
    sharer, quiet, private = _person(s, "shr"), _person(s, "qui"), _person(s, "prv")
    t = _tracks(s)
    with api(s, b["token"]) as http:
        ids = ",".join(p["id"] for p in (a, sharer, quiet, private))
        assert http.put("/v1/me/following", params={"type": "user", "ids": ids}).status_code in (200, 204)
    for who in (sharer, private):
        with api(s, who["token"]) as http:
            assert http.put("/v1/me/settings", json={"share_activity": True}).json()["share_activity"] is True
    with api(s, private["token"]) as http:
        st = http.put("/v1/me/settings", json={"private_session": True}).json()
        assert st["private_session_until"]
    bc = await Client.open(s, b["token"])
    await bc.send({"type": "subscribe", "topic": "library"})
    await bc.expect("subscribed")
    ac = await Client.open(s, a["token"])
    with api(s, a["token"]) as http:
        pid = http.post("/v1/me/playlists", json={"name": "Secret", "public": False}).json()["id"]
        http.post(f"/v1/playlists/{pid}/tracks", json={"uris": [f"musicd:track:{t[0]}"]})
        http.put(f"/v1/playlists/{pid}", json={"name": "Still secret"})
        http.post("/v1/me/player/events", json={"track_id": t[1], "event": "start"})  # a does not share
    await ac.expect("playlist_changed", where=lambda d: d["kind"] == "details")
    for who in (quiet, private):  # neither shares now
        with api(s, who["token"]) as http:
            assert http.post("/v1/me/player/events", json={"track_id": t[2], "event": "start"}).status_code == 202
    with api(s, sharer["token"]) as http:
        http.post("/v1/me/player/events", json={"track_id": t[3], "event": "start", "context_uri": "musicd:album:x"})
    act = await bc.expect("friend_activity")
    assert act["user"]["id"] == sharer["id"] and act["track"]["id"] == t[3] and act["playing"] is True
    assert act["context"] == {"uri": "musicd:album:x"}
    await _marker(bc, b, s, t[0])
    leaked = [m for m in bc.received if m["type"].startswith("playlist")
              or (m["type"] == "friend_activity" and m["data"]["user"]["id"] != sharer["id"])
              or (m["type"] == "now_playing")]
    assert not leaked, leaked
    # The same over HTTP: only the sharer is listed.
    with api(s, b["token"]) as http:
        items = http.get("/v1/me/friends/activity").json()["items"]
    assert [(i["user"]["id"], i["track"]["id"], i["playing"]) for i in items] == [(sharer["id"], t[3], True)]
    # A private session hides the sharer at once, and what they play during it stays hidden afterwards.
    with api(s, sharer["token"]) as http:
        http.put("/v1/me/settings", json={"private_session": True})
        http.post("/v1/me/player/events", json={"track_id": t[4], "event": "start"})
        with api(s, b["token"]) as http_b:
            assert http_b.get("/v1/me/friends/activity").json()["items"] == []
        http.put("/v1/me/settings", json={"private_session": False})
        with api(s, b["token"]) as http_b:
            shown = http_b.get("/v1/me/friends/activity").json()["items"]
        assert [i["track"]["id"] for i in shown] == [t[3]], "the private play is never shown"
    await _marker(bc, b, s, t[0])
    assert not [m for m in bc.received if m["type"] == "friend_activity" and m["data"]["track"]["id"] == t[4]]
    await ac.close()
    await bc.close()


async def test_friend_activity_from_every_play_source(live_server: LiveServer) -> None:
    s = live_server
    fan, star = _person(s, "fan"), _person(s, "star")
    t = _tracks(s)
    with api(s, fan["token"]) as http:
        http.put("/v1/me/following", params={"type": "user", "ids": star["id"]})
    with api(s, star["token"]) as http:
        http.put("/v1/me/settings", json={"share_activity": True})
    fc = await Client.open(s, fan["token"])
    other_device = await Client.open(s, star["token"])
    u = urllib.parse.urlsplit(s.base)

    # py-sonic: scrobble with submission=false is "now playing".
    sonic = libsonic.Connection(f"http://{u.hostname}", star["name"], star["password"], port=u.port or 80,
                                serverPath="/rest", appName="rt-test")
    await asyncio.to_thread(sonic.scrobble, t[0], False)
    got = await fc.expect("friend_activity")
    assert (got["track"]["id"], got["playing"]) == (t[0], True)
    assert (await other_device.expect("now_playing"))["state"] == "started", "the user's own devices hear it"

    # py-opensonic: reportPlayback starting, then stopped.
    osc = libopensonic.AsyncConnection(f"http://{u.hostname}", star["name"], star["password"], port=u.port or 80,
                                       app_name="rt-test")
    assert await osc.report_playback(t[1], "song", 0, "starting")
    got = await fc.expect("friend_activity", where=lambda d: d["track"]["id"] == t[1])
    assert got["playing"] is True
    assert await osc.report_playback(t[1], "song", 5000, "stopped")
    await fc.expect("friend_activity", where=lambda d: d["track"]["id"] == t[1] and not d["playing"])

    # liblistenbrainz: playing_now from a scrobbler is a play start too.
    with api(s, star["token"]) as http:
        lb_token = http.post("/v1/me/listenbrainz-token").json()["token"]
    song = next(x for x in library_tracks(s) if x.id not in t[:2] and x.artist and x.title.isascii())
    lb = ListenBrainz(api_base_url=f"{s.base}/listenbrainz")
    await asyncio.to_thread(lb.set_auth_token, lb_token)
    await asyncio.to_thread(lb.submit_playing_now, Listen(track_name=song.title, artist_name=song.artist))
    got = await fc.expect("friend_activity", where=lambda d: d["track"]["id"] == song.id)
    assert got["playing"] is True

    # The web player's events, and the realtime command gives the same list as the HTTP endpoint.
    with api(s, star["token"]) as http:
        http.post("/v1/me/player/events", json={"events": [{"track_id": t[2], "event": "start"}]})
    await fc.expect("friend_activity", where=lambda d: d["track"]["id"] == t[2] and d["playing"])
    await fc.send({"type": "get_friend_activity", "id": "g"})
    ack = await fc.expect("ack")
    with api(s, fan["token"]) as http:
        over_http = http.get("/v1/me/friends/activity").json()["items"]
    assert ack["command"] == "get_friend_activity" and ack["ref"] == "g"
    strip = [{k: v for k, v in i.items() if k != "track"} | {"track": i["track"]["id"]} for i in over_http]
    assert [{k: v for k, v in i.items() if k != "track"} | {"track": i["track"]["id"]}
            for i in ack["result"]["items"]] == strip
    assert strip[0]["track"] == t[2]
    await fc.close()
    await other_device.close()


async def test_resume_after_a_disconnect_misses_nothing(live_server: LiveServer) -> None:
    s = live_server
    me = _person(s, "res")
    t = _tracks(s)
    c = await Client.open(s, me["token"])
    with api(s, me["token"]) as http:
        pid = http.post("/v1/me/playlists", json={"name": "Resume"}).json()["id"]
        last = (await c.expect("playlist_created"))
    seen = c.received[-1]["seq"]
    assert last["playlist_id"] == pid
    await c.close()
    snaps = []
    with api(s, me["token"]) as http:
        for x in t[:5]:
            snaps.append(http.post(f"/v1/playlists/{pid}/tracks", json={"uris": [f"musicd:track:{x}"]})
                         .json()["snapshot_id"])
    c = await Client.open(s, me["token"])
    assert c.ready["seq"] == seen + 5
    await c.send({"type": "resume", "since": seen, "id": "r"})
    done = await c.expect("resumed")
    replayed = [m for m in c.received if m["type"] == "playlist_changed"]
    assert [m["data"]["snapshot_id"] for m in replayed] == snaps
    assert [m["seq"] for m in replayed] == list(range(seen + 1, seen + 6))
    assert done == {"since": seen, "replayed": 5, "seq": seen + 5, "ref": "r"}
    # Resuming from where it is now replays nothing; a seq it never had asks for a resync.
    await c.send({"type": "resume", "since": seen + 5})
    assert (await c.expect("resumed"))["replayed"] == 0
    await c.send({"type": "resume", "since": seen + 999})
    assert (await c.expect("resync_required"))["reason"] == "unknown_seq"
    await c.send({"type": "resume", "since": 0})
    assert (await c.expect("resync_required"))["reason"] == "too_far_behind"
    await c.close()


async def test_bad_messages_get_errors_and_the_connection_goes_on(live_server: LiveServer) -> None:
    s = live_server
    me = _person(s, "bad")
    c = await Client.open(s, me["token"])
    cases = [("{nope", "malformed_json"), ('"a string"', "invalid_message"), ('{"type": 5}', "invalid_message"),
             ('{"type": "dance"}', "unknown_type"), ('{"type": "subscribe", "topic": "weather"}', "invalid_topic"),
             ('{"type": "subscribe", "topic": "library:x"}', "invalid_topic"),
             ('{"type": "subscribe", "topic": "album:nope"}', "forbidden"),
             ('{"type": "resume", "since": "yesterday"}', "invalid_message"),
             ('{"type": "ping", "id": {"x": 1}}', "invalid_message")]
    for raw, code in cases:
        await c.send(raw)
        err = await c.expect("error")
        assert err["code"] == code, (raw, err)
        assert code in ERRORS
    await c.send({"type": "ping", "t": 1})
    assert (await c.expect("pong"))["t"] == 1
    # Oversized: an error, then the close.
    await c.send('{"type": "ping", "pad": "' + "x" * 20_000 + '"}')
    assert (await c.expect("error"))["code"] == "message_too_large"
    code, reason = await c.closed()
    assert (code, close_name(reason)) == (CLOSE["message_too_large"], "message_too_large")


async def test_a_flooding_client_gets_an_error_then_a_close(live_server: LiveServer) -> None:
    s = live_server
    me = _person(s, "fld")
    c = await Client.open(s, me["token"])
    watcher = await Client.open(s, me["token"])
    closes0 = metric(s, "musicd_realtime_closes_total", 'reason="rate_limited"')
    errors = []
    try:
        for _ in range(400):  # the server may close (and the send fail) before the last one
            await c.send({"type": "ping"})
        while True:
            m = await c.next(5)
            if m["type"] == "error":
                errors.append(m["data"]["code"])
    except Exception as e:
        rcvd = getattr(e, "rcvd", None)
        if rcvd is not None:
            assert (rcvd.code, close_name(rcvd.reason)) == (CLOSE["rate_limited"], "rate_limited")
            assert errors, "an error frame comes before the close"
        # else: the server closed with pings of ours still unread, so the kernel reset the connection and the
        # close frame may be lost with it; the server says why it closed.
        assert metric(s, "musicd_realtime_closes_total", 'reason="rate_limited"') == closes0 + 1, e
    # One error per run of refused messages (a busy box may let the budget refill between runs), then the close.
    assert set(errors) <= {"rate_limited"} and len(errors) < 10, errors
    await watcher.send({"type": "ping", "t": 3})  # another connection of the same user is not affected
    assert (await watcher.expect("pong"))["t"] == 3
    await watcher.close()


async def test_thousands_of_reconnects(live_server: LiveServer) -> None:
    s = live_server
    me = _person(s, "rec")
    base_conns = metric(s, "musicd_realtime_connections")

    async def cycle(n: int) -> None:
        for _ in range(n):
            c = await Client.open(s, me["token"])
            await c.close()

    await asyncio.gather(*(cycle(50) for _ in range(20)))  # 1,000 connections, 20 at a time
    await asyncio.sleep(0.5)
    assert metric(s, "musicd_realtime_connections") <= base_conns
    c = await Client.open(s, me["token"])
    await c.send({"type": "ping"})
    await c.expect("pong")
    await c.close()

