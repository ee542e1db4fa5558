"""Real clients of the APIs musicd's podcasts mirror: spotipy (shows, episodes, saved shows), py-sonic and
py-opensonic (the Subsonic podcast methods, bookmarks, reportPlayback, stream by streamId) and mygpoclient
(gPodder sync: devices, subscriptions, episode actions). One position, whichever client moved it."""

from __future__ import annotations

import urllib.parse
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

import libopensonic
import libsonic
import pytest
import spotipy
from mygpoclient import api as gpo_api
from mygpoclient import http as gpo_http

from tests.feed_server import Item, Route, rss
from tests.integration import podcast_support
from tests.integration.podcast_support import (
    PodcastWorld,
    episode_status,
    episodes_by_title,
    main_show,
    wait_for,
)
from tests.integration.test_stream_formats import probe
from tests.live import USERS

world = podcast_support.world  # the module's live server and feed server (a fixture)


def _as_list(x: object) -> list[dict[str, object]]:
    if x is None:
        return []
    return x if isinstance(x, list) else [x]  # type: ignore[list-item, return-value]


def test_spotipy_shows_and_episodes(world: PodcastWorld) -> None:
    warnings.simplefilter("ignore", DeprecationWarning)
    with world.server.client("admin") as c:
        sid = main_show(world, c)
    sp = spotipy.Spotify(auth=world.server.token("alice"), requests_timeout=10, retries=0)
    sp.prefix = world.server.base + "/v1/"
    show = sp.show(f"spotify:show:{sid}")
    assert show["id"] == sid and show["type"] == "show" and show["name"] == "Main Show"
    assert [s["id"] for s in sp.shows([sid])["shows"]] == [sid]
    page = sp.show_episodes(sid, limit=1)
    assert page["total"] >= 2 and len(page["items"]) == 1 and page["next"]
    first = page["items"][0]
    more = sp.next(page)
    assert more["items"][0]["id"] != first["id"]
    ep = sp.episode(first["uri"])
    assert ep["id"] == first["id"] and ep["show"]["id"] == sid and ep["type"] == "episode"
    assert ep["resume_point"] == {"fully_played": False, "resume_position_ms": 0}
    assert [e["id"] for e in sp.episodes([first["id"]])["episodes"]] == [first["id"]]
    with world.server.client("alice") as alice:
        alice.put(f"/v1/me/episodes/{first['id']}/progress", json={"position_ms": 3210})
    assert sp.episode(first["id"])["resume_point"]["resume_position_ms"] == 3210

    sp.current_user_saved_shows_add([sid])
    assert sp.current_user_saved_shows_contains([sid, f"spotify:show:{'0' * 22}"]) == [True, False]
    saved = sp.current_user_saved_shows(limit=10)
    assert [s["show"]["id"] for s in saved["items"]] == [sid] and saved["items"][0]["added_at"]
    sp.current_user_saved_shows_delete([sid])
    assert sp.current_user_saved_shows_contains([sid]) == [False]
    assert sp.current_user_saved_shows()["total"] == 0
    found = sp.search("second episode", type="episode,show", limit=5)
    assert found["episodes"]["items"][0]["name"] == "Second Episode"


