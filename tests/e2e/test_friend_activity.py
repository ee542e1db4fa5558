"""The friend-activity panel in real headless Chromium: alice follows bob, bob shares his listening and
plays a track in his own browser; alice's panel shows it live, over the realtime channel, without a reload.
Then bob starts a private session and plays another track: alice's panel does not show it."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import Console, login, new_page, sync_api
from tests.live import LiveServer

Page = sync_api.Page
expect = sync_api.expect

pytestmark = pytest.mark.slow

PLAYING = """() => { const a = window.musicd && window.musicd.player.audio;
                     return Boolean(a && !a.paused && a.currentTime > 0.2); }"""


def _page(browser: sync_api.Browser, console: Console) -> Page:
    page = new_page(browser, console, viewport={"width": 1400, "height": 850})  # wide enough for the panel
    page.set_default_timeout(15_000)
    return page


def _login(page: Page, base: str, name: str) -> None:
    login(page, base, name)
    page.wait_for_function("() => document.documentElement.dataset.realtime === 'open'")


def _play(page: Page, query: str, title: str) -> None:
    page.locator("#search-input").fill(query)
    row = page.locator(".songs-section .track-row").filter(
        has=page.locator(".track-name", has_text=re.compile(f"^{re.escape(title)}$")))
    row.hover()
    row.locator(".row-play").click()
    page.wait_for_function(PLAYING)


def test_friend_activity_panel_updates_live(browser: sync_api.Browser, web_server: LiveServer,
                                            screenshots: Path) -> None:
    base = web_server.base
    bob_id = web_server.user_id("bob")
    r = httpx.put(f"{base}/v1/me/settings", json={"share_activity": True}, headers=web_server.headers("bob"))
    assert r.status_code == 200 and r.json()["share_activity"] is True
    r = httpx.put(f"{base}/v1/me/following", params={"type": "user", "ids": bob_id},
                  headers=web_server.headers("alice"))
    assert r.status_code == 204, r.text

    console = Console()
    alice = _page(browser, console)
    _login(alice, base, "alice")
    panel = alice.locator("#friends-panel")
    expect(panel.get_by_role("heading", name="Friend activity")).to_be_visible()
    alice.evaluate("""() => { window.__sameDocument = true; window.__heard = [];
        window.musicd.realtime.on("friend_activity", (d) => window.__heard.push(d.track.name)); }""")

    bob = _page(browser, console)
    _login(bob, base, "bob")
    _play(bob, "hone", "Home")

    friend = panel.locator(".friend", has_text="bob")
    expect(friend).to_be_visible()
    expect(friend.locator(".friend-track")).to_contain_text("Home")
    expect(friend).to_have_attribute("data-playing", "1")
    expect(friend.locator(".friend-live")).to_be_visible()
    assert alice.evaluate("() => window.__sameDocument === true"), "the panel updated without a reload"
    alice.screenshot(path=str(screenshots / "friend-activity.png"))

    # A private session (from bob's settings page) hides what he plays next.
    bob.locator("#user-button").click()
    bob.get_by_role("menuitem", name="Settings").click()
    bob.get_by_role("button", name="Start a private session (1 hour)").click()
    expect(bob.get_by_role("button", name="End the private session")).to_be_visible()
    bob.get_by_role("button", name="Next track").click()
    bob.wait_for_function("() => document.getElementById('player-title').textContent !== 'Home'")
    bob.wait_for_function(PLAYING)
    hidden = bob.locator("#player-title").inner_text()
    # He ends it and skips again: alice sees that track; the private one never reached her page.
    bob.get_by_role("button", name="End the private session").click()
    expect(bob.get_by_role("button", name="Start a private session (1 hour)")).to_be_visible()
    bob.get_by_role("button", name="Next track").click()
    bob.wait_for_function("(t) => document.getElementById('player-title').textContent !== t", arg=hidden)
    bob.wait_for_function(PLAYING)
    shown = bob.locator("#player-title").inner_text()
    expect(friend.locator(".friend-track")).to_contain_text(shown)
    heard = alice.evaluate("() => window.__heard")
    assert hidden not in heard and heard[-1] == shown, heard
    console.assert_clean()
    alice.context.close()
    bob.context.close()
