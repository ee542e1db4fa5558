"""The web player with a friend's server paired: friends' tracks in search with their source, the settings
cards that pair servers and follow friends."""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from tests.e2e.conftest import Console, sync_api
from tests.e2e.test_web_player import _login
from tests.integration.fed_support import Song, build_library, fed_server, instance, pair, sync
from tests.live import LiveServer

expect = sync_api.expect


def _enter(cm: AbstractContextManager[LiveServer], pool: ThreadPoolExecutor) -> LiveServer:
    # Playwright's sync API runs an asyncio loop on this thread; the server set-up uses asyncio.run.
    return pool.submit(cm.__enter__).result()


@pytest.fixture(scope="module")
def friends(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, LiveServer]]:
    root = tmp_path_factory.mktemp("fed-web")
    la = build_library(root / "libA", [Song("Ann Artist", "Morning Album", "Morning Light")], root / "tpl")
    lb = build_library(root / "libB", [Song("Bob Band", "Zoo Album", "Zebra Crossing"),
                                       Song("Bob Band", "Zoo Album", "Yellow Sky")], root / "tpl")
    cms = [fed_server(root / "a", la, "Alice's server"), fed_server(root / "b", lb, "Bob's server")]
    with ThreadPoolExecutor(1) as pool:
        a, b = (_enter(cm, pool) for cm in cms)
    try:
        pair(a, b)
        sync(a, instance(b)["instance_id"])
        yield a, b
    finally:
        for cm in reversed(cms):
            cm.__exit__(None, None, None)


@pytest.mark.slow
def test_friends_tracks_show_their_source_and_settings_pair_and_follow(
    browser: sync_api.Browser, friends: tuple[LiveServer, LiveServer], screenshots: Path,
) -> None:
    a, _ = friends
    console = Console()
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.set_default_timeout(15_000)
    console.attach(page)
    _login(page, a.base, "admin")
    page.goto(a.base + "/search?q=zebra")
    row = page.locator(".track-row", has_text="Zebra Crossing")
    expect(row).to_contain_text("from Bob's server")
    page.screenshot(path=str(screenshots / "federation-search.png"))
    page.goto(a.base + "/search?q=zoo")
    expect(page.locator(".card", has_text="Zoo Album")).to_contain_text("from Bob's server")

    page.goto(a.base + "/settings")
    servers = page.locator(".settings-card", has_text="Friends' servers")
    expect(servers.locator(".peer-row", has_text="Bob's server")).to_contain_text("2 tracks")
    servers.get_by_role("button", name="Make an invite").click()
    expect(servers.get_by_label("Invite", exact=True)).to_have_value(re.compile(r"^musicd-invite:"))
    friends_card = page.locator(".settings-card", has_text="Friends on other servers")
    friends_card.get_by_label("Username").fill("bob")
    friends_card.get_by_role("button", name="Follow").click()
    expect(friends_card.locator(".follow-row", has_text="bob")).to_contain_text("does not share their listening")
    page.screenshot(path=str(screenshots / "federation-settings.png"), full_page=True)
    console.assert_clean()
    context.close()
