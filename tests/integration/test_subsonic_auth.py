"""Subsonic authentication over HTTP: every credential form and every error code the envelope carries."""

from __future__ import annotations

import httpx
import pytest

from tests.integration.subsonic_support import Sub
from tests.live import USERS, LiveServer


@pytest.fixture(scope="module")
def bob(live_server: LiveServer) -> Sub:
    return Sub(live_server.base, "bob", USERS["bob"][0])


def _raw(live_server: LiveServer, method: str, params: dict[str, str]) -> dict[str, object]:
    r = httpx.get(f"{live_server.base}/rest/{method}", params={"f": "json", "v": "1.16.1", "c": "t", **params},
                  timeout=10)
    assert r.status_code == 200
    return r.json()["subsonic-response"]  # type: ignore[no-any-return]


def _code(body: dict[str, object]) -> int:
    assert body["status"] == "failed", body
    assert body["openSubsonic"] is True and body["type"] == "musicd"  # the OpenSubsonic fields on errors too
    return int(body["error"]["code"])  # type: ignore[index]


def test_password_forms(bob: Sub) -> None:
    for mode in ("plain", "enc", "token"):
        r = bob.raw("getLicense", auth=mode)
        assert r.json()["subsonic-response"]["status"] == "ok", mode
    wrong = Sub(bob.base, "bob", "not-the-password")
    for mode in ("plain", "enc", "token"):
        assert wrong.error("ping", auth=mode) == 40
    assert Sub(bob.base, "nobody", "whatever-pass").error("ping") == 40
    # XML errors carry the code too
    r = wrong.raw("ping", fmt="xml")
    assert 'status="failed"' in r.text and 'code="40"' in r.text


def test_missing_and_conflicting_credentials(live_server: LiveServer) -> None:
    pw = USERS["bob"][0]
    assert _code(_raw(live_server, "ping", {})) == 10
    assert _code(_raw(live_server, "ping", {"u": "bob"})) == 10
    assert _code(_raw(live_server, "ping", {"u": "bob", "t": "abc"})) == 10
    assert _code(_raw(live_server, "ping", {"u": "bob", "p": pw, "t": "abc", "s": "x"})) == 43
    assert _code(_raw(live_server, "ping", {"apiKey": "msd_x", "u": "bob"})) == 43


def test_protocol_versions(live_server: LiveServer) -> None:
    pw = USERS["bob"][0]
    assert _code(_raw(live_server, "ping", {"u": "bob", "p": pw, "v": "2.0.0"})) == 30
    assert _code(_raw(live_server, "ping", {"u": "bob", "p": pw, "v": "0.9.0"})) == 20
    assert _raw(live_server, "ping", {"u": "bob", "p": pw, "v": "1.2.0"})["status"] == "ok"


def test_api_keys(live_server: LiveServer) -> None:
    with live_server.client("bob") as web:
        made = web.post("/v1/me/api-keys", json={"name": "test phone"})
        assert made.status_code == 201, made.text
        key, key_id = made.json()["key"], made.json()["id"]
        body = _raw(live_server, "getUser", {"apiKey": key})
        assert body["status"] == "ok" and body["user"]["username"] == "bob"  # type: ignore[index]
        assert _raw(live_server, "tokenInfo", {"apiKey": key})["tokenInfo"] == {"username": "bob"}
        assert _code(_raw(live_server, "ping", {"apiKey": key + "nope"})) == 44
        assert _code(_raw(live_server, "ping", {"apiKey": key, "u": "bob"})) == 43
        listed = web.get("/v1/me/api-keys").json()["items"]
        assert [k["id"] for k in listed] == [key_id] and "key" not in listed[0]
        assert web.delete(f"/v1/me/api-keys/{key_id}").status_code == 204
    assert _code(_raw(live_server, "ping", {"apiKey": key})) == 44


def test_permissions(live_server: LiveServer, bob: Sub) -> None:
    assert bob.error("getUsers") == 50
    assert bob.error("startScan") == 50
    guest = Sub(live_server.base, "guest", USERS["guest"][0])
    assert guest.error("createPlaylist", {"name": "nope"}) == 50
    assert guest.error("createShare", {"id": "x"}) in (50, 70)
