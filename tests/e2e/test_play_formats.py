"""The web player asks for a tier its browser can play: Chromium made to refuse Ogg (as Safari does)
streams MP3 and really plays it."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import Console, login, new_page, sync_api
from tests.live import LiveServer

pytestmark = pytest.mark.slow

# Safari's answers: no Ogg at all, MP3 and AAC yes.
NO_OGG = """(() => {
  const real = HTMLMediaElement.prototype.canPlayType;
  HTMLMediaElement.prototype.canPlayType = function (t) { return /ogg/i.test(t) ? "" : real.call(this, t); };
})();"""


@pytest.mark.parametrize("refuse_ogg", [True, False])
def test_player_picks_a_format_the_browser_plays(browser: sync_api.Browser, web_server: LiveServer,
                                                  refuse_ogg: bool) -> None:
    console = Console()
    page = new_page(browser, console)
    if refuse_ogg:
        page.context.add_init_script(NO_OGG)
    login(page, web_server.base, "alice")
    page.evaluate("() => window.musicd.player.setQuality('low')")
    page.keyboard.press("/")
    page.keyboard.type("hone", delay=20)
    row = page.locator(".songs-section .track-row").filter(
        has=page.locator(".track-name", has_text=re.compile("^Home$")))
    row.hover()
    with page.expect_response(lambda r: "/stream?" in r.url) as first:
        row.locator(".row-play").click()
    resp = first.value
    if refuse_ogg:
        assert "format=mp3" in resp.url and resp.headers["content-type"] == "audio/mpeg"
    else:
        assert "format=" not in resp.url and resp.headers["content-type"] == "audio/ogg"
    page.wait_for_function("""() => { const a = window.musicd.player.audio;
                                      return Boolean(a && !a.paused && !a.error && a.currentTime > 0.3); }""")
    console.assert_clean()
    page.context.close()
