"""/v1/docs needs no internet (Swagger UI is served from the package), and a page address that names
nothing shows the web player's own not-found page to a browser while API clients keep their JSON errors."""

from __future__ import annotations

import re

import httpx

from tests.live import LiveServer


def test_docs_assets_are_served_locally(live_server: LiveServer) -> None:
    page = httpx.get(f"{live_server.base}/v1/docs", timeout=30)
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    refs = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
    assert refs and all(r.startswith("/") and not r.startswith("//") for r in refs), refs
    for ref in refs:
        r = httpx.get(f"{live_server.base}{ref}", timeout=30)
        assert r.status_code == 200 and len(r.content) > 500, ref
        want = {"js": "text/javascript", "css": "text/css", "png": "image/png"}[ref.rsplit(".", 1)[-1]]
        assert r.headers["content-type"].startswith(want), ref
    assert "SwaggerUIBundle" in httpx.get(f"{live_server.base}/v1/docs/assets/swagger-ui-bundle.js").text
    missing = httpx.get(f"{live_server.base}/v1/docs/assets/..%2F..%2F__init__.py")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_not_found_page_for_browsers_json_for_apis(live_server: LiveServer) -> None:
    html = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    page = httpx.get(f"{live_server.base}/nonexistent", headers=html, timeout=30)
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert 'id="view"' in page.text  # the player's shell: its router draws "Page not found"
    api = httpx.get(f"{live_server.base}/nonexistent", timeout=30)
    assert api.status_code == 404 and api.json()["error"]["code"] == "not_found"
    v1 = httpx.get(f"{live_server.base}/v1/nonexistent", headers=html, timeout=30)
    assert v1.status_code in (401, 404) and "error" in v1.json()
