"""A collaborative playlist edited live in real headless Chromium: alice (the owner) and bob (a collaborator)
each have it open in their own browser. What one does (a keyboard reorder, an add from a track menu, a
removal, a rename) appears in the other's open view over the realtime channel, in place: no reload, no
refetch of the list, bob's scroll position and his playing track untouched. Then both reorder at the same
instant and both views end in the server's order (docs/realtime.md, "Live playlists"); when alice deletes
it, bob's view says so."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.e2e.conftest import Console, login, new_page, sync_api
from tests.integration.playlist_helpers import track_ids
from tests.live import LiveServer

Page = sync_api.Page
expect = sync_api.expect

pytestmark = pytest.mark.slow

ENTRIES = 40
PLAYING = """() => { const a = window.musicd && window.musicd.player.audio;
                     return Boolean(a && !a.paused && a.currentTime > 0.2); }"""


def _open(browser: sync_api.Browser, console: Console, base: str, name: str, pid: str) -> tuple[Page, list[str]]:
    """A logged-in page on the playlist, and the list of its later GETs of the playlist's items."""
    page = new_page(browser, console)
    page.set_default_timeout(15_000)
    login(page, base, name)
    page.wait_for_function("() => document.documentElement.dataset.realtime === 'open'")
    page.goto(f"{base}/playlist/{pid}")
    page.wait_for_selector("body.ready")
    expect(page.locator(".track-list .track-row[data-index='0'][data-loaded='1']")).to_be_visible()
    page.wait_for_function("() => document.documentElement.dataset.realtime === 'open'")
    page.evaluate("() => { window.__sameDocument = true; }")
    refetches: list[str] = []
    page.on("request", lambda r: refetches.append(r.url)
            if r.method == "GET" and re.search(rf"/v1/playlists/{pid}(/tracks|\?|$)", r.url) else None)
    return page, refetches


def _names(page: Page, first: int, last: int) -> list[str]:
    """The track names the view shows at indices first..last-1, once it shows them all.

    The list is virtual: after a scroll it draws the rows now in view on the next animation frame, and until
    then the DOM holds the rows of the old position (and the focused row, which it never drops). Read at
    once, a busy browser answered None for rows it had not drawn yet, and the test then waited for names
    that could never show."""
    page.wait_for_function("""([a, b]) => { for (let i = a; i < b; i++) {
          const row = `.track-list .track-row[data-index='${i}'][data-loaded='1'] .track-name`;
          if (!document.querySelector(row)) return false;
        }
        return true; }""", arg=[first, last])
    return page.evaluate("""([a, b]) => { const out = [];
        for (let i = a; i < b; i++) {
          const r = document.querySelector(`.track-list .track-row[data-index='${i}'] .track-name`);
          out.push(r ? r.textContent : null);
        }
        return out; }""", [first, last])


def _server_names(base: str, headers: dict[str, str], pid: str, names: dict[str, str]) -> list[str]:
    items = httpx.get(f"{base}/v1/playlists/{pid}/tracks", params={"limit": 100}, headers=headers).json()["items"]
    return [names[i["track"]["id"]] for i in items]