def test_subsonic_podcast_methods(world: PodcastWorld, tmp_path: Path) -> None:
    fs = world.feeds
    fs.routes["/sub.xml"] = Route(rss("Subsonic Show", [
        Item("s2", "Sub Two", fs.url("/a/one.mp3"), pub="Tue, 02 Jan 2024 10:00:00 GMT"),
        Item("s1", "Sub One", fs.url("/a/two.flac"), type="audio/flac", pub="Mon, 01 Jan 2024 10:00:00 GMT")]))
    u = urllib.parse.urlsplit(world.server.base)
    admin = libsonic.Connection(f"http://{u.hostname}", "admin", USERS["admin"][0], port=u.port or 80,
                                serverPath="/rest", appName="musicd-tests")
    bob = libsonic.Connection(f"http://{u.hostname}", "bob", USERS["bob"][0], port=u.port or 80,
                              serverPath="/rest", appName="musicd-tests")
    assert admin.getUser("admin")["user"]["podcastRole"] is True
    assert bob.getUser("bob")["user"]["podcastRole"] is False
    with pytest.raises(libsonic.errors.AuthError):
        bob.createPodcastChannel(fs.url("/sub.xml"))
    admin.createPodcastChannel(fs.url("/sub.xml"))
    with pytest.raises(libsonic.errors.SonicError):
        admin.createPodcastChannel(fs.url("/nothing-here.xml"))
    channels = {c["title"]: c for c in _as_list(bob.getPodcasts()["podcasts"]["channel"])}
    chan = channels["Subsonic Show"]
    assert chan["url"] == fs.url("/sub.xml") and chan["status"] == "completed"
    eps = {e["title"]: e for e in _as_list(chan["episode"])}
    assert set(eps) == {"Sub One", "Sub Two"}
    one = eps["Sub One"]
    assert one["channelId"] == chan["id"] and one["streamId"] == one["id"] and one["type"] == "podcast"
    only = _as_list(bob.getPodcasts(incEpisodes=False, pid=chan["id"])["podcasts"]["channel"])
    assert [c["id"] for c in only] == [chan["id"]] and "episode" not in only[0]
    newest = [e["title"] for e in _as_list(bob.getNewestPodcasts(count=50)["newestPodcasts"]["episode"])]
    assert newest.index("Sub Two") < newest.index("Sub One")
    with pytest.raises(libsonic.errors.AuthError):
        bob.downloadPodcastEpisode(one["id"])
    admin.downloadPodcastEpisode(one["id"])
    with world.server.client("admin") as c:
        wait_for(lambda: episode_status(c, one["id"]) == "completed", what="the download")
    # `stream` with the streamId: the file as it is, or a tier.
    assert bob.stream(one["streamId"], tformat="raw").read() == world.audio["two"]
    assert bob.stream(one["streamId"], maxBitRate=96, tformat="ogg").read()[:4] == b"OggS"
    # a bitrate limit alone answers what every Subsonic client plays (MP3), as for library tracks
    assert probe(bob.stream(one["streamId"], maxBitRate=96).read(), tmp_path)["codec"] == "mp3"
    # Bookmarks and reportPlayback move the same position the web player and gPodder see.
    bob.createBookmark(one["id"], 5000)
    marks = [b for b in _as_list(bob.getBookmarks()["bookmarks"]["bookmark"]) if b["entry"]["id"] == one["id"]]
    assert marks[0]["position"] == 5000 and marks[0]["entry"]["type"] == "podcast"
    with world.server.client("bob") as c:
        assert c.get(f"/v1/episodes/{one['id']}").json()["resume_point"]["resume_position_ms"] == 5000
    bob.deleteBookmark(one["id"])
    with world.server.client("bob") as c:
        assert c.get(f"/v1/episodes/{one['id']}").json()["resume_point"]["resume_position_ms"] == 0
    admin.refreshPodcasts()
    admin.deletePodcastEpisode(one["id"])
    with world.server.client("admin") as c:
        assert episode_status(c, one["id"]) == "deleted"
    admin.deletePodcastChannel(chan["id"])
    assert chan["id"] not in [c["id"] for c in _as_list(bob.getPodcasts()["podcasts"].get("channel"))]


async def test_py_opensonic_podcasts(world: PodcastWorld) -> None:
    with world.server.client("admin") as c:
        sid = main_show(world, c)
        second = episodes_by_title(c, sid)["Second Episode"]
    u = urllib.parse.urlsplit(world.server.base)
    c = libopensonic.AsyncConnection(f"http://{u.hostname}", "alice", USERS["alice"][0], port=u.port or 80,
                                     app_name="musicd-tests")
    try:
        channels = await c.get_podcasts()
        main = next(ch for ch in channels if ch.id == sid)
        assert main.status == libopensonic.media.PodcastStatus.completed and main.cover_art
        ep = await c.get_podcast_episode(second["id"])
        assert ep.channel_id == sid and ep.stream_id == second["id"] and ep.title == "Second Episode"
        assert ep.description and "script" not in ep.description
        assert [e.id for e in await c.get_newest_podcasts(count=50)]
        await c.report_playback(second["id"], "podcast", 7000, "paused")
    finally:
        await c.cleanup()
    with world.server.client("alice") as h:
        assert h.get(f"/v1/episodes/{second['id']}").json()["resume_point"]["resume_position_ms"] == 7000


