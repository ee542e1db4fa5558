"""The household's web pages in real headless Chromium: a public share link that plays without an account,
the phone's full-screen player (390×844), and the admin's chores (an invited member signs up).

Screenshots of each go to test-artifacts/screenshots/."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import httpx
import pytest

from musicd.devtools.library_builder import BuiltLibrary
from tests.e2e.conftest import Console, login, new_page, sync_api
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


PLAYING = """(min) => { const a = window.musicd && window.musicd.player.audio;
                        return Boolean(a && !a.paused && !a.error && a.currentTime > min); }"""
PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}


def _play_home(page: Page, base: str) -> None:
    """Search "hone" and play "Home" (the test library's track with synced lyrics) from its row."""
    page.goto(f"{base}/search?q=hone")
    row = page.locator(".songs-section .track-row").filter(
        has=page.locator(".track-name", has_text=re.compile("^Home$")))
    row.hover()
    row.locator(".row-play").click()
    page.wait_for_function(PLAYING, arg=0.2)
    page.get_by_role("region", name="Player").get_by_role("button", name="Pause").click()  # it lasts 4 s
    page.wait_for_function("() => window.musicd.player.audio.paused")


def test_the_phone_player_seeks_shows_lyrics_and_the_queue_and_drives_a_remote(
    browser: sync_api.Browser, web_server: LiveServer, screenshots: Path,
) -> None:
    console = Console()
    phone = new_page(browser, console, **PHONE)
    login(phone, web_server.base, "alice")
    _play_home(phone, web_server.base)
    # "Take Me Home" queued by hand: the queue below the view has a known next track.
    other = phone.locator(".songs-section .track-row").filter(
        has=phone.locator(".track-name", has_text=re.compile("^Take Me Home$")))
    other.get_by_role("button", name=re.compile("More options for")).click()
    phone.get_by_role("menuitem", name="Add to queue").click()

    # At phone width the bar is small; a tap on it opens the full-screen view with every control.
    expect(phone.locator("#player-seek")).to_be_hidden()
    phone.locator("#player-title").click()
    view = phone.get_by_role("dialog", name="Home")
    expect(view).to_be_visible()
    assert phone.url.endswith("/search?q=hone")  # the tap opened the view, not the album
    for name in ("Shuffle", "Previous track", "Play", "Next track", "Repeat: off", "Save to Liked songs",
                 "Play on another device", "Close now playing"):
        expect(view.get_by_role("button", name=name, exact=True)).to_be_visible()
    for control in ("Seek", "Streaming quality"):
        expect(view.get_by_label(control)).to_be_visible()
    box = view.bounding_box()
    assert box and box["width"] == 390 and box["height"] == 844
    phone.screenshot(path=str(screenshots / "phone-now-playing.png"))

    # Seek with the view's slider: the synced lyrics below follow.
    view.get_by_label("Seek").fill("1.5")
    phone.wait_for_function("() => Math.abs(window.musicd.player.audio.currentTime - 1.5) < 0.15")
    expect(view.locator("#np-time")).to_have_text("0:01")
    view.get_by_role("button", name="Lyrics").click()
    expect(view.locator(".lyric-line")).to_have_count(6)
    expect(view.locator(".lyric-line.active")).to_have_text("Every road bends back to you")
    phone.screenshot(path=str(screenshots / "phone-now-playing-lyrics.png"))

    # The queue: "Home" now, the search's other results next; a tap on "Next track" moves both.
    view.get_by_role("button", name="Queue").click()
    expect(view.locator(".lyric-line")).to_have_count(0)
    current = view.locator(".queue-row.is-current")
    expect(current).to_contain_text("Home")
    upcoming = view.locator(".queue-row:not(.is-current)")
    expect(upcoming.first).to_contain_text("Take Me Home")
    following = "Take Me Home"
    phone.screenshot(path=str(screenshots / "phone-now-playing-queue.png"))
    view.get_by_role("button", name="Next track").click()
    expect(view.locator("#np-title")).to_have_text(following)
    expect(current).to_contain_text(following)
    phone.wait_for_function(PLAYING, arg=0.1)

    # Another device (alice's desktop browser) starts playing: the phone's view becomes its remote.
    desktop = new_page(browser, console)
    login(desktop, web_server.base, "alice")
    _play_home(desktop, web_server.base)
    desktop.get_by_role("region", name="Player").get_by_role("button", name="Play", exact=True).click()
    desktop.wait_for_function(PLAYING, arg=0.1)
    expect(view.locator(".np-remote")).to_contain_text("Playing on")
    phone.wait_for_function("() => window.musicd.player.audio.paused")
    view.get_by_role("button", name="Pause").click()
    desktop.wait_for_function("() => window.musicd.player.audio.paused")
    expect(view.locator("#np-title")).to_have_text(desktop.locator("#player-title").inner_text())
    view.get_by_role("button", name="Play", exact=True).click()
    desktop.wait_for_function(PLAYING, arg=0.1)
    assert phone.evaluate("() => window.musicd.player.audio.paused")

    view.get_by_role("button", name="Close now playing").click()
    expect(view).to_be_hidden()
    console.assert_clean()
    desktop.context.close()
    phone.context.close()


def test_an_admin_invites_a_member_who_signs_up_and_resets_a_password_on_a_phone(
    browser: sync_api.Browser, web_server: LiveServer, built_library: BuiltLibrary, screenshots: Path,
) -> None:
    console = Console()
    admin = new_page(browser, console, **PHONE)
    login(admin, web_server.base, "admin")
    admin.goto(f"{web_server.base}/admin")
    card = admin.locator("section", has=admin.get_by_role("heading", name="Invites"))
    card.get_by_label("Role").select_option("guest")
    card.get_by_label("For (optional)").fill("Sam")
    with admin.expect_response(lambda r: r.url.endswith("/v1/admin/invites") and r.request.method == "POST") as made:
        card.get_by_role("button", name="Create invite link").click()
    assert made.value.status == 201
    link = card.get_by_label("Invite link").input_value()
    assert link.startswith(f"{web_server.base}/join/")
    expect(card.locator("tr[data-state='open']", has_text="Sam")).to_be_visible()
    # The files the scan skipped, with the reasons.
    skipped = admin.get_by_role("table", name="Skipped files")
    expect(skipped.locator("tr[data-kind='file']")).to_have_count(len(built_library.broken))
    expect(skipped).to_contain_text(built_library.broken[0])
    # The admin page fits the phone: nothing wider than the screen.
    assert admin.evaluate("() => document.documentElement.scrollWidth") <= 390
    assert admin.evaluate("() => document.getElementById('main').scrollWidth") <= 390
    card.screenshot(path=str(screenshots / "phone-admin-invites.png"))
    admin.locator("section", has=admin.get_by_role("heading", name="Skipped by the scan")).screenshot(
        path=str(screenshots / "phone-admin-skipped.png"))

    # Someone new opens the link in their own browser and signs up: logged in, as a guest.
    sam_console = Console()
    sam = new_page(browser, sam_console, **PHONE)
    sam.goto(link)
    expect(sam.locator("#join-offer")).to_contain_text("as a guest")
    sam.screenshot(path=str(screenshots / "phone-join.png"))
    name = "sam" + link[-6:].replace("-", "x").replace("_", "y").lower()
    sam.get_by_label("Username").fill(name)
    sam.get_by_label("Password", exact=True).fill("sams-password")
    sam.get_by_label("Repeat the password").fill("sams-password")
    sam.get_by_role("button", name="Create my account").click()
    sam.wait_for_selector("body.ready")
    expect(sam.get_by_role("heading", level=1)).to_contain_text(name)
    assert sam.evaluate("() => JSON.parse(localStorage.getItem('musicd.tokens')).refresh_token")
    # The link is spent: the admin's list says who used it, and opening it again says so.
    admin.reload()
    expect(card.locator("tr[data-state='used']", has_text=f"Used by {name}")).to_be_visible()
    again = new_page(browser, Console())
    again.goto(link)
    expect(again.locator("#join-offer")).to_contain_text("already used")
    expect(again.locator("#join-form")).to_be_hidden()

    sam_console.assert_clean()

    # The admin gives sam a new password from the accounts table; sam's old session ends.
    users = admin.locator("section", has=admin.get_by_role("heading", name="Accounts"))
    users.get_by_role("button", name=f"Reset the password of {name}").click()
    dialog = admin.get_by_role("dialog")
    dialog.get_by_label("New password").fill("a-new-password")
    with admin.expect_response(lambda r: r.url.endswith("/password")) as reset:
        dialog.get_by_role("button", name="Set password").click()
    assert reset.value.status == 204
    r = httpx.post(f"{web_server.base}/v1/auth/login", json={"username": name, "password": "a-new-password"})
    assert r.status_code == 200
    sam.wait_for_url(re.compile(r"/login"))  # the realtime channel was closed: the old password's session ended
    users.screenshot(path=str(screenshots / "phone-admin-accounts.png"))
    console.assert_clean()
    for p in (admin, sam, again):
        p.context.close()


def test_library_grids_downloads_and_playlist_files(browser: sync_api.Browser, web_server: LiveServer,
                                                    tmp_path: Path, screenshots: Path) -> None:
    console = Console()
    page = new_page(browser, console, accept_downloads=True)
    base = web_server.base
    login(page, base, "alice")

    # The albums grid sorted by year, then filtered to one genre; the choices stay in the URL.
    page.goto(f"{base}/library/albums")
    page.get_by_label("Sort by").select_option("year")
    page.wait_for_url(re.compile(r"sort=year"))
    expect(page.locator(".grid .card").first).to_be_visible()
    genre = page.get_by_label("Genre")
    expect(genre.locator("option")).not_to_have_count(1)
    choice = genre.locator("option").nth(1).get_attribute("value") or ""
    genre.select_option(choice)
    page.wait_for_url(re.compile(r"genre="))
    want = httpx.get(f"{base}/v1/library/album-grid", params={"sort": "year", "genre": choice, "limit": 100},
                     headers=web_server.headers("alice")).json()["albums"]
    expect(page.locator(".grid .card")).to_have_count(want["total"])
    expect(page.locator(".grid .card").first).to_contain_text(want["items"][0]["name"])
    page.screenshot(path=str(screenshots / "library-albums-filtered.png"))

    # Every song: the count of the whole library; a row's menu downloads the file.
    page.goto(f"{base}/library/songs?sort=title")
    total = len(track_ids(web_server))
    expect(page.locator(".count-line")).to_have_text(f"{total} songs")
    row = page.locator(".track-list .track-row[data-index='0']")
    row.hover()
    row.get_by_role("button", name=re.compile("More options for")).click()
    with page.expect_download() as dl:
        page.get_by_role("menuitem", name="Download").click()
    assert dl.value.failure() is None and Path(dl.value.path()).stat().st_size > 1000

    # A playlist: exported as M3U8, downloaded as a zip, and the M3U8 imported back as a new playlist.
    pid = _playlist(web_server, "Kitchen", track_ids(web_server)[:3])
    page.goto(f"{base}/playlist/{pid}")
    more = page.get_by_role("button", name="More options for Kitchen")
    more.click()
    with page.expect_download() as exported:
        page.get_by_role("menuitem", name="Export as M3U8").click()
    m3u = tmp_path / "Kitchen.m3u8"
    exported.value.save_as(m3u)
    assert m3u.read_text().startswith("#EXTM3U") and m3u.read_text().count("#EXTINF") == 3
    more.click()
    with page.expect_download() as zipped:
        page.get_by_role("menuitem", name="Download (zip)").click()
    with zipfile.ZipFile(zipped.value.path()) as z:
        assert len([n for n in z.namelist() if not n.endswith("/")]) == 3
    page.goto(f"{base}/library/playlists")
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Import a playlist file").click()
    with page.expect_response(lambda r: "/v1/me/playlists/import" in r.url) as imported:
        chooser.value.set_files(str(m3u))
    assert imported.value.status == 201
    page.wait_for_url(re.compile(r"/playlist/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Kitchen")
    expect(page.locator(".track-list .track-row[data-loaded='1']")).to_have_count(3)
    console.assert_clean()
    page.context.close()