def test_two_browsers_edit_one_playlist_live(browser: sync_api.Browser, web_server: LiveServer) -> None:
    base = web_server.base
    alice_h = web_server.headers("alice")
    pool = track_ids(web_server)
    names = {t["id"]: t["name"] for i in range(0, len(pool), 50)
             for t in httpx.get(f"{base}/v1/tracks", params={"ids": ",".join(pool[i:i + 50])},
                                headers=alice_h).json()["tracks"]}
    # Distinct names first (the rows the test reads), then repeats to make the list scroll.
    distinct = list({names[t]: t for t in pool}.values())
    entries = (distinct * (ENTRIES // len(distinct) + 1))[:ENTRIES]
    pid = httpx.post(f"{base}/v1/me/playlists", json={"name": "Live mix", "public": False, "collaborative": True},
                     headers=alice_h).json()["id"]
    r = httpx.post(f"{base}/v1/playlists/{pid}/collaborators", json={"ids": [web_server.user_id("bob")]},
                   headers=alice_h)
    assert r.status_code in (200, 201), r.text
    r = httpx.post(f"{base}/v1/playlists/{pid}/tracks", json={"uris": [f"spotify:track:{t}" for t in entries]},
                   headers=alice_h)
    assert r.status_code == 201, r.text

    console = Console()
    alice, alice_gets = _open(browser, console, base, "alice", pid)
    bob, bob_gets = _open(browser, console, base, "bob", pid)
    # Bob plays the playlist and scrolls down a little.
    bob.get_by_role("button", name="Play Live mix").click()
    bob.wait_for_function(PLAYING)
    queue = "() => [window.musicd.player.queue.map((e) => e.uid).join(), window.musicd.player.index]"
    playing_queue, playing_index = bob.evaluate(queue)
    bob.evaluate("() => { document.getElementById('main').scrollTop = 240; }")
    bob.wait_for_timeout(200)
    scroll = bob.evaluate("() => document.getElementById('main').scrollTop")
    assert scroll > 0

    # Alice moves the first track down one (Alt+↓): bob's view follows.
    first = _names(alice, 0, 3)
    with alice.expect_response(lambda r: r.request.method == "PUT" and "/tracks" in r.url) as moved:
        alice.locator(".track-list .track-row[data-index='0']").focus()
        alice.keyboard.press("Alt+ArrowDown")
    assert moved.value.status == 200
    want = [first[1], first[0], first[2]]
    bob.wait_for_function("""(want) => want.every((n, i) =>
        document.querySelector(`.track-list .track-row[data-index='${i}'] .track-name`)?.textContent === n)""",
                          arg=want)
    assert _names(alice, 0, 3) == want

    # Bob adds a track from its menu (the chooser dialog): alice's view grows by one in place.
    row = bob.locator(".track-list .track-row[data-index='5']")
    added_name = _names(bob, 5, 6)[0]
    row.hover()
    row.get_by_role("button", name=re.compile("More options for")).click()
    bob.get_by_role("menuitem", name="Add to playlist…").click()
    with bob.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/tracks")) as added:
        bob.get_by_role("dialog").get_by_role("button", name="Live mix").click()
    assert added.value.status == 201
    expect(alice.locator(".header-meta")).to_contain_text(f"{ENTRIES + 1} songs")
    alice.evaluate("() => { document.getElementById('main').scrollTop = 1e6; }")
    expect(alice.locator(f".track-list .track-row[data-index='{ENTRIES}'] .track-name")).to_have_text(added_name)
    alice.evaluate("() => { document.getElementById('main').scrollTop = 0; }")

    # Bob removes the third row (its menu): gone from alice's view.
    before = _names(alice, 0, 5)
    row = bob.locator(".track-list .track-row[data-index='2']")
    row.hover()
    row.get_by_role("button", name=re.compile("More options for")).click()
    with bob.expect_response(lambda r: r.request.method == "DELETE" and "/tracks" in r.url) as removed:
        bob.get_by_role("menuitem", name="Remove from this playlist").click()
    assert removed.value.status == 200
    expect(alice.locator(".header-meta")).to_contain_text(f"{ENTRIES} songs")
    alice.wait_for_function("""(want) => want.every((n, i) =>
        document.querySelector(`.track-list .track-row[data-index='${i}'] .track-name`)?.textContent === n)""",
                            arg=before[:2] + before[3:5])

    # Alice renames it (over the API, as another of her devices would): bob's header follows.
    assert httpx.put(f"{base}/v1/playlists/{pid}", json={"name": "Live mix, renamed"},
                     headers=alice_h).status_code == 200
    expect(bob.get_by_role("heading", level=1)).to_have_text("Live mix, renamed")

    # None of this reloaded either page or refetched the list; bob's scroll and playback are as they were.
    assert alice_gets == [] and bob_gets == [], (alice_gets, bob_gets)
    for page in (alice, bob):
        assert page.evaluate("() => window.__sameDocument === true")
    assert bob.evaluate("() => document.getElementById('main').scrollTop") == scroll
    # The test tracks are short: playback may have gone on to the next one, never back to the start.
    now_queue, now_index = bob.evaluate(queue)
    assert now_queue == playing_queue and now_index >= playing_index
    bob.wait_for_function(PLAYING)

    # Both reorder at the same instant: both moves land and both views show the server's order.
    alice.locator(".track-list .track-row[data-index='1']").focus()
    bob.locator(".track-list .track-row[data-index='6']").focus()
    with alice.expect_response(lambda r: r.request.method == "PUT" and "/tracks" in r.url) as a_moved, \
            bob.expect_response(lambda r: r.request.method == "PUT" and "/tracks" in r.url) as b_moved:
        alice.keyboard.press("Alt+ArrowDown")
        bob.keyboard.press("Alt+ArrowUp")
    assert (a_moved.value.status, b_moved.value.status) == (200, 200)
    server = _server_names(base, alice_h, pid, names)
    for page in (alice, bob):
        page.wait_for_function("""(want) => want.every((n, i) =>
            document.querySelector(`.track-list .track-row[data-index='${i}'] .track-name`)?.textContent === n)""",
                               arg=server[:8])

    # Alice deletes it: bob's open view says so and leaves for his library.
    assert httpx.delete(f"{base}/v1/playlists/{pid}", headers=alice_h).status_code in (200, 204)
    expect(bob.locator(".toast", has_text="was deleted by its owner").last).to_be_visible()
    bob.wait_for_url(re.compile(r"/library/playlists$"))
    console.assert_clean()
