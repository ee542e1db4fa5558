"""Two browser contexts of one user are two devices: playback started in the first moves to the second
with the device picker; the first falls silent, becomes a remote (its bar follows the second's state) and
its pause button pauses the second."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from musicd.devtools.speakers import build_long_library
from tests.e2e.conftest import Console, login, new_page, serve, sync_api
from tests.live import LiveServer

Page = sync_api.Page
expect = sync_api.expect

pytestmark = pytest.mark.slow

AUDIO = "() => { const a = window.musicd.player.audio; return a ? [!a.paused, a.currentTime] : [false, 0]; }"


@pytest.fixture(scope="module")
def long_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    work = tmp_path_factory.mktemp("connect-web")
    lib = build_long_library(work / "Music", tracks=2, seconds=60.0)
    with serve(work, lib) as server:
        yield server


def _device_page(browser: sync_api.Browser, console: Console, base: str) -> tuple[Page, str]:
    page = new_page(browser, console)
    page.set_default_timeout(15_000)
    login(page, base, "alice")
    page.wait_for_function("() => document.documentElement.dataset.deviceId")
    return page, page.evaluate("() => document.documentElement.dataset.deviceId")


def _state(server: LiveServer) -> dict:  # type: ignore[type-arg]
    r = httpx.get(f"{server.base}/v1/me/player", headers=server.headers("alice"), timeout=10)
    return r.json() if r.status_code == 200 else {}


def test_transfer_between_two_browsers(browser: sync_api.Browser, long_server: LiveServer, screenshots: Path) -> None:
    console = Console()
    first, first_id = _device_page(browser, console, long_server.base)
    second, second_id = _device_page(browser, console, long_server.base)
    assert first_id != second_id
    devices = httpx.get(f"{long_server.base}/v1/me/player/devices", headers=long_server.headers("alice"),
                        timeout=10).json()["devices"]
    names = {d["id"]: d["name"] for d in devices}
    assert re.fullmatch(r"\w+ on Linux", names[first_id]) and second_id in names

    # Play in the first browser: it becomes the active device.
    first.locator("#search-input").fill("Tone 1.1")
    row = first.locator(".songs-section .track-row").filter(has=first.locator(".track-name", has_text="Tone 1.1"))
    row.hover()
    row.locator(".row-play").click()
    first.wait_for_function(f"() => ({AUDIO})()[0] && ({AUDIO})()[1] > 1.5")
    assert (_state(long_server).get("device") or {}).get("id") == first_id

    # The device picker of the first browser moves playback to the second.
    before = first.evaluate(AUDIO)[1]
    first.locator("#player-devices").click()
    first.get_by_role("menuitem").filter(has_not_text="This browser").first.click()
    second.wait_for_function(f"() => ({AUDIO})()[0] && ({AUDIO})()[1] > 0")
    first.wait_for_function(f"() => !({AUDIO})()[0]")
    after = second.evaluate(AUDIO)[1]
    assert before - 0.5 <= after <= before + 3.0, (before, after)
    assert _state(long_server)["device"]["id"] == second_id

    # The first is now a remote: its bar names the device and follows its progress.
    expect(first.locator("#player-remote")).to_have_text(re.compile(r"^Playing on "))
    expect(first.locator("#player-title")).to_have_text("Tone 1.1")
    t1 = float(first.locator("#player-seek").input_value())
    first.wait_for_function(f"() => Number(document.getElementById('player-seek').value) > {t1 + 1}")
    # ...and controls it: pause in the first pauses the second.
    first.locator("#player-play").click()
    second.wait_for_function(f"() => !({AUDIO})()[0]")
    assert _state(long_server)["is_playing"] is False
    first.screenshot(path=str(screenshots / "connect-remote.png"))
    console.assert_clean()
