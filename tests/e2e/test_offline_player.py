"""The web player offline, in headless Chromium: mark a playlist for offline, wait for its downloads, cut the
network (the page's and the service worker's), reload, play, seek and skip from the encrypted storage; no
plaintext audio in the browser's storage; back online after a revocation the content is gone, and the plays
made offline are in the listening history."""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, Console, sync_api
from tests.integration.listens_support import history, wait_for
from tests.live import LiveServer

expect = sync_api.expect
pytestmark = pytest.mark.slow

# Reads every IndexedDB record and every Cache Storage entry of the origin and says which audio magic it finds.
_SCAN_STORAGE = """async () => {
  const magics = {OggS: [0x4f, 0x67, 0x67, 0x53], fLaC: [0x66, 0x4c, 0x61, 0x43], ID3: [0x49, 0x44, 0x33]};
  const found = new Set();
  let bytesSeen = 0;
  const scan = (u8) => {
    bytesSeen += u8.length;
    for (const [name, m] of Object.entries(magics)) {
      for (let i = 0; i + m.length <= u8.length; i++) {
        let ok = true;
        for (let k = 0; k < m.length; k++) if (u8[i + k] !== m[k]) { ok = false; break; }
        if (ok) { found.add(name); break; }
      }
    }
  };
  const walk = (v) => {
    if (v instanceof ArrayBuffer) scan(new Uint8Array(v));
    else if (ArrayBuffer.isView(v)) scan(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    else if (typeof v === "string") scan(new TextEncoder().encode(v));
    else if (v && typeof v === "object" && !(v instanceof CryptoKey)) for (const x of Object.values(v)) walk(x);
  };
  for (const info of await indexedDB.databases()) {
    const db = await new Promise((res, rej) => {
      const r = indexedDB.open(info.name);
      r.onsuccess = () => res(r.result);
      r.onerror = () => rej(r.error);
    });
    for (const store of db.objectStoreNames) {
      const all = await new Promise((res) => {
        const r = db.transaction(store).objectStore(store).getAll();
        r.onsuccess = () => res(r.result);
      });
      walk(all);
    }
    db.close();
  }
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    for (const req of await cache.keys()) scan(new Uint8Array(await (await cache.match(req)).arrayBuffer()));
  }
  return {found: [...found], bytesSeen};
}"""


# Runs the page's own verifyLicence on a real licence, on one with a changed payload, one older than the newest
# seen, and one checked as another device.
_LICENCE_CHECKS = """async ([lic, deviceId]) => {
  const url = document.querySelector('link[rel=modulepreload]').href.replace('/js/app.js', '/js/offline/crypto.js');
  const c = await import(url);
  const key = window.musicdOffline.licenceKey;
  const tryIt = async (l, dev, min) => {
    try { await c.verifyLicence(key, l, dev, min); return 'ok'; } catch (e) { return e.code || String(e); }
  };
  const body = new TextDecoder().decode(c.b64d(lic.payload)).replace('"active"', '"activ3"');
  const forged = {payload: btoa(body).replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, ''),
                  signature: lic.signature};
  const seq = JSON.parse(new TextDecoder().decode(c.b64d(lic.payload))).seq;
  return {good: await tryIt(lic, deviceId, seq), forged: await tryIt(forged, deviceId, 0),
          replayed: await tryIt(lic, deviceId, seq + 1), other: await tryIt(lic, 'another-device', 0)};
}"""


@pytest.fixture(scope="module")
def sw_browser() -> Iterator[sync_api.Browser]:
    """Chromium with the service worker's requests visible to Playwright (so they can be cut too: a context set
    offline does not cut a service worker's own fetches, microsoft/playwright#2311)."""
    exe = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    if exe is None:
        pytest.skip("chromium is not installed (scripts/test installs it with apt)")
    old = os.environ.get("PW_EXPERIMENTAL_SERVICE_WORKER_NETWORK_EVENTS")
    os.environ["PW_EXPERIMENTAL_SERVICE_WORKER_NETWORK_EVENTS"] = "1"
    try:
        with sync_api.sync_playwright() as p:
            b = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
            yield b
            b.close()
    finally:
        if old is None:
            os.environ.pop("PW_EXPERIMENTAL_SERVICE_WORKER_NETWORK_EVENTS", None)
        else:
            os.environ["PW_EXPERIMENTAL_SERVICE_WORKER_NETWORK_EVENTS"] = old


def _cut_service_worker(route: sync_api.Route) -> None:
    if route.request.service_worker is not None:
        route.abort("internetdisconnected")
    else:
        route.continue_()


