"""The household's web pages in real headless Chromium: a public share link that plays without an account,
the phone's full-screen player (390×844), and the admin's chores (an invited member signs up).

Screenshots of each go to test-artifacts/screenshots/."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import Console, new_page, sync_api
from tests.integration.playlist_helpers import track_ids
from tests.live import USERS, LiveServer

Page = sync_api.Page
expect = sync_api.expect

pytestmark = pytest.mark.slow

SHARE_PLAYING = """(min) => { const a = window.musicdShare && window.musicdShare.audio;
                              return Boolean(a && !a.paused && !a.error && a.currentTime > min); }"""


def _playlist(server: LiveServer, name: str, tracks: list[str]) -> str:
    h = server.headers("alice")
    pid = httpx.post(f"{server.base}/v1/me/playlists", json={"name": name, "public": False}, headers=h).json()["id"]
    r = httpx.post(f"{server.base}/v1/playlists/{pid}/tracks",
                   json={"uris": [f"spotify:track:{t}" for t in tracks]}, headers=h)
    assert r.status_code == 201, r.text
    return str(pid)


def test_a_share_link_plays_without_logging_in(browser: sync_api.Browser, web_server: LiveServer,
                                               screenshots: Path) -> None:
    base = web_server.base
    pool = track_ids(web_server)
    pid = _playlist(web_server, "Road trip", pool[:3])
    link = httpx.post(f"{base}/v1/playlists/{pid}/share", json={"expires_in": 3600},
                      headers=web_server.headers("alice")).json()

    console = Console()
    page = new_page(browser, console)  # a fresh context: no tokens, no cookies
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url))
    page.goto(link["url"])
    expect(page.get_by_role("heading", level=1)).to_have_text("Road trip")
    expect(page.locator(".share-by")).to_contain_text("alice")
    expect(page.locator(".share-track")).to_have_count(3)
    cover = page.locator(".share-cover img")
    page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=cover.element_handle())
    page.screenshot(path=str(screenshots / "share-page.png"))

    # The second track plays; the player bar follows; "next" goes on to the third; seeking moves it.
    second = page.locator(".share-track").nth(1)
    second.click()
    page.wait_for_function(SHARE_PLAYING, arg=0.3)
    expect(second).to_have_attribute("aria-current", "true")
    expect(page.locator("#share-now-title")).to_have_text(second.get_attribute("data-title") or "")
    page.get_by_role("button", name="Next track").click()
    expect(page.locator(".share-track").nth(2)).to_have_attribute("aria-current", "true")
    page.wait_for_function(SHARE_PLAYING, arg=0.2)
    page.get_by_role("button", name="Pause").click()
    page.wait_for_function("() => window.musicdShare.audio.paused")
    half = page.evaluate("""() => { const s = document.getElementById('share-seek'), v = Number(s.max) / 2;
                                    s.value = String(v); s.dispatchEvent(new Event('change')); return v; }""")
    assert half > 0.5
    page.wait_for_function("(v) => Math.abs(window.musicdShare.audio.currentTime - v) < 0.3", arg=half)
    expect(page.locator("#share-time")).not_to_have_text("0:00")
    page.screenshot(path=str(screenshots / "share-page-playing.png"))

    # Only the share's own URLs were asked for (no API, no login); no other track is reachable through it.
    assert not [u for u in asked if re.search(r"/(v1|rest|login)\b", u)], asked
    assert page.evaluate("() => localStorage.length") == 0
    assert httpx.get(f"{base}/share/{link['token']}/tracks/{pool[5]}").status_code == 404

    # A Subsonic share of an album opens on its short link the same way, at phone width too.
    sub = httpx.get(f"{base}/rest/createShare", params={"u": "alice", "p": USERS["alice"][0], "v": "1.16.1",
                                                        "c": "test", "f": "json", "id": pool[0]}).json()
    short = sub["subsonic-response"]["shares"]["share"][0]["url"]
    phone = new_page(browser, console, viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
    phone.goto(short)
    phone.get_by_role("button", name="Play all").click()
    phone.wait_for_function(SHARE_PLAYING, arg=0.3)
    phone.screenshot(path=str(screenshots / "share-page-phone.png"))
    console.assert_clean()
    page.context.close()
    phone.context.close()
