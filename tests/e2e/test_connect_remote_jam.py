"""The web player behind one playback state with two outputs (issue 14, item 5): while a `musicd speaker
--sink null` plays, a phone-sized tab is its remote: the full-screen now-playing view, the lyrics (synced to
the speaker's position) and the queue panel show the speaker's state, and the queue panel reorders and
jumps the speaker's queue (the speaker follows). A tab joined to a Jam plays the Jam's track in step with a
speaker member (docs/connect.md, "Jam")."""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from musicd.devtools.speakers import SpeakerProcess
from tests.e2e.conftest import Console, login, new_page, serve_long_library, sync_api
from tests.live import REPO_ROOT, LiveServer

Page = sync_api.Page
expect = sync_api.expect

pytestmark = pytest.mark.slow

PHONE = {"viewport": {"width": 390, "height": 800}, "is_mobile": True, "has_touch": True}
LRC = "\n".join(f"[00:{s:02d}.00]Line at {s} seconds" for s in range(0, 60, 2))


@pytest.fixture(scope="module")
def remote_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, Path]]:
    with serve_long_library(tmp_path_factory.mktemp("connect-remote-web"), tracks=4) as served:
        yield served


def _playing_speaker(server: LiveServer, work: Path, name: str) -> tuple[SpeakerProcess, str, str, dict[str, str]]:
    """Alice's null speaker `name`, playing the long album: (process, device id, album uri, track ids by name)."""
    with server.client("alice") as c:
        key = c.post("/v1/me/api-keys", json={"name": name}).json()["key"]
    speaker = SpeakerProcess(server.base, name, work / f"state-{name}", api_key=key, cwd=REPO_ROOT)
    try:
        device = speaker.ready(30)
        with server.client("alice") as c:
            album = c.get("/v1/search", params={"q": "Long Album", "type": "album"}).json()["albums"]["items"][0]
            ids = {t["name"]: t["id"] for t in c.get(f"/v1/albums/{album['id']}/tracks").json()["items"]}
            r = c.put("/v1/me/player/play", params={"device_id": device}, json={"context_uri": album["uri"]})
            assert r.status_code == 204, r.text
        speaker.wait("playing", 15)
    except BaseException:
        speaker.stop()
        raise
    return speaker, device, album["uri"], ids


def _page(browser: sync_api.Browser, console: Console, server: LiveServer, user: str, **kw: Any) -> Page:
    page = new_page(browser, console, **kw)
    page.set_default_timeout(15_000)
    login(page, server.base, user)
    page.wait_for_function("() => document.documentElement.dataset.deviceId")
    return page


def test_a_phone_is_the_remote_of_a_speaker(browser: sync_api.Browser, remote_server: tuple[LiveServer, Path],
                                            screenshots: Path) -> None:
    server, work = remote_server
    console = Console()
    speaker, _, _, ids = _playing_speaker(server, work, "Living Room")
    try:
        with server.client("alice") as c:
            assert c.put(f"/v1/tracks/{ids['Tone 1.3']}/lyrics", json={"text": LRC}).status_code == 200
        phone = _page(browser, console, server, "alice", **PHONE)
        expect(phone.locator("#player-remote")).to_have_text("Playing on Living Room")

        # The full-screen view shows the speaker's track and names it.
        phone.locator("#player-title").click()
        expect(phone.locator("#now-playing")).to_be_visible()
        expect(phone.locator("#np-title")).to_have_text("Tone 1.1")
        expect(phone.locator("#now-playing .np-remote")).to_have_text("Playing on Living Room")

        # Its queue panel is the speaker's queue: reorder it (Alt+↑), the server and the speaker follow.
        phone.locator("#np-queue").click()
        panel = phone.locator("#np-panel")
        expect(panel.locator(".queue-heading").first).to_have_text("Now playing on Living Room")
        upcoming = panel.get_by_role("list", name="Next up").locator(".track-name")
        expect(upcoming).to_have_text(["Tone 1.2", "Tone 1.3", "Tone 1.4"])
        panel.locator(".queue-row", has_text="Tone 1.3").focus()
        phone.keyboard.press("Alt+ArrowUp")
        expect(upcoming).to_have_text(["Tone 1.3", "Tone 1.2", "Tone 1.4"])
        with server.client("alice") as c:
            coming = [t["name"] for t in c.get("/v1/me/player/queue").json()["queue"]]
        assert coming == ["Tone 1.3", "Tone 1.2", "Tone 1.4"]

        # Play an item of it now (Enter): the speaker starts it; view, bar and panel follow.
        mark = len(speaker.events)
        panel.locator(".queue-row", has_text="Tone 1.4").focus()
        phone.keyboard.press("Enter")
        speaker.wait("start", 15, where=lambda e: e["track_id"] == ids["Tone 1.4"], after=mark)
        expect(phone.locator("#np-title")).to_have_text("Tone 1.4")
        expect(upcoming).to_have_text([])
        expect(panel.get_by_text("Nothing after this track.")).to_be_visible()
        panel_now = panel.get_by_role("list", name="Now playing").locator(".track-name")
        expect(panel_now).to_have_text("Tone 1.4")

        # Tone 1.3 queued again and played from the panel (double-click); the lyrics panel follows the
        # speaker: a line clicked seeks it, and the highlighted line moves on with its position.
        mark = len(speaker.events)
        with server.client("alice") as c:
            assert c.post("/v1/me/player/queue", params={"uri": f"spotify:track:{ids['Tone 1.3']}"}).status_code == 204
        expect(upcoming).to_have_text(["Tone 1.3"])
        panel.locator(".queue-row", has_text="Tone 1.3").dblclick()
        speaker.wait("start", 15, where=lambda e: e["track_id"] == ids["Tone 1.3"], after=mark)
        phone.locator("#np-lyrics").click()
        lines = panel.locator(".lyric-line")
        expect(lines.first).to_be_visible()
        mark = len(speaker.events)
        lines.nth(5).click()  # "Line at 10 seconds": seeks the speaker
        speaker.wait("start", 15, where=lambda e: e["track_id"] == ids["Tone 1.3"] and e["position_ms"] >= 9_500,
                     after=mark)
        expect(panel.locator(".lyric-line[aria-current='true']")).to_have_text(
            re.compile(r"Line at 1[0-4] seconds"))
        # ...and they move on with it, the tab itself staying silent.
        expect(panel.locator(".lyric-line[aria-current='true']")).to_have_text(
            re.compile(r"Line at 1[4-8] seconds"), timeout=12_000)
        assert phone.evaluate("() => { const a = window.musicd.player.audio; return !a || a.paused; }")
        phone.screenshot(path=str(screenshots / "connect-remote-phone.png"))
        console.assert_clean()
    finally:
        speaker.stop()