def _user(server: LiveServer) -> tuple[str, str, dict[str, str]]:
    name, password = f"off{secrets.token_hex(4)}", "pw-" + secrets.token_hex(8)
    r = httpx.post(f"{server.base}/v1/admin/users", headers=server.headers("admin"),
                   json={"username": name, "password": password, "role": "user"})
    assert r.status_code == 201, r.text
    token = server.login(name, password)["access_token"]
    return name, password, {"Authorization": f"Bearer {token}"}


def _login(page: sync_api.Page, server: LiveServer, name: str, password: str) -> None:
    page.goto(server.base + "/login")
    page.get_by_label("Username or e-mail").fill(name)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_selector("body.ready")


def _wait(page: sync_api.Page, script: str, arg: Any = None, timeout: float = 15_000) -> Any:
    return page.wait_for_function(script, arg=arg, timeout=timeout).json_value()


def test_offline_playback_revocation_and_plays(sw_browser: sync_api.Browser, web_server: LiveServer,
                                               screenshots: Path) -> None:
    name, password, headers = _user(web_server)
    with httpx.Client(base_url=web_server.base, headers=headers, timeout=30) as http:
        me = http.get("/v1/me").json()
        user_id = me["id"]
        albums = http.get("/v1/browse/new-releases", params={"limit": 50}).json()["albums"]["items"]
        tracks: list[dict[str, Any]] = []
        for a in albums:
            items = http.get(f"/v1/albums/{a['id']}/tracks", params={"limit": 50}).json()["items"]
            tracks += [t for t in items if 2_000 <= t["duration_ms"] <= 20_000]
        assert len(tracks) >= 3
        picked = tracks[:3]
        pid = http.post("/v1/me/playlists", json={"name": "Road trip"}).json()["id"]
        http.post(f"/v1/playlists/{pid}/tracks", json={"uris": [f"musicd:track:{t['id']}" for t in picked]})

    console = Console()
    context = sw_browser.new_context(viewport={"width": 1280, "height": 900}, service_workers="allow")
    page = context.new_page()
    page.set_default_timeout(15_000)
    console.attach(page)
    _login(page, web_server, name, password)

    # Installable: a manifest with icons, and a service worker that controls the page.
    manifest = page.evaluate("fetch(document.querySelector('link[rel=manifest]').href).then(r => r.json())")
    assert manifest["start_url"] == "/" and manifest["display"] == "standalone"
    assert {i["sizes"] for i in manifest["icons"]} >= {"192x192", "512x512"}
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")

    # Mark the playlist for offline and wait for the three downloads.
    page.goto(f"{web_server.base}/playlist/{pid}")
    toggle = page.locator("[data-offline-toggle=playlist]")
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    page.goto(web_server.base + "/offline")
    try:
        expect(page.locator("#offline-tracks li[data-complete='1']")).to_have_count(3, timeout=30_000)
    except AssertionError:
        print("DEBUG", page.evaluate("""async () => { const o = window.musicdOffline;
          return {status: o.status, message: o.message, licence: o.licence}; }"""), console.errors)
        print(page.locator("#offline-tracks").inner_text())
        raise
    assert page.evaluate("navigator.serviceWorker.controller !== null")
    key = page.evaluate("""async () => { const o = window.musicdOffline; return {
        type: o.key.type, extractable: o.key.extractable, algo: o.key.algorithm.name, device: o.device.id}; }""")
    assert key["extractable"] is False and key["algo"] == "HKDF"
    scanned = page.evaluate(_SCAN_STORAGE)
    assert scanned["found"] == [] and scanned["bytesSeen"] > 10_000, scanned
    # The page's licence checks (js/offline/crypto.js): a forged, a replayed and another device's licence fail.
    token = page.evaluate("window.musicdOffline.device.token")
    r = httpx.post(f"{web_server.base}/v1/offline/heartbeat", json={},
                   headers={"Authorization": f"Device {key['device']}.{token}"})
    lic = r.json()["licence"]
    checks = page.evaluate(_LICENCE_CHECKS, [lic, key["device"]])
    assert checks == {"good": "ok", "forged": "licence_forged", "replayed": "licence_replayed",
                      "other": "licence_other_device"}, checks

    # The network goes: the page's requests and the service worker's.
    context.route("**/*", _cut_service_worker)
    context.set_offline(True)
    page.reload()
    page.wait_for_selector("body.ready")
    assert page.evaluate("location.pathname") == "/offline"
    assert page.evaluate("fetch('/health').then(() => 'online', () => 'offline')") == "offline"
    rows = page.locator("#offline-tracks li[data-complete='1']")
    expect(rows).to_have_count(3)
    rows.nth(0).locator(".offline-play").click()
    _wait(page, "() => { const a = window.musicd.player.audio; return a && a.currentTime > 0.3 && !a.paused; }")
    assert page.evaluate("window.musicd.player.audio.src").startswith("blob:")
    assert page.evaluate("window.musicd.player.current.track.id") == picked[0]["id"]
    # Seek: forward inside the track, and it plays on from there.
    target = picked[0]["duration_ms"] / 1000 * 0.3
    page.evaluate(f"window.musicd.player.seek({target})")
    _wait(page, "(t) => { const a = window.musicd.player.audio; return !a.seeking && a.currentTime >= t; }", target)
    # It ends and the next one starts by itself; then a skip moves to the third.
    _wait(page, "(id) => window.musicd.player.current.track.id === id && window.musicd.player.audio.currentTime > 0.2",
          picked[1]["id"], timeout=30_000)
    _wait(page, "() => { const a = window.musicd.player.audio; return a.currentTime > a.duration * 0.55; }",
          timeout=20_000)
    page.evaluate("window.musicd.player.next()")
    _wait(page, "(id) => window.musicd.player.current.track.id === id && window.musicd.player.audio.currentTime > 0.2",
          picked[2]["id"])
    assert _wait(page, "() => window.musicdOffline.pendingPlays().then(n => n >= 2 ? n : 0)") >= 2
    page.screenshot(path=str(screenshots / "offline-player.png"))
    assert history(web_server, user_id) == []  # nothing could be sent yet

    # While it is offline, its owner revokes the device from another one.
    with httpx.Client(base_url=web_server.base, headers=headers, timeout=30) as http:
        assert http.delete(f"/v1/me/devices/{key['device']}").status_code == 204
    page.evaluate("window.musicd.player.pause()")

    # Back online: the plays go to the history, the licence says revoked, the content is deleted.
    context.unroute("**/*", _cut_service_worker)
    context.set_offline(False)
    page.evaluate("window.musicdOffline.sync()")
    rows_after = wait_for(lambda: [r for r in history(web_server, user_id) if r[2] == f"offline:{key['device']}"])
    assert [r[0] for r in rows_after][:2] == [picked[0]["id"], picked[1]["id"]]
    left = page.evaluate("""async () => { const o = window.musicdOffline;
        return {device: o.device, pending: await o.pendingPlays(), tracks: await o.stored()}; }""")
    assert left == {"device": None, "pending": 0, "tracks": 0}
    assert page.evaluate(_SCAN_STORAGE)["found"] == []
    expect(page.locator("#offline-status")).to_contain_text("revoked")
    # Offline, the browser reports every request it could not make (covers, the API): only those are allowed.
    assert [e for e in console.errors if "ERR_INTERNET_DISCONNECTED" not in e and "Failed to load resource" not in e
            and "Failed to fetch" not in e] == []


