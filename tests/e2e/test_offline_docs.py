"""In Chromium, asking nothing of any address but the server's (as without internet): /v1/docs draws the
API, and an address that names nothing shows the player's "Page not found"."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Console, login, new_page, sync_api
from tests.live import LiveServer

pytestmark = pytest.mark.slow
expect = sync_api.expect


def test_docs_and_not_found_without_internet(browser: sync_api.Browser, web_server: LiveServer) -> None:
    console = Console()
    page = new_page(browser, console)
    outside: list[str] = []
    local = (web_server.base, "data:", "blob:")
    page.on("request", lambda r: None if r.url.startswith(local) else outside.append(r.url))
    page.goto(web_server.base + "/v1/docs", timeout=60_000)
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("musicd /v1", timeout=20_000)
    expect(page.locator(".opblock").first).to_be_visible()
    assert outside == []
    login(page, web_server.base, "alice")
    page.goto(web_server.base + "/nonexistent")
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    assert outside == []
    page.context.close()
