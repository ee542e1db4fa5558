"""A podcast show kept offline in the web player, in headless Chromium: follow a show, press its "Download",
wait for its episodes, cut the network (the page's and the service worker's), reload, play, seek and skip
episodes from the encrypted storage (no plaintext audio in the browser's storage); back online the place
reached offline is the episode's position, a new episode of the feed arrives, and unfollowing the show
deletes its episodes from the browser."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import Console, sync_api
from tests.e2e.test_offline_player import (
    _SCAN_STORAGE,
    _cut_service_worker,
    _download,
    _offline_page,
    _user,
    _wait,
    sw_browser,
)
from tests.feed_server import FeedServer, Item, Route, feed_server, make_episode_audio, rss
from tests.integration.listens_support import wait_for
from tests.live import LiveServer, start_server

expect = sync_api.expect
pytestmark = pytest.mark.slow
__all__ = ["sw_browser"]  # the fixture, shared with the playlist test

PUBS = ["Mon, 01 Jan 2024 10:00:00 GMT", "Tue, 02 Jan 2024 10:00:00 GMT", "Wed, 03 Jan 2024 10:00:00 GMT"]


def _publish(fs: FeedServer, audio: bytes, n: int) -> None:
    items = [Item(f"w{i}", f"Web Episode {i}", fs.url(f"/w{i}.ogg"), len(audio), type="audio/ogg", pub=PUBS[i - 1])
             for i in range(n, 0, -1)]
    for i in range(1, n + 1):
        fs.routes[f"/w{i}.ogg"] = Route(audio, "audio/ogg")
    fs.routes["/web.xml"] = Route(rss("Offline Web Show", items), etag=f'"w{n}"')


@pytest.fixture(scope="module")
def show_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, FeedServer, bytes]]:
    work = tmp_path_factory.mktemp("offline-show-web")
    audio = make_episode_audio(work / "audio", "web-episode", 6, 440, "ogg")
    with feed_server() as fs:
        _publish(fs, audio, 2)
        with start_server(work, MUSICD_PODCASTS_ALLOW_HOSTS=f"127.0.0.1:{fs.port}",
                          MUSICD_PODCASTS_AUTO_DOWNLOAD="0") as server:
            yield server, fs, audio


def test_a_show_kept_offline_plays_without_network_and_follows_the_feed(
        show_server: tuple[LiveServer, FeedServer, bytes], sw_browser: sync_api.Browser, screenshots: Path) -> None:
    # The server first: it is prepared with asyncio.run, which cannot run beside Playwright's loop.
    server, fs, audio = show_server
    name, password, headers = _user(server)
    with httpx.Client(base_url=server.base, headers=server.headers("admin"), timeout=30) as admin:
        sid = admin.post("/v1/podcasts", json={"feed_url": fs.url("/web.xml")}).json()["id"]
    http = httpx.Client(base_url=server.base, headers=headers, timeout=30)
    assert http.put("/v1/me/shows", params={"ids": sid}).status_code == 200
    eps = [e["id"] for e in http.get(f"/v1/shows/{sid}/episodes").json()["items"]]  # newest first

    console = Console()
    context, page = _offline_page(sw_browser, server, name, password, console)
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")

    # Keep the followed show offline from its page; its two episodes download.
    done = _download(page, server, f"/show/{sid}", "show", 2)
    expect(page.locator("#offline-tracks")).to_contain_text("Web Episode 2")
    expect(page.locator("#offline-tracks")).to_contain_text("Offline Web Show")
    scanned = page.evaluate(_SCAN_STORAGE)
    assert scanned["found"] == [] and scanned["bytesSeen"] > len(audio), scanned

    # No network: the player opens on its downloads and plays, seeks and skips episodes.
    context.route("**/*", _cut_service_worker)
    context.set_offline(True)
    page.reload()
    page.wait_for_selector("body.ready")
    assert page.evaluate("location.pathname") == "/offline"
    expect(done).to_have_count(2)
    done.nth(0).locator(".offline-play").click()
    _wait(page, "() => { const a = window.musicd.player.audio; return a && a.currentTime > 0.3 && !a.paused; }")
    assert page.evaluate("window.musicd.player.audio.src").startswith("blob:")
    assert page.evaluate("[window.musicd.player.current.track.id, window.musicd.player.current.track.kind]") == [
        eps[0], "episode"]
    page.evaluate("window.musicd.player.seek(3)")
    _wait(page, "() => { const a = window.musicd.player.audio; return !a.seeking && a.currentTime >= 3; }")
    page.evaluate("window.musicd.player.next()")
    _wait(page, "(id) => window.musicd.player.current.track.id === id && window.musicd.player.audio.currentTime > 0.2",
          eps[1])
    assert _wait(page, "() => window.musicdOffline.pendingPlays().then(n => n >= 1 ? n : 0)") >= 1
    page.evaluate("window.musicd.player.pause()")
    page.screenshot(path=str(screenshots / "offline-show.png"))

    # Back online: the place reached offline in the first episode becomes its position.
    context.unroute("**/*", _cut_service_worker)
    context.set_offline(False)
    page.evaluate("window.musicdOffline.sync()")
    pos = wait_for(lambda: http.get(f"/v1/episodes/{eps[0]}").json()["resume_point"]["resume_position_ms"])
    assert pos >= 3000

    # A new episode in the feed comes in at the next sync.
    _publish(fs, audio, 3)
    with httpx.Client(base_url=server.base, headers=server.headers("admin"), timeout=30) as admin:
        assert admin.post(f"/v1/shows/{sid}/refresh").json()["status"] == "ok"
    page.evaluate("window.musicdOffline.sync()")
    expect(done).to_have_count(3, timeout=30_000)
    expect(page.locator("#offline-tracks")).to_contain_text("Web Episode 3")

    # Unfollowing the show (on its page) deletes its episodes from this browser.
    page.goto(f"{server.base}/show/{sid}")
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.locator("[data-offline-toggle=show]")).to_be_hidden()
    # (polled from here: wait_for_function takes the first answer of a function returning a promise)
    assert wait_for(lambda: page.evaluate("() => window.musicdOffline.stored()") == 0)
    assert page.evaluate(_SCAN_STORAGE)["found"] == []
    http.close()
    context.close()
    assert [e for e in console.errors if "ERR_INTERNET_DISCONNECTED" not in e and "Failed to load resource" not in e
            and "Failed to fetch" not in e] == []
