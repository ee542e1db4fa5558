"""A live musicd that may fetch from a local feed server (podcasts.allow_hosts), with feeds of real audio."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.feed_server import FeedServer, Item, Route, feed_server, make_episode_audio, rss
from tests.live import LiveServer, start_server

CHAPTERS = b'{"version": "1.2.0", "chapters": [{"startTime": 0, "title": "Hello"}, {"startTime": 4, "title": "News"}]}'
NOTES = '<p>Welcome <script>alert("x")</script><a href="javascript:alert(1)">bad</a> <b>bold</b></p>'


@dataclass
class PodcastWorld:
    server: LiveServer
    feeds: FeedServer
    audio: dict[str, bytes]

    def add_feed(self, client: httpx.Client, path: str) -> httpx.Response:
        return client.post("/v1/podcasts", json={"feed_url": self.feeds.url(path)})


def publish_main_feed(fs: FeedServer, audio: dict[str, bytes], *, extra: list[Item] | None = None,
                      etag: str = '"v1"') -> None:
    """/main.xml: two good episodes (one with chapters and transcripts), a broken item, a duplicate guid."""
    items = [
        Item("main-2", "Second Episode", fs.url("/a/two.flac"), len(audio["two"]), type="audio/flac",
             pub="Tue, 02 Jan 2024 10:00:00 GMT", notes=NOTES, duration="0:12"),
        Item("main-1", "First Episode", fs.url("/a/one.mp3"), 123, pub="Mon, 01 Jan 2024 10:00:00 GMT",
             chapters=fs.url("/a/one.json"), transcripts=[(fs.url("/a/one.vtt"), "text/vtt", "en")]),
        Item("main-x", "Broken, no enclosure", None),
        Item("main-1", "Duplicate guid", fs.url("/a/dup.mp3")),
        *(extra or []),
    ]
    fs.routes["/main.xml"] = Route(rss("Main Show", items, description="<p>A <i>test</i> show</p>",
                                       image=fs.url("/a/cover.png")), etag=etag)


def _png() -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PodcastWorld]:
    work = tmp_path_factory.mktemp("podcasts")
    cache = work.parent.parent / "musicd-episode-audio"
    audio = {"one": make_episode_audio(cache, "one", 8, 440), "two": make_episode_audio(cache, "two", 12, 550, "flac"),
             "slow": make_episode_audio(cache, "slow", 40, 330), "ogg": make_episode_audio(cache, "ogg", 5, 600, "ogg")}
    with feed_server() as fs:
        fs.routes["/a/one.mp3"] = Route(audio["one"], "audio/mpeg")
        fs.routes["/a/two.flac"] = Route(audio["two"], "audio/flac")  # lossless: tiers are made of it
        fs.routes["/a/one.json"] = Route(CHAPTERS, "application/json+chapters")
        fs.routes["/a/cover.png"] = Route(_png(), "image/png")
        publish_main_feed(fs, audio)
        with start_server(work, users=None, MUSICD_PODCASTS_ALLOW_HOSTS=f"127.0.0.1:{fs.port}",
                          MUSICD_PODCASTS_AUTO_DOWNLOAD="2", MUSICD_PODCASTS_MAX_EPISODE_BYTES="3000000",
                          MUSICD_PODCASTS_MAX_FEED_BYTES="2000000") as server:
            yield PodcastWorld(server, fs, audio)


def wait_for(check: object, timeout: float = 20.0, what: str = "condition") -> object:
    """Poll `check()` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        got = check()  # type: ignore[operator]
        if got:
            return got
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def episode_status(client: httpx.Client, episode_id: str) -> str:
    return str(client.get(f"/v1/episodes/{episode_id}").json()["download"]["status"])


def episodes_by_title(client: httpx.Client, show_id: str) -> dict[str, dict[str, object]]:
    page = client.get(f"/v1/shows/{show_id}/episodes", params={"limit": 50}).json()
    return {e["name"]: e for e in page["items"]}


def main_show(world: PodcastWorld, client: httpx.Client) -> str:
    """The id of /main.xml's show (added by the admin if it is not there yet)."""
    r = world.add_feed(client, "/main.xml")
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


__all__ = [
    "PodcastWorld",
    "episode_status",
    "episodes_by_title",
    "main_show",
    "publish_main_feed",
    "wait_for",
    "world",
]
