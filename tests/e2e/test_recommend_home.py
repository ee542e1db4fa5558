"""Recommendations in the web player, in real headless Chromium: bob played three tracks in one session
and alice the first of them; once the background trainer has learned from those scrobbles, alice's home
shows "Recommended for you" with each track's reason ("Because you played ...") and plays one; a track's
menu starts a radio station (spotify:station:track:...) that plays."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from musicd.devtools.library_builder import BuiltLibrary
from tests.e2e.conftest import Console, login, new_page, serve, sync_api
from tests.integration.listens_support import library_tracks
from tests.integration.recommend_support import wait_for_model
from tests.integration.subsonic_support import Sub
from tests.live import USERS, LiveServer

Page = sync_api.Page
expect = sync_api.expect

pytestmark = pytest.mark.slow

PLAYING = """() => { const a = window.musicd && window.musicd.player.audio;
                     return Boolean(a && !a.paused && a.currentTime > 0.2); }"""


@pytest.fixture(scope="module")
def rec_server(built_library: BuiltLibrary, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with serve(tmp_path_factory.mktemp("rec-web"), built_library.root, MUSICD_RECOMMEND_REBUILD_AFTER_PLAYS="1",
               MUSICD_TRANSCODE_PRE_TRANSCODE="false") as server:
        yield server


def test_home_shows_reasons_and_radio_plays(browser: sync_api.Browser, rec_server: LiveServer,
                                            screenshots: Path) -> None:
    base = rec_server.base
    tracks = [t for t in library_tracks(rec_server) if t.title]
    first, second, third = tracks[0], tracks[3], tracks[6]
    start_ms = int(time.time() - 86400) * 1000
    plays = {"bob": [first, second, third], "alice": [first]}
    for name, played in plays.items():
        sub = Sub(base, name, USERS[name][0])
        for k, t in enumerate(played):
            sub.json("scrobble", {"id": t.id, "submission": "true", "time": start_ms + k * 200_000})
    wait_for_model(rec_server, 4)

    console = Console()
    page = new_page(browser, console)
    page.set_default_timeout(15_000)
    login(page, base, "alice")
    shelf = page.locator("section", has=page.get_by_role("heading", name="Recommended for you"))
    cards = shelf.locator(".rec-card")
    expect(cards.first).to_be_visible()
    # bob played the other two right after the one alice played: that is their reason.
    because = cards.filter(has_text=f"Because you played {first.title}")
    expect(because.first).to_be_visible()
    names = [n.strip() for n in cards.locator(".card-title").all_inner_texts()]
    assert first.title not in names and {second.title, third.title} & set(names), names
    assert because.first.get_attribute("data-reason") == "played_with"
    page.screenshot(path=str(screenshots / "recommended-for-you.png"))
    because.first.hover()
    because.first.locator(".card-play").click()
    page.wait_for_function(PLAYING)

    # Radio from a track's menu: a station context, tracks that play.
    page.locator("#search-input").fill(first.title)
    row = page.locator(".songs-section .track-row").filter(
        has=page.locator(".track-name", has_text=re.compile(f"^{re.escape(first.title)}$"))).first
    row.hover()
    row.locator(".more-button").click()
    page.get_by_role("menuitem", name="Start radio").click()
    # It goes through the server's player (PUT /v1/me/player/play, the station as the context, this tab as
    # the device): the tab plays the station's first track with the next 20 the server holds.
    station = f"spotify:station:track:{first.id}"
    page.wait_for_function("""(uri) => { const p = window.musicd.player;
        return p.context?.uri === uri && p.current?.track.id === p.queue[0].track.id && p.queue.length === 21; }""",
                           arg=station)
    page.wait_for_function(PLAYING)
    with rec_server.client("alice") as c:
        sequence = [t["id"] for t in c.get(f"/v1/stations/{station}", params={"limit": 30}).json()["tracks"]["items"]]
        st = c.get("/v1/me/player").json()
    assert st["context"]["uri"] == station and st["item"]["id"] == first.id == sequence[0]
    assert st["device"]["id"] == page.evaluate("document.documentElement.dataset.deviceId")
    assert page.evaluate("window.musicd.player.queue.map((e) => e.track.id)") == sequence[:21]
    # Next in the bar: the server's station moves on with the tab (still the station's context) and the tab
    # appends the track the server's queue gained.
    page.locator("#player-next").click()
    page.wait_for_function("""(ids) => { const p = window.musicd.player;
        return p.current?.track.id === ids[1] && p.queue.length === 22 && p.queue[21].track.id === ids[21]; }""",
                           arg=sequence)
    with rec_server.client("alice") as c:
        st = c.get("/v1/me/player").json()
    assert st["context"]["uri"] == station and st["item"]["id"] == sequence[1]
    console.assert_clean()