def test_a_full_storage_quota_stops_downloads_with_a_message_and_loses_nothing(
        sw_browser: sync_api.Browser, web_server: LiveServer) -> None:
    name, password, headers = _user(web_server)
    with httpx.Client(base_url=web_server.base, headers=headers, timeout=30) as http:
        album = http.get("/v1/browse/new-releases", params={"limit": 1}).json()["albums"]["items"][0]
        n = len(http.get(f"/v1/albums/{album['id']}/tracks").json()["items"])
    context = sw_browser.new_context(service_workers="block")
    page = context.new_page()
    page.set_default_timeout(15_000)
    _login(page, web_server, name, password)
    page.goto(f"{web_server.base}/album/{album['id']}")
    cdp = context.new_cdp_session(page)
    used = page.evaluate("navigator.storage.estimate().then(e => e.usage)")
    cdp.send("Storage.overrideQuotaForOrigin", {"origin": web_server.base, "quotaSize": used + 8_000})
    toggle = page.locator("[data-offline-toggle=album]")
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    page.goto(web_server.base + "/offline")
    expect(page.locator("#offline-status")).to_contain_text("storage is full", timeout=30_000)
    assert page.evaluate("window.musicdOffline.status") == "full"
    assert page.locator("#offline-tracks li[data-complete='1']").count() < n
    # Room again: the next sync finishes every download, nothing was lost on the way.
    cdp.send("Storage.overrideQuotaForOrigin", {"origin": web_server.base})
    page.evaluate("window.musicdOffline.sync()")
    expect(page.locator("#offline-tracks li[data-complete='1']")).to_have_count(n, timeout=30_000)
    context.close()
