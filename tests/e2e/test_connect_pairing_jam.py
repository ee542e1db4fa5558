"""The web player's "Speakers and Jam" dialog: a `musicd speaker` shows a pairing code and the user approves
it in the browser (the speaker signs in and becomes a device); alice starts a Jam on it from the dialog, bob
opens its link in his browser and joins on his own speaker, both speakers follow the one timeline, and
alice's "End the Jam" ends it for both. A wrong code gets a clear message."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from musicd.devtools.speakers import SpeakerProcess
from tests.e2e.conftest import Console, login, new_page, serve_long_library, sync_api
from tests.live import REPO_ROOT, LiveServer

Page = sync_api.Page
expect = sync_api.expect

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def jam_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, Path]]:
    with serve_long_library(tmp_path_factory.mktemp("connect-jam-web"), tracks=2) as served:
        yield served


def _open_dialog(page: Page) -> None:
    page.locator("#player-devices").click()
    page.get_by_role("menuitem", name="Speakers and Jam…").click()
    expect(page.get_by_role("dialog", name="Speakers and Jam")).to_be_visible()


def test_pair_a_speaker_and_jam_from_the_browser(browser: sync_api.Browser, jam_server: tuple[LiveServer, Path],
                                                 screenshots: Path) -> None:
    server, work = jam_server
    console = Console()
    speaker = SpeakerProcess(server.base, "Living Room", work / "state-living", cwd=REPO_ROOT)
    with server.client("bob") as c:
        bob_key = c.post("/v1/me/api-keys", json={"name": "bob's speaker"}).json()["key"]
    bobs = SpeakerProcess(server.base, "Bob's Kitchen", work / "state-bob", api_key=bob_key, cwd=REPO_ROOT)
    try:
        code = str(speaker.wait("pairing", 30)["code"])
        alice = new_page(browser, console)
        alice.set_default_timeout(15_000)
        login(alice, server.base, "alice")
        alice.wait_for_function("() => document.documentElement.dataset.deviceId")

        # A wrong code: a clear message, nothing paired.
        _open_dialog(alice)
        alice.locator("#pair-code").fill("ZZZZZZZZ")
        alice.locator("#pair-approve").click()
        expect(alice.locator("#pair-status")).to_have_text(re.compile("No speaker shows this code"))
        # The speaker's code: approved, the speaker signs in and registers as alice's device.
        alice.locator("#pair-code").fill(code)
        alice.locator("#pair-approve").click()
        expect(alice.locator("#pair-status")).to_have_text("“Living Room” is now one of your devices.")
        device = speaker.ready(30)
        alice.keyboard.press("Escape")

        # Something plays on the speaker; alice starts a Jam on it from the dialog.
        with server.client("alice") as c:
            album = c.get("/v1/search", params={"q": "Long Album", "type": "album"}).json()["albums"]["items"][0]
            r = c.put("/v1/me/player/play", params={"device_id": device}, json={"context_uri": album["uri"]})
            assert r.status_code == 204, r.text
        speaker.wait("playing", 15)
        _open_dialog(alice)
        alice.locator("#jam-device").select_option(device)
        mark = len(speaker.events)
        alice.locator("#jam-start").click()
        expect(alice.locator("#jam-code")).to_have_text(re.compile(r"^\w{6,}$"))
        jam_code = alice.locator("#jam-code").inner_text()
        speaker.wait("jam_joined", 15, after=mark)

        # Bob joins from his browser, on his speaker; alice's dialog follows (two members).
        bob_device = bobs.ready(30)
        bob = new_page(browser, console)
        bob.set_default_timeout(15_000)
        login(bob, server.base, "bob")
        # (the Jam's link: /jam/CODE opens the join panel with the code filled in)
        link = alice.locator("#jam-link").get_attribute("href")
        assert link == f"/jam/{jam_code}"
        bob.goto(server.base + link)
        bob.wait_for_selector("body.ready")
        expect(bob.locator("#jam-join-code")).to_have_value(jam_code)
        bob.locator("#jam-device").select_option(bob_device)
        bob.locator("#jam-join").click()
        expect(bob.locator("#jam-leave")).to_have_text("Leave the Jam")
        expect(alice.locator("#jam-members")).to_have_text("2 members")
        bobs.wait("jam_joined", 15)
        bobs.wait("jam_position", 15)
        alice.screenshot(path=str(screenshots / "connect-jam.png"))

        # The host ends it: both speakers leave, both dialogs offer a new Jam again.
        mark_a, mark_b = len(speaker.events), len(bobs.events)
        expect(alice.locator("#jam-leave")).to_have_text("End the Jam")
        alice.locator("#jam-leave").click()
        speaker.wait("jam_left", 15, after=mark_a)
        bobs.wait("jam_left", 15, after=mark_b)
        expect(alice.locator("#jam-start")).to_be_visible()
        expect(bob.locator("#jam-start")).to_be_visible()
        assert httpx.get(f"{server.base}/v1/me/player/devices", headers=server.headers("alice"),
                         timeout=10).status_code == 200
        # The only error the browser saw is the wrong code's answer (404 pairing_not_found).
        assert [e for e in console.errors if "/v1/me/speakers/approve" not in e or "404" not in e] == []
        assert len(console.errors) == 1, console.errors
    finally:
        speaker.stop()
        bobs.stop()
