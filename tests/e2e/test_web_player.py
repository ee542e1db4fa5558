"""The web player end to end, in real headless Chromium against a real server on the test library.

Log in, search "hone" and play "Home", check that audio really plays, skip, seek, follow the synced
lyrics, build a playlist and reorder it (by drag and drop and by keyboard), reload, log out; the
first-run page; settings (an API key) and the admin scan. Screenshots go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import Console, login, new_page, serve, sync_api
from tests.live import LiveServer

Page = sync_api.Page
expect = sync_api.expect

pytestmark = pytest.mark.slow

PLAYING = """(min) => {
  const a = window.musicd && window.musicd.player.audio;
  return Boolean(a && !a.paused && !a.error && a.currentTime > min);
}"""


_new_page = new_page
_login = login


def _player(page: Page, expr: str) -> object:
    return page.evaluate(f"() => {{ const p = window.musicd.player; return {expr}; }}")


def _title(page: Page) -> str:
    return page.locator("#player-title").inner_text()


def _row(page: Page, scope: str, name: str) -> sync_api.Locator:
    return page.locator(f"{scope} .track-row").filter(
        has=page.locator(".track-name", has_text=re.compile(f"^{re.escape(name)}$")))


def _playlist_order(page: Page) -> list[str]:
    rows = page.locator(".track-list .track-row[data-loaded='1']")
    names = rows.evaluate_all("rs => rs.sort((a, b) => a.dataset.index - b.dataset.index)"
                              ".map(r => r.querySelector('.track-name').textContent)")
    return list(names)


def test_listen_search_skip_seek_lyrics_playlist_logout(
    browser: sync_api.Browser, web_server: LiveServer, screenshots: Path,
) -> None:
    console = Console()
    page = _new_page(browser, console)
    base = web_server.base
    _login(page, base, "alice")
    expect(page.get_by_role("heading", level=1)).to_contain_text("alice")
    expect(page.locator(".section .card").first).to_be_visible()
    page.screenshot(path=str(screenshots / "home.png"))

    # Access tokens live 15 minutes: one about to expire is refreshed before it is used (no 401 on the way).
    page.evaluate("""() => { const t = JSON.parse(localStorage.getItem('musicd.tokens'));
                             t.exp = 0; localStorage.setItem('musicd.tokens', JSON.stringify(t)); }""")
    with page.expect_response(lambda r: r.url.endswith("/v1/auth/refresh")) as refreshed:
        page.locator(".sidebar").get_by_role("link", name="Your library").click()
    assert refreshed.value.status == 200
    expect(page.locator(".card", has_text="Liked songs")).to_be_visible()
    assert page.evaluate("() => JSON.parse(localStorage.getItem('musicd.tokens')).exp") > 0

    # Search as you type: "/" focuses the box, results come grouped, ↓ walks into them.
    page.keyboard.press("/")
    expect(page.locator("#search-input")).to_be_focused()
    page.keyboard.type("hone", delay=40)
    home_row = _row(page, ".songs-section", "Home")
    expect(home_row).to_be_visible()
    expect(page.locator(".top-result")).to_contain_text("Home")
    page.wait_for_url(re.compile(r"/search\?q=hone"))
    page.keyboard.press("ArrowDown")
    assert page.evaluate("() => document.activeElement.closest('[data-result]') !== null")
    page.keyboard.press("Escape")
    expect(page.locator("#search-input")).to_be_focused()
    page.screenshot(path=str(screenshots / "search.png"))

    # A query that is (part of) an artist's name puts that artist on top, not one of their songs.
    page.locator("#search-input").fill("cicek")
    expect(page.locator(".top-result")).to_contain_text("Été Çiçek")
    expect(page.locator(".top-result .pill")).to_have_text("Artist")
    page.locator("#search-input").fill("hone")
    expect(home_row).to_be_visible()

    # Play "Home": the audio element really plays (time advances, no media error).
    home_row.hover()
    home_row.locator(".row-play").click()
    page.wait_for_function(PLAYING, arg=0.3)
    assert _title(page) == "Home"
    t1 = _player(page, "p.audio.currentTime")
    page.wait_for_function("(t) => window.musicd.player.audio.currentTime > t + 0.2", arg=t1)
    expect(page.get_by_role("button", name="Pause")).to_be_visible()

    # Next: another track plays; previous: back to "Home".
    page.get_by_role("button", name="Next track").click()
    page.wait_for_function("() => document.getElementById('player-title').textContent !== 'Home'")
    page.wait_for_function(PLAYING, arg=0.2)
    page.get_by_role("button", name="Previous track").click()
    page.wait_for_function("() => document.getElementById('player-title').textContent === 'Home'")
    page.wait_for_function(PLAYING, arg=0.1)

    # Space pauses (keyboard shortcut); seek with the slider; the synced lyrics follow.
    page.locator("#main").focus()
    page.keyboard.press(" ")
    page.wait_for_function("() => window.musicd.player.audio.paused")
    page.locator("#player-lyrics").click()
    expect(page.locator(".lyric-line")).to_have_count(6)
    page.locator("#player-seek").fill("1.5")
    page.wait_for_function("() => Math.abs(window.musicd.player.audio.currentTime - 1.5) < 0.15")
    active = page.locator(".lyric-line.active")
    expect(active).to_have_text("Every road bends back to you")
    expect(active).to_have_attribute("aria-current", "true")
    # A click on a line seeks there (and plays); the highlight moves with it.
    page.get_by_role("button", name=re.compile("^Lamplight on the harbour wall")).click()
    page.wait_for_function(PLAYING, arg=0.6)
    page.get_by_role("button", name="Pause").click()
    page.wait_for_function("() => window.musicd.player.audio.paused")
    t = float(_player(page, "p.audio.currentTime"))  # type: ignore[arg-type]
    expected = ["Lamplight on the harbour wall", "Every road bends back to you", "Open the door, the fire is lit",
                "Home", "Home again"][min(4, max(0, int((t - 0.6) // 0.6)))]
    expect(active).to_have_text(expected)
    page.screenshot(path=str(screenshots / "player-lyrics.png"))
    assert not _player(page, "p.audio.error")

    # A playlist: create it, add three tracks from an album's track menus.
    page.get_by_role("button", name="Create playlist").first.click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name").fill("E2E road trip")
    dialog.get_by_role("button", name="Create").click()
    page.wait_for_url(re.compile(r"/playlist/"))
    playlist_url = page.url
    expect(page.get_by_role("heading", level=1)).to_have_text("E2E road trip")

    page.locator("#search-input").fill("four seasons")
    album_card = page.locator(".card-link", has_text="The Four Seasons Suite").first
    album_card.click()
    page.wait_for_url(re.compile(r"/album/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("The Four Seasons Suite")
    page.screenshot(path=str(screenshots / "album.png"))
    for name in ("Spring", "Summer", "Autumn"):
        row = _row(page, "#view", name)
        row.hover()
        row.get_by_role("button", name=f"More options for “{name}”").click()
        page.get_by_role("menuitem", name="Add to playlist…").click()
        with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/tracks")) as added:
            page.get_by_role("dialog").get_by_role("button", name="E2E road trip").click()
        assert added.value.status == 201
        expect(page.locator(".toast", has_text="Added to “E2E road trip”").last).to_be_visible()

    page.locator(".sidebar-playlist", has_text="E2E road trip").click()
    page.wait_for_url(playlist_url)
    expect(page.locator(".track-list .track-row[data-loaded='1']")).to_have_count(3)
    assert _playlist_order(page) == ["Spring", "Summer", "Autumn"]

    # Reorder by drag and drop: Autumn onto the top half of Spring.
    with page.expect_response(lambda r: r.request.method == "PUT" and "/tracks" in r.url) as moved:
        spring = _row(page, ".track-list", "Spring")
        _row(page, ".track-list", "Autumn").drag_to(spring, target_position={"x": 200, "y": 8})
    assert moved.value.status == 200
    assert _playlist_order(page) == ["Autumn", "Spring", "Summer"]
    # And by keyboard: Alt+↑ moves the focused row up.
    with page.expect_response(lambda r: r.request.method == "PUT" and "/tracks" in r.url) as moved:
        _row(page, ".track-list", "Summer").focus()
        page.keyboard.press("Alt+ArrowUp")
    assert moved.value.status == 200
    assert _playlist_order(page) == ["Autumn", "Summer", "Spring"]

    page.reload()
    page.wait_for_selector("body.ready")
    expect(page.locator(".track-list .track-row[data-loaded='1']")).to_have_count(3)
    assert _playlist_order(page) == ["Autumn", "Summer", "Spring"]

    # Playing the playlist prefetches the next two tracks: their elements are loaded before they play.
    page.get_by_role("button", name="Play E2E road trip").click()
    page.wait_for_function(PLAYING, arg=0.1)
    assert _title(page) == "Autumn"
    page.wait_for_function("""() => {
      const p = window.musicd.player;
      const next = p.upcoming(2).map(e => p.elements.get(e.uid));
      return next.length === 2 && next.every(el => el && el.readyState >= 3);
    }""")
    page.get_by_role("button", name="Next track").click()
    page.wait_for_function(PLAYING, arg=0.1)
    assert _title(page) == "Summer"
    assert _player(page, "p.lastStartPrefetched") is True
    page.get_by_role("button", name="Pause").click()  # the rest needs no sound, and 4 s tracks end quickly

    # Shuffle keeps the playing track first and comes back to the playlist's order; repeat cycles.
    page.get_by_role("button", name="Shuffle").click()
    expect(page.get_by_role("button", name="Shuffle")).to_have_attribute("aria-pressed", "true")
    assert _player(page, "[p.index, p.current.track.name, p.queue.length]") == [0, "Summer", 3]
    page.get_by_role("button", name="Shuffle").click()
    assert _player(page, "p.queue.map(e => e.track.name)") == ["Autumn", "Summer", "Spring"]
    assert _player(page, "p.index") == 1
    for label in ("Repeat: all", "Repeat: this track", "Repeat: off"):
        page.locator("#player-repeat").click()
        expect(page.locator("#player-repeat")).to_have_attribute("aria-label", label)

    # The queue: what plays now and next; "Play next" from the queue's own menus; clear.
    page.locator("#player-queue").click()
    expect(page.locator(".queue-row.is-current .track-name")).to_have_text("Summer")
    expect(page.locator(".queue-list").nth(1).locator(".track-name")).to_have_text(["Spring"])
    page.get_by_role("button", name="More options for “Summer”").click()
    page.get_by_role("menuitem", name="Play next").click()
    expect(page.locator(".queue-list").nth(1).locator(".track-name")).to_have_text(["Summer", "Spring"])
    page.get_by_role("button", name="Clear queue").click()
    expect(page.locator(".queue-row")).to_have_count(1)

    # The phone layout: no sidebar, a bottom navigation, the compact player.
    page.set_viewport_size({"width": 390, "height": 844})
    page.get_by_role("navigation", name="Main (compact)").get_by_role("link", name="Home").click()
    expect(page.locator(".sidebar")).to_be_hidden()
    expect(page.get_by_role("navigation", name="Main (compact)")).to_be_visible()
    expect(page.locator(".section .card").first).to_be_visible()
    page.screenshot(path=str(screenshots / "phone-home.png"))
    page.set_viewport_size({"width": 1280, "height": 800})

    # Log out: back to the login page, and the tokens are gone.
    page.locator("#user-button").click()
    page.get_by_role("menuitem", name="Log out").click()
    page.wait_for_url(re.compile(r"/login"))
    assert page.evaluate("() => localStorage.getItem('musicd.tokens')") is None
    page.goto(base + "/library")
    page.wait_for_url(re.compile(r"/login\?next=%2Flibrary"))
    console.assert_clean()
    page.context.close()


def test_first_run_creates_the_admin(browser: sync_api.Browser, tmp_path: Path) -> None:
    console = Console()
    with serve(tmp_path, users={}) as server:
        page = _new_page(browser, console)
        page.goto(server.base + "/")
        page.wait_for_url(re.compile(r"/setup$"))
        page.get_by_label("Username").fill("root")
        page.get_by_label("Password", exact=True).fill("first-admin-pw")
        page.get_by_label("Repeat the password").fill("first-admin-pw")
        page.get_by_role("button", name="Create the admin account").click()
        page.wait_for_selector("body.ready")
        expect(page.locator("#user-name")).to_have_text("root")
        assert httpx.get(f"{server.base}/v1/auth/setup").json() == {"needed": False}
        # Once there is an admin, the first-run page sends people to the login page.
        page.evaluate("() => localStorage.clear()")
        page.goto(server.base + "/setup")
        page.wait_for_url(re.compile(r"/login"))
        console.assert_clean()
        page.context.close()


def test_settings_api_key_and_admin_scan(browser: sync_api.Browser, web_server: LiveServer) -> None:
    console = Console()
    page = _new_page(browser, console)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    _login(page, web_server.base, "admin")

    page.locator("#user-button").click()
    page.get_by_role("menuitem", name="Settings").click()
    expect(page.get_by_role("heading", name="API keys for Subsonic apps")).to_be_visible()
    page.get_by_label("Name of the new key").fill("Phone")
    page.get_by_role("button", name="Create key").click()
    dialog = page.get_by_role("dialog")
    key = dialog.get_by_label("API key").input_value()
    assert key.startswith("msd_")
    assert dialog.get_by_label("Server URL").input_value() == web_server.base
    dialog.get_by_role("button", name="Done").click()
    expect(page.locator(".key-row", has_text="Phone")).to_be_visible()
    # The key works for a Subsonic client.
    r = httpx.get(f"{web_server.base}/rest/ping", params={"apiKey": key, "f": "json", "v": "1.16.1", "c": "e2e"})
    assert r.json()["subsonic-response"]["status"] == "ok", r.text

    page.locator("#user-button").click()
    page.get_by_role("menuitem", name="Admin").click()
    expect(page.get_by_role("cell", name="alice", exact=True)).to_be_visible()
    page.get_by_role("button", name="Scan now").click()
    expect(page.locator(".scan-phase")).to_have_text("Idle.", timeout=20_000)
    expect(page.get_by_role("region", name="Library", exact=True)).to_contain_text("Last scan:")
    console.assert_clean()
    page.context.close()


def test_playlist_details_share_delete_and_saves(browser: sync_api.Browser, web_server: LiveServer) -> None:
    console = Console()
    page = _new_page(browser, console)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    _login(page, web_server.base, "bob")

    # Make a playlist from the library page, then rename it, make it public and collaborative.
    page.locator(".sidebar").get_by_role("link", name="Your library").click()
    page.get_by_role("button", name="Create playlist").last.click()
    page.get_by_role("dialog").get_by_label("Name").fill("Bob's draft")
    page.get_by_role("dialog").get_by_role("button", name="Create").click()
    page.wait_for_url(re.compile(r"/playlist/"))
    playlist_id = page.url.rsplit("/", 1)[1]
    expect(page.locator(".header-kind")).to_have_text("Private playlist")
    page.get_by_role("button", name="More options for Bob's draft").click()
    page.get_by_role("menuitem", name="Edit details").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name").fill("Bob's mix")
    dialog.get_by_label("Description").fill("For the kitchen")
    dialog.get_by_role("checkbox", name=re.compile("Public")).check()
    dialog.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bob's mix")
    expect(page.locator(".header-kind")).to_have_text("Public playlist")
    expect(page.locator(".sidebar-playlist", has_text="Bob's mix")).to_be_visible()
    # Collaborative playlists are never public (as on Spotify): the form says so.
    page.get_by_role("button", name="More options for Bob's mix").click()
    page.get_by_role("menuitem", name="Edit details").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("checkbox", name=re.compile("Collaborative")).check()
    expect(dialog.get_by_role("checkbox", name=re.compile("Public"))).not_to_be_checked()
    dialog.get_by_role("button", name="Save").click()
    expect(page.locator(".header-kind")).to_have_text("Collaborative playlist")
    with web_server.client("bob") as c:
        pl = c.get(f"/v1/playlists/{playlist_id}").json()
    assert (pl["name"], pl["description"], pl["public"], pl["collaborative"]) == ("Bob's mix", "For the kitchen",
                                                                                   False, True)

    # A share link: made, shown, and it opens the playlist without an account.
    page.get_by_role("button", name="More options for Bob's mix").click()
    page.get_by_role("menuitem", name="Copy share link").click()
    url = page.get_by_role("dialog").get_by_label("Share link").input_value()
    assert url.startswith(web_server.base + "/share/")
    assert page.evaluate("() => navigator.clipboard.readText()") == url
    page.get_by_role("dialog").get_by_role("button", name="Copy").click()
    assert httpx.get(url).status_code == 200

    # Save an album and follow its artist with one click each; the server agrees.
    page.locator("#search-input").fill("melody a.m.")
    page.locator(".card-link", has_text="Melody A.M.").first.click()
    page.wait_for_url(re.compile(r"/album/"))
    album_id = page.url.rsplit("/", 1)[1]
    save = page.get_by_role("button", name="Save Melody A.M. to your library")
    expect(save).to_have_attribute("aria-pressed", "false")
    save.click()
    expect(save).to_have_attribute("aria-pressed", "true")
    row = _row(page, "#view", "Northern Lights")
    row.hover()
    row.get_by_role("button", name="Save “Northern Lights” to Liked songs").click()
    expect(row.get_by_role("button", name="Save “Northern Lights” to Liked songs")).to_have_attribute(
        "aria-pressed", "true")
    page.locator(".header-meta a", has_text="Röyksopp").click()
    page.wait_for_url(re.compile(r"/artist/"))
    artist_id = page.url.rsplit("/", 1)[1]
    page.get_by_role("button", name="Follow").click()
    expect(page.get_by_role("button", name="Following")).to_have_attribute("aria-pressed", "true")
    with web_server.client("bob") as c:
        assert c.get("/v1/me/albums/contains", params={"ids": album_id}).json() == [True]
        assert c.get("/v1/me/following/contains", params={"type": "artist", "ids": artist_id}).json() == [True]
        liked = c.get("/v1/me/tracks").json()["items"]
        assert [t["track"]["name"] for t in liked] == ["Northern Lights"]
    page.locator(".sidebar").get_by_role("link", name="Your library").click()
    page.get_by_role("link", name="Liked songs").first.click()
    expect(_row(page, ".track-list", "Northern Lights")).to_be_visible()

    # A genre from the home page: its songs.
    page.locator(".sidebar").get_by_role("link", name="Home").click()
    page.get_by_role("link", name="Synthwave, Genre").click()
    page.wait_for_url(re.compile(r"/genre/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Synthwave")
    page.get_by_role("heading", name="Songs").scroll_into_view_if_needed()  # the list draws the rows in view
    expect(page.locator(".track-list .track-row[data-loaded='1']")).to_have_count(4)

    # Delete the playlist: it leaves the sidebar and the server.
    page.locator(".sidebar-playlist", has_text="Bob's mix").click()
    page.get_by_role("button", name="More options for Bob's mix").click()
    page.get_by_role("menuitem", name="Delete playlist").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    page.wait_for_url(re.compile(r"/library/playlists"))
    expect(page.locator(".sidebar-playlist", has_text="Bob's mix")).to_have_count(0)
    with web_server.client("bob") as c:
        assert c.get(f"/v1/playlists/{playlist_id}").status_code == 404
    console.assert_clean()
    page.context.close()
