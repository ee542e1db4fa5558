"""zeroconf on loopback: the server advertises `_musicd._tcp`, a browser finds it within 2 s, a speaker
started without --server finds it and plays for the user, and the server says goodbye on shutdown."""

from __future__ import annotations

import asyncio
import secrets
import time
from pathlib import Path

import httpx
from zeroconf import ServiceStateChange, Zeroconf
from zeroconf.asyncio import AsyncServiceBrowser, AsyncZeroconf

from musicd.devtools.library_builder import BuiltLibrary
from musicd.devtools.speakers import SpeakerProcess
from musicd.net.discovery import SERVICE_TYPE, browse
from tests.live import REPO_ROOT, start_server


async def _until_advertised(name: str, within: float) -> tuple[float, str]:
    t0 = time.monotonic()
    while time.monotonic() - t0 < within:
        for f in await browse(1.0, ["127.0.0.1"]):
            if f.name == name:
                return time.monotonic() - t0, f.url
    raise AssertionError(f"{name} not advertised within {within} s")


async def _goodbye_seen(full_name: str, stop: object, within: float) -> float:
    """Browse, call `stop()`, and return how long until the service was removed."""
    zc = AsyncZeroconf(interfaces=["127.0.0.1"])
    added, removed = asyncio.Event(), asyncio.Event()

    def on_change(zeroconf: Zeroconf, service_type: str, name: str, state_change: ServiceStateChange) -> None:
        if name == full_name:
            (added if state_change is ServiceStateChange.Added else removed).set()

    browser = AsyncServiceBrowser(zc.zeroconf, [SERVICE_TYPE], handlers=[on_change])
    try:
        await asyncio.wait_for(added.wait(), 5)
        t0 = time.monotonic()
        await asyncio.to_thread(stop)  # type: ignore[arg-type]
        await asyncio.wait_for(removed.wait(), within)
        return time.monotonic() - t0
    finally:
        await browser.async_cancel()
        await zc.async_close()


def test_advertise_discover_and_goodbye(built_library: BuiltLibrary, tmp_path: Path) -> None:
    name = f"musicd-test-{secrets.token_hex(3)}"
    env = {"MUSICD_DISCOVERY_ADVERTISE": "always", "MUSICD_DISCOVERY_INTERFACES": "127.0.0.1",
           "MUSICD_DISCOVERY_NAME": name}
    with start_server(tmp_path, built_library.root, **env) as server:
        deadline = time.monotonic() + 30
        while "discovery.advertised" not in server.log():
            assert time.monotonic() < deadline, server.log()
            time.sleep(0.1)
        took, url = asyncio.run(_until_advertised(name, 2.0))
        assert took <= 2.0 and url == server.base
        with server.client("alice") as c:
            key = c.post("/v1/me/api-keys", json={"name": "found"}).json()["key"]
        sp = SpeakerProcess(None, "Found Speaker", tmp_path / "speaker", api_key=key, cwd=REPO_ROOT)
        try:
            found = sp.wait("discovered", 15)
            assert found["server"] == server.base
            dev = sp.ready()
            r = httpx.get(f"{server.base}/v1/me/player/devices", headers=server.headers("alice"), timeout=10)
            assert dev in {d["id"] for d in r.json()["devices"]}
        finally:
            sp.stop()

        def stop() -> None:
            server.proc.terminate()
            server.proc.wait(timeout=20)

        gone = asyncio.run(_goodbye_seen(f"{name}.{SERVICE_TYPE}", stop, 2.0))  # a goodbye, not an expiry
        assert gone < 2.0
