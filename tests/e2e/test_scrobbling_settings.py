"""The web player's scrobbling settings in headless Chromium: make a ListenBrainz token, see it work with
liblistenbrainz, regenerate it, and import a Last.fm CSV with its summary shown."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
from liblistenbrainz import ListenBrainz
from liblistenbrainz.errors import InvalidAuthTokenException

from tests.e2e.conftest import Console, sync_api
from tests.integration.listens_support import write_lastfm_csv
from tests.live import USERS, LiveServer

expect = sync_api.expect
pytestmark = pytest.mark.slow


def test_token_and_import_in_settings(browser: sync_api.Browser, web_server: LiveServer, screenshots: Path,
                                      tmp_path: Path) -> None:
    console = Console()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.set_default_timeout(10_000)
    console.attach(page)
    page.goto(web_server.base + "/login")
    page.get_by_label("Username or e-mail").fill("bob")
    page.get_by_label("Password").fill(USERS["bob"][0])
    page.get_by_role("button", name="Log in").click()
    page.wait_for_selector("body.ready")
    page.goto(web_server.base + "/settings")

    card = page.locator(".settings-card", has_text="Scrobbling (ListenBrainz)")
    expect(card.get_by_label("ListenBrainz API URL")).to_have_value(f"{web_server.base}/listenbrainz")
    card.get_by_role("button", name="Create token").click()
    token_field = card.get_by_label("Your token")
    expect(token_field).to_have_value(re.compile(r"^[0-9a-f-]{36}$"))
    first = token_field.input_value()
    ListenBrainz(api_base_url=f"{web_server.base}/listenbrainz").set_auth_token(first)

    card.get_by_role("button", name="Regenerate token").click()
    page.get_by_role("button", name="New token").click()
    expect(token_field).not_to_have_value(first)
    with pytest.raises(InvalidAuthTokenException):
        ListenBrainz(api_base_url=f"{web_server.base}/listenbrainz").set_auth_token(first)

    with sqlite3.connect(web_server.data_dir / "musicd.db") as db:
        title, artist, album = db.execute("SELECT t.title, t.artist_display, a.name FROM tracks t"
                                          " JOIN albums a ON a.id = t.album_id ORDER BY t.path LIMIT 1").fetchone()
    csv_file = write_lastfm_csv(tmp_path / "scrobbles.csv", [(artist, album, title, 1_600_000_000),
                                                             ("Nobody", "None", "Nothing", 1_600_000_600)])
    card.get_by_label("History file").set_input_files(str(csv_file))
    card.get_by_role("button", name="Import").click()
    expect(card.get_by_role("status")).to_contain_text("2 listens read: 1 matched, 1 not in the library",
                                                       timeout=20_000)
    expect(card.get_by_test_id("listen-counts")).to_contain_text("2 listens, 1 matched")
    page.screenshot(path=str(screenshots / "settings-scrobbling.png"))
    console.assert_clean()
    context.close()
