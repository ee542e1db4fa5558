"""A podcast show kept offline (docs/offline.md, issue 17 item 5) against a real server and a local feed server:
its newest episodes in the licence (type "episode"), downloaded as containers that decrypt to the episode,
new episodes following the feed, unfollowing and unmarking taking them away, revocation, plays made offline
moving the episode's one position, and the podcast cleanup sparing what a device keeps."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from musicd.services.offline_container import ContainerError, decrypt
from tests.feed_server import FeedServer, Item, Route, feed_server, make_episode_audio, rss
from tests.integration.offline_support import Device, register
from tests.integration.podcast_support import episode_status, wait_for
from tests.live import LiveServer, start_server

PUBS = ["Mon, 01 Jan 2024 10:00:00 GMT", "Tue, 02 Jan 2024 10:00:00 GMT", "Wed, 03 Jan 2024 10:00:00 GMT",
        "Thu, 04 Jan 2024 10:00:00 GMT"]


@dataclass
class ShowWorld:
    server: LiveServer
    feeds: FeedServer
    audio: bytes

    def publish(self, n: int) -> None:
        """/show.xml with episodes 1..n (n the newest)."""
        items = [Item(f"ep-{i}", f"Episode {i}", self.feeds.url(f"/a/{i}.mp3"), len(self.audio), pub=PUBS[i - 1])
                 for i in range(n, 0, -1)]
        for i in range(1, n + 1):
            self.feeds.routes[f"/a/{i}.mp3"] = Route(self.audio, "audio/mpeg")
        self.feeds.routes["/show.xml"] = Route(rss("Offline Show", items), etag=f'"v{n}"')


@pytest.fixture(scope="module")
def sw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ShowWorld]:
    work = tmp_path_factory.mktemp("offline-shows")
    audio = make_episode_audio(work.parent.parent / "musicd-episode-audio", "offline-show", 3, 500)
    with feed_server() as fs:
        world = ShowWorld(None, fs, audio)  # type: ignore[arg-type]
        world.publish(3)
        # Keep one download per show and fetch none ahead: what an offline device keeps is spared anyway.
        with start_server(work, MUSICD_PODCASTS_ALLOW_HOSTS=f"127.0.0.1:{fs.port}",
                          MUSICD_PODCASTS_AUTO_DOWNLOAD="0", MUSICD_PODCASTS_KEEP_DOWNLOADS="1") as server:
            world.server = server
            yield world


def _show(sw: ShowWorld, c: httpx.Client) -> tuple[str, dict[str, str]]:
    """The show's id (added by the admin, followed by the client's user) and its episode ids by title."""
    with sw.server.client("admin") as a:
        r = a.post("/v1/podcasts", json={"feed_url": sw.feeds.url("/show.xml")})
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    assert c.put("/v1/me/shows", params={"ids": sid}).status_code == 200
    page = c.get(f"/v1/shows/{sid}/episodes", params={"limit": 50}).json()
    return sid, {e["name"]: e["id"] for e in page["items"]}


def _refresh(sw: ShowWorld, sid: str) -> str:
    with sw.server.client("admin") as a:
        return str(a.post(f"/v1/shows/{sid}/refresh").json()["status"])


def _mark(c: httpx.Client, dev: Device, sid: str, **extra: object) -> httpx.Response:
    return c.put(f"/v1/me/devices/{dev.id}/offline", json={"type": "show", "id": sid, **extra})


def test_a_show_kept_offline_follows_its_feed_and_leaves_with_it(sw: ShowWorld) -> None:
    with sw.server.client("alice") as c:
        sid, eps = _show(sw, c)
        dev = register(c, {})
        r = _mark(c, dev, sid, episodes=2, quality="original")
        assert r.status_code == 201, r.text
        assert r.json() | {"created_at": None} == {"type": "show", "id": sid, "quality": "original", "episodes": 2,
                                                   "created_at": None}
        lic, _ = dev.heartbeat()
        assert [(i.track_id, i.type, i.quality) for i in lic.items] == [
            (eps["Episode 3"], "episode", "original"), (eps["Episode 2"], "episode", "original")]
        # The container decrypts, with this device's key, to the episode's file (fetched to the server for it).
        dev.download(eps["Episode 3"], cut_at=1000)  # resumed with Range, like an interrupted download
        assert dev.plain(eps["Episode 3"]) == sw.audio
        dev.download(eps["Episode 2"])
        assert dev.plain(eps["Episode 2"]) == sw.audio
        state = c.get(f"/v1/me/devices/{dev.id}/offline").json()
        assert state["items"][0]["tracks"] == [eps["Episode 3"], eps["Episode 2"]]
        dev.heartbeat()
        assert c.get(f"/v1/me/devices/{dev.id}/offline").json()["items"][0]["held"] == 2

        # The podcast cleanup keeps one download per show (it runs after each download), but spares the two
        # this device keeps.
        wait_for(lambda: episode_status(c, eps["Episode 2"]) == "completed", what="the offline episode's download")
        time.sleep(0.5)
        assert episode_status(c, eps["Episode 3"]) == episode_status(c, eps["Episode 2"]) == "completed"

        # A new episode in the feed: it comes in, the oldest of the two leaves the device.
        sw.publish(4)
        assert _refresh(sw, sid) == "ok"
        new = _show(sw, c)[1]["Episode 4"]
        lic, gone = dev.heartbeat()
        assert [i.track_id for i in lic.items] == [new, eps["Episode 3"]] and gone == [eps["Episode 2"]]
        assert dev.plain(eps["Episode 3"]) == sw.audio and eps["Episode 2"] not in dev.held
        dev.download(new)
        assert dev.plain(new) == sw.audio

        # Unfollowing the show takes its episodes away; following it again brings them back.
        assert c.delete("/v1/me/shows", params={"ids": sid}).status_code == 200
        lic, gone = dev.heartbeat()
        assert lic.status == "active" and lic.items == [] and sorted(gone) == sorted([new, eps["Episode 3"]])
        assert dev.get(new).json()["error"]["code"] == "not_licensed"
        assert c.put("/v1/me/shows", params={"ids": sid}).status_code == 200
        lic, _ = dev.heartbeat()
        assert [i.track_id for i in lic.items] == [new, eps["Episode 3"]]

        # Unmarking it does too.
        assert c.delete(f"/v1/me/devices/{dev.id}/offline", params={"type": "show", "id": sid}).status_code == 204
        lic, _ = dev.heartbeat()
        assert lic.items == []


def test_show_marks_refused_clearly_and_revocation_applies(sw: ShowWorld) -> None:
    with sw.server.client("bob") as c:
        sid, eps = _show(sw, c)  # three or four episodes, as the tests before left the feed
        dev = register(c, {})
        assert c.delete("/v1/me/shows", params={"ids": sid}).status_code == 200
        r = _mark(c, dev, sid)
        assert r.status_code == 403 and r.json()["error"]["code"] == "show_not_followed", r.text
        assert c.put("/v1/me/shows", params={"ids": sid}).status_code == 200
        for bad in (0, 101):
            r = _mark(c, dev, sid, episodes=bad)
            assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_episodes", r.text
        r = _mark(c, dev, "no-such-show")
        assert r.status_code == 403 and r.json()["error"]["code"] == "show_not_followed", r.text
        r = _mark(c, dev, sid, quality="low")  # the default: offline.show_episodes (10), i.e. all of them
        assert r.status_code == 201 and r.json()["episodes"] == 10, r.text
        lic, _ = dev.heartbeat()
        assert {i.track_id for i in lic.items} == set(eps.values()) and {i.type for i in lic.items} == {"episode"}
        first = lic.items[0].track_id
        dev.download(first)
        # What the episode plays as in the low quality (the playback's rule picks the tier or the original).
        assert dev.plain(first) == c.get(f"/v1/episodes/{first}/stream", params={"quality": "low"}).content

        # Another device's key does not open it.
        other = register(c, {}, "tablet")
        with pytest.raises(ContainerError):
            decrypt(other.key, dev.held[first])

        # Revoked: the next heartbeat says so and lists nothing; downloads are refused.
        assert c.delete(f"/v1/me/devices/{dev.id}").status_code == 204
        lic, gone = dev.heartbeat()
        assert (lic.status, lic.reason, lic.items, gone) == ("revoked", "device_revoked", [], [first])
        assert dev.get(first).status_code == 403


def test_episode_plays_made_offline_move_the_position(sw: ShowWorld) -> None:
    with sw.server.client("alice") as c:
        sid, _ = _show(sw, c)
        dev = register(c, {}, "laptop")
        assert _mark(c, dev, sid, episodes=1).status_code == 201
        lic, _ = dev.heartbeat()
        ep = lic.items[0].track_id
        now = int(time.time() * 1000)
        # Heard offline an hour ago, stopped 2.5 s in; an online report since then is newer and stays.
        r = c.put(f"/v1/me/episodes/{ep}/progress", json={"position_ms": 100, "timestamp": now - 600_000})
        assert r.status_code == 200, r.text
        plays = {"plays": [{"track_id": ep, "played_at": now - 3_600_000, "ms_played": 2000, "position_ms": 2500}]}
        r = c.post("/v1/offline/plays", headers=dev.auth, json=plays)
        assert r.status_code == 200 and r.json() == {"accepted": 1}, r.text
        assert c.get(f"/v1/episodes/{ep}").json()["resume_point"]["resume_position_ms"] == 100
        plays["plays"][0]["played_at"] = now - 5_000
        r = c.post("/v1/offline/plays", headers=dev.auth, json=plays)
        assert r.status_code == 200 and r.json() == {"accepted": 1}, r.text
        assert c.get(f"/v1/episodes/{ep}").json()["resume_point"]["resume_position_ms"] == 2500
        bad = {"plays": [{"track_id": ep, "played_at": now, "ms_played": 1, "position_ms": -1}]}
        r = c.post("/v1/offline/plays", headers=dev.auth, json=bad)
        assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_event", r.text