def test_gpodder_sync_with_mygpoclient(world: PodcastWorld) -> None:
    fs = world.feeds
    fs.routes["/gpo.xml"] = Route(rss("GPodder Show", [Item("g1", "Synced", fs.url("/a/one.mp3"))]))
    with world.server.client("admin") as c:
        sid = main_show(world, c)
        second = episodes_by_title(c, sid)["Second Episode"]
        c.put(f"/v1/me/episodes/{second['id']}/played", json={"played": False})
    client = gpo_api.MygPodderClient("admin", USERS["admin"][0], world.server.base)
    assert client.update_device_settings("phone", caption="Admin's phone", type="mobile") is True
    devices = {d.device_id: d for d in client.get_devices()}
    assert devices["phone"].caption == "Admin's phone" and devices["phone"].type == "mobile"
    # Subscriptions: the server's list, then a new feed added by the app (the admin may add feeds).
    changes = client.pull_subscriptions("phone", 0)
    assert fs.url("/main.xml") in changes.add
    result = client.update_subscriptions("phone", add_urls=[fs.url("/gpo.xml")], remove_urls=[])
    assert result.since > 0 and result.update_urls == []
    with world.server.client("admin") as c:
        saved = c.get("/v1/me/shows", params={"limit": 50}).json()["items"]
        assert "GPodder Show" in [s["show"]["name"] for s in saved]
    # Another device that last synced before the change gets it (and later, its removal).
    later = client.pull_subscriptions("tablet", changes.since)
    assert fs.url("/gpo.xml") in later.add
    client.update_subscriptions("phone", remove_urls=[fs.url("/gpo.xml")])
    assert fs.url("/gpo.xml") in client.pull_subscriptions("tablet", later.since).remove
    # An episode action from the app moves musicd's position ...
    now = datetime.now(UTC).replace(microsecond=0)
    action = gpo_api.EpisodeAction(fs.url("/main.xml"), fs.url("/a/two.flac"), "play", device="phone",
                                   timestamp=now.strftime("%Y-%m-%dT%H:%M:%S"), started=0, position=6, total=12)
    since = client.upload_episode_actions([action])
    with world.server.client("admin") as c:
        assert c.get(f"/v1/episodes/{second['id']}").json()["resume_point"]["resume_position_ms"] == 6000
        # ... and a position set in the web player reaches the app.
        c.put(f"/v1/me/episodes/{second['id']}/progress", json={"position_ms": 9000, "device_id": "web"})
    got = client.download_episode_actions(since)
    plays = [a for a in got.actions if a.episode == fs.url("/a/two.flac")]
    assert plays and plays[-1].action == "play" and plays[-1].position == 9 and plays[-1].total == 12
    # An older action (a phone that was offline) does not move the position back.
    stale = gpo_api.EpisodeAction(fs.url("/main.xml"), fs.url("/a/two.flac"), "play", device="phone",
                                  timestamp=(now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S"),
                                  started=0, position=1, total=12)
    client.upload_episode_actions([stale])
    with world.server.client("admin") as c:
        assert c.get(f"/v1/episodes/{second['id']}").json()["resume_point"]["resume_position_ms"] == 9000
    # An episode musicd does not know is kept and handed to the other devices.
    unknown = gpo_api.EpisodeAction("http://elsewhere.example/feed", "http://elsewhere.example/e.mp3", "download",
                                    device="phone")
    client.upload_episode_actions([unknown])
    assert any(a.episode == "http://elsewhere.example/e.mp3" for a in client.download_episode_actions(0).actions)
    # The simple API's whole list.
    assert fs.url("/main.xml") in client.get_subscriptions("phone")
    # Wrong password, another user's data, a malformed upload.
    with pytest.raises(gpo_http.Unauthorized):
        gpo_api.MygPodderClient("admin", "wrong-password", world.server.base).get_devices()
    other = gpo_api.MygPodderClient("bob", USERS["bob"][0], world.server.base)
    other._locator._username = "admin"
    with pytest.raises(gpo_http.Unauthorized):
        other.get_devices()
    with pytest.raises(gpo_http.BadRequest):
        client._client.POST(client._locator.upload_episode_actions_uri(), [{"podcast": 1}])


def test_gpodder_session_login(world: PodcastWorld) -> None:
    import httpx

    base = world.server.base
    r = httpx.post(f"{base}/api/2/auth/alice/login.json", auth=("alice", USERS["alice"][0]))
    assert r.status_code == 200 and "sessionid" in r.cookies
    r2 = httpx.get(f"{base}/api/2/devices/alice.json", cookies={"sessionid": r.cookies["sessionid"]})
    assert r2.status_code == 200 and isinstance(r2.json(), list)
    r3 = httpx.get(f"{base}/api/2/devices/alice.json")
    assert r3.status_code == 401 and r3.headers["www-authenticate"].startswith("Basic")
    r4 = httpx.get(f"{base}/api/2/devices/bob.json", cookies={"sessionid": r.cookies["sessionid"]})
    assert r4.status_code == 401


def test_subsonic_podcast_xml_validates(world: PodcastWorld) -> None:
    """The podcast answers (with channels, episodes and an episode bookmark) against the Subsonic XSD and the
    OpenSubsonic JSON shapes."""
    from tests.integration.subsonic_shapes import check_json
    from tests.integration.subsonic_support import Sub, schema

    with world.server.client("admin") as c:
        sid = main_show(world, c)
        eid = episodes_by_title(c, sid)["First Episode"]["id"]
    sub = Sub(world.server.base, "alice", USERS["alice"][0])
    sub.call("createBookmark", {"id": eid, "position": 1500})
    for method, params in (("getPodcasts", {}), ("getPodcasts", {"id": sid, "includeEpisodes": "false"}),
                           ("getNewestPodcasts", {"count": 3}), ("getPodcastEpisode", {"id": eid}),
                           ("getBookmarks", {}), ("getPodcastEpisode", {"id": "nope"}),
                           ("createPodcastChannel", {"url": "http://127.0.0.1:1/x"})):
        r = sub.raw(method, params, fmt="xml")
        assert r.status_code == 200
        schema().validate(r.text)
        check_json(sub.raw(method, params).content)
    sub.call("deleteBookmark", {"id": eid})