def test_a_tab_joins_a_jam_and_keeps_in_step(browser: sync_api.Browser, remote_server: tuple[LiveServer, Path]) -> None:
    server, work = remote_server
    console = Console()
    speaker, device, _, ids = _playing_speaker(server, work, "Kitchen")
    try:
        with server.client("alice") as c:
            jam = c.post("/v1/me/jam", json={"device_id": device}).json()
        speaker.wait("jam_position", 15)

        # Bob opens the Jam's link and joins on this very tab.
        bob = _page(browser, console, server, "bob")
        tab = bob.evaluate("() => document.documentElement.dataset.deviceId")
        bob.goto(f"{server.base}/jam/{jam['code']}")
        bob.wait_for_selector("body.ready")
        bob.locator("#jam-device").select_option(tab)
        bob.locator("#jam-join").click()
        expect(bob.locator("#jam-leave")).to_have_text("Leave the Jam")
        bob.wait_for_function("""(id) => { const p = window.musicd.player;
            return p.current && p.current.track.id === id && p.isPlaying() && window.musicd.jam.drift !== null; }""",
                              arg=jam["track_id"], timeout=20_000)
        expect(bob.locator("#player-title")).to_have_text("Tone 1.1")

        # Where each member is on the timeline (position minus the time since start_at), measured over a few
        # seconds: the tab's <audio> and the speaker's reported positions agree within a bound.
        with server.client("alice") as c:
            start_at = c.get(f"/v1/jam/{jam['jam_id']}").json()["start_at"]
        time.sleep(2.0)  # the tab's rate nudges have had time to work
        mark = len(speaker.events)
        tab_offsets = []
        for _ in range(8):
            now, pos = bob.evaluate("() => [Date.now(), window.musicd.player.audio.currentTime * 1000]")
            tab_offsets.append(pos - (now - start_at))
            time.sleep(0.25)
        speaker.wait("jam_position", 5, after=mark)
        spk = [e["position_ms"] - (e["t"] - start_at) for e in speaker.events[mark:] if e["event"] == "jam_position"]
        tab_off, spk_off = statistics.median(tab_offsets), statistics.median(spk)
        assert abs(tab_off) < 400 and abs(tab_off - spk_off) < 400, (tab_offsets, spk)
        assert bob.evaluate("() => window.musicd.player.audio.playbackRate") <= 1.04

        # "Add to queue" in his tab adds to the Jam's shared queue.
        bob.evaluate("(uri) => window.musicd.playback.addToQueue([{ uri, name: 'Tone 1.4' }])",
                     f"spotify:track:{ids['Tone 1.4']}")
        with server.client("alice") as c:
            assert c.get(f"/v1/jam/{jam['jam_id']}").json()["queue"][-1] == ids["Tone 1.4"]

        # Bob pauses his tab (the bar): it stays silent, still a member; play brings it back in step.
        bob.locator("#player-play").click()
        bob.wait_for_function("() => window.musicd.player.audio.paused")
        bob.wait_for_timeout(1000)
        assert bob.evaluate("() => window.musicd.player.audio.paused")
        bob.locator("#player-play").click()
        bob.wait_for_function("""() => { const a = window.musicd.player.audio, d = window.musicd.jam.drift;
            return !a.paused && d !== null && Math.abs(d) < 300; }""")

        # The host ends the Jam: the tab falls silent.
        with server.client("alice") as c:
            assert c.delete(f"/v1/jam/{jam['jam_id']}").status_code == 204
        bob.wait_for_function("() => window.musicd.player.audio.paused && window.musicd.jam.jam === null")
        console.assert_clean()
    finally:
        speaker.stop()
