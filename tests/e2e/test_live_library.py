"""The live library in real headless Chromium (issue 12 item 6): alice's home page is open while a new album
lands in the library folder and the admin starts a scan from the admin page. The admin page follows the scan
over the realtime channel (scan_started, scan_progress, scan_done), and the new release appears on alice's
home page without a reload; a track removed by the next scan leaves her open album page the same way."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import replace

import pytest

from musicd.devtools.library_builder import BuiltLibrary, write_tags
from tests.e2e.conftest import Console, login, new_page, serve, sync_api
from tests.live import LiveServer

Page = sync_api.Page
expect = sync_api.expect

pytestmark = pytest.mark.slow

HEARD = """(types) => { window.__sameDocument = true; window.__heard = [];
    for (const t of types) window.musicd.realtime.on(t, () => window.__heard.push(t)); }"""


@pytest.fixture(scope="module")
def live_lib(built_library: BuiltLibrary, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[tuple[LiveServer, BuiltLibrary]]:
    """A private server on its own copy of the library: this test adds and removes files."""
    work = tmp_path_factory.mktemp("web-live")
    lib = replace(built_library, root=work / "Music")
    shutil.copytree(built_library.root, lib.root, symlinks=True)
    with serve(work, lib.root, MUSICD_TRANSCODE_PRE_TRANSCODE="false") as server:
        yield server, lib


def _page(browser: sync_api.Browser, console: Console, base: str, name: str) -> Page:
    page = new_page(browser, console)
    page.set_default_timeout(20_000)
    login(page, base, name)
    page.wait_for_function("() => document.documentElement.dataset.realtime === 'open'")
    return page


def test_scan_progress_and_new_releases_appear_live(browser: sync_api.Browser,
                                                    live_lib: tuple[LiveServer, BuiltLibrary]) -> None:
    server, lib = live_lib
    console = Console()
    alice = _page(browser, console, server.base, "alice")
    fresh = alice.locator("section", has=alice.get_by_role("heading", name="New releases"))
    expect(fresh.locator(".card").first).to_be_visible()
    expect(fresh).not_to_contain_text("Live Quokka Release")
    alice.evaluate(HEARD, ["library_changed"])

    admin = _page(browser, console, server.base, "admin")
    admin.locator("#user-button").click()
    admin.get_by_role("menuitem", name="Admin").click()
    expect(admin.locator(".scan-phase")).to_have_text("Idle.")
    admin.evaluate(HEARD, ["scan_started", "scan_progress", "scan_done"])

    # A new album arrives in the library folder (a copy of a track, retagged).
    src = next(t for t in lib.tracks if t.format == "flac" and t.lyrics != "lrc" and "/Disc " not in t.path)
    new_dir = lib.root / "Live Band" / "Live Quokka Release"
    new_dir.mkdir(parents=True)
    dest = new_dir / "01 Quokka Arrives.flac"
    for n, title in ((1, "Quokka Arrives"), (2, "Quokka Stays")):
        shutil.copy(lib.root / src.path, new_dir / f"0{n} {title}.flac")
        write_tags(new_dir / f"0{n} {title}.flac",
                   replace(src, title=title, album="Live Quokka Release", album_artist="Live Band", artist="Live Band",
                           artists=("Live Band",), track=n, mbid_album=None, mbid_recording=None))

    admin.get_by_role("button", name="Scan now").click()
    admin.wait_for_function("() => window.__heard.includes('scan_done')", timeout=60_000)
    expect(admin.locator(".scan-phase")).to_have_text("Idle.")
    expect(admin.get_by_role("region", name="Library", exact=True)).to_contain_text("Last scan:")
    heard = admin.evaluate("() => window.__heard")
    assert heard[0] == "scan_started" and "scan_progress" in heard, heard

    # Alice's open home page shows the new release, without a reload.
    card = fresh.locator(".card", has_text="Live Quokka Release")
    expect(card).to_be_visible(timeout=30_000)
    assert alice.evaluate("() => window.__sameDocument === true && window.__heard.includes('library_changed')")

    # She opens the album; the next scan removes its track and her page follows.
    card.locator("a[href^='/album/']").first.click()
    expect(alice.locator(".track-row", has_text="Quokka Arrives")).to_be_visible()
    alice.evaluate(HEARD, ["library_changed", "album_changed"])
    dest.unlink()
    admin.get_by_role("button", name="Scan now").click()
    expect(alice.locator(".track-row", has_text="Quokka Arrives")).to_have_count(0, timeout=60_000)
    expect(alice.locator(".track-row", has_text="Quokka Stays")).to_be_visible()
    assert alice.evaluate("() => window.__sameDocument === true")
    console.assert_clean()
    alice.context.close()
    admin.context.close()
