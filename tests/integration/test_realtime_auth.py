"""GET /v1/realtime authentication, against a running server and the close codes of docs/realtime.md:
no auth in 5 s, something else first, bad / expired / revoked tokens, and sessions that end while
connected (logout, logout everywhere, password change by the user and by another process, disabled,
deleted), each closing the socket within 5 s."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time

import jwt
import pytest

from tests.integration.realtime_support import CLOSE, Client, api, close_name, new_user
from tests.live import LiveServer, server_env

pytestmark = pytest.mark.slow


async def _closed_with(c: Client, name: str, within: float = 5.5) -> None:
    t0 = time.monotonic()
    code, reason = await c.closed(within + 3)
    assert (code, close_name(reason)) == (CLOSE[name], name), (code, reason)
    assert time.monotonic() - t0 <= within, f"closed after {time.monotonic() - t0:.1f} s"


async def test_no_auth_within_five_seconds(live_server: LiveServer) -> None:
    c = await Client.open(live_server, None)
    await _closed_with(c, "auth_timeout", within=7)


@pytest.mark.parametrize("first", [
    '{"type": "subscribe", "topic": "library"}', "not json", "[1, 2]", '{"token": "x"}',
])
async def test_anything_but_auth_first_is_refused(live_server: LiveServer, first: str) -> None:
    c = await Client.open(live_server, None)
    await c.send(first)
    await _closed_with(c, "auth_required", within=2)


async def test_bad_expired_and_revoked_tokens(live_server: LiveServer) -> None:
    for token in ("nonsense", "", live_server.token("alice") + "x"):
        c = await Client.open(live_server, None)
        await c.send({"type": "auth", "token": token})
        await _closed_with(c, "invalid_token", within=2)
    c = await Client.open(live_server, None)
    await c.send({"type": "auth", "token": 42})
    await _closed_with(c, "invalid_token", within=2)

    # An access token signed with the server's key that expired a minute ago.
    key = (live_server.data_dir / "keys" / "token.key").read_bytes()
    uid = live_server.user_id("alice")
    now = int(time.time())
    expired = jwt.encode({"sub": uid, "gen": 0, "role": "user", "iat": now - 1000, "exp": now - 60, "iss": "musicd",
                          "typ": "access"}, key, algorithm="HS256")
    c = await Client.open(live_server, None)
    await c.send({"type": "auth", "token": expired})
    await _closed_with(c, "token_expired", within=2)

    name, password, _ = new_user(live_server)
    token = live_server.login(name, password)["access_token"]
    with api(live_server, token) as http:
        assert http.post("/v1/auth/logout", json={"everywhere": True}).status_code == 204
    c = await Client.open(live_server, None)
    await c.send({"type": "auth", "token": token})
    await _closed_with(c, "session_revoked", within=2)


async def test_logout_closes_that_login_only(live_server: LiveServer) -> None:
    name, password, _ = new_user(live_server)
    first, second = live_server.login(name, password), live_server.login(name, password)
    a = await Client.open(live_server, first["access_token"])
    b = await Client.open(live_server, second["access_token"])
    with api(live_server, first["access_token"]) as http:
        assert http.post("/v1/auth/logout", json={"refresh_token": first["refresh_token"]}).status_code == 204
    await _closed_with(a, "session_revoked")
    # The other login's socket stays open and answers.
    await b.send({"type": "ping", "t": 7})
    assert (await b.expect("pong"))["t"] == 7
    with api(live_server, first["access_token"]) as http:
        assert http.get("/v1/me").status_code == 401, "the logged-out access token no longer works over HTTP"
    await b.close()


async def test_password_change_and_logout_everywhere_close_every_socket(live_server: LiveServer) -> None:
    name, password, _ = new_user(live_server)
    pair = live_server.login(name, password)
    socks = [await Client.open(live_server, pair["access_token"]) for _ in range(3)]
    with api(live_server, pair["access_token"]) as http:
        r = http.put("/v1/me/password", json={"current_password": password, "new_password": "another-password-1"})
        assert r.status_code == 200, r.text
        fresh = r.json()["access_token"]
    for s in socks:
        await _closed_with(s, "session_revoked")
    # The token the password change returned works, and logging out everywhere closes its sockets too.
    s = await Client.open(live_server, fresh)
    with api(live_server, fresh) as http:
        assert http.post("/v1/auth/logout", json={"everywhere": True}).status_code == 204
    await _closed_with(s, "session_revoked")


async def test_disabled_and_deleted_users_are_closed(live_server: LiveServer) -> None:
    for action in ("disable", "delete"):
        name, password, uid = new_user(live_server)
        c = await Client.open(live_server, live_server.login(name, password)["access_token"])
        with live_server.client("admin") as admin:
            r = (admin.patch(f"/v1/admin/users/{uid}", json={"disabled": True}) if action == "disable"
                 else admin.delete(f"/v1/admin/users/{uid}"))
            assert r.status_code in (200, 204), r.text
        await _closed_with(c, "session_revoked")


def _passwd_cli(server: LiveServer, name: str) -> None:
    r = subprocess.run([sys.executable, "-m", "musicd", "user", "passwd", name, "--password-stdin"],
                       input="a-new-password-2\n", text=True, capture_output=True, env=server_env(server.data_dir),
                       timeout=60)
    assert r.returncode == 0, r.stderr


async def test_password_changed_by_another_process(live_server: LiveServer) -> None:
    """`musicd user passwd` runs in its own process: the periodic check closes the socket within 5 s."""
    name, password, _ = new_user(live_server)
    c = await Client.open(live_server, live_server.login(name, password)["access_token"])
    await asyncio.to_thread(_passwd_cli, live_server, name)
    await _closed_with(c, "session_revoked", within=5.5)


async def test_auth_again_with_a_fresh_token(live_server: LiveServer) -> None:
    name, password, _ = new_user(live_server)
    c = await Client.open(live_server, live_server.login(name, password)["access_token"])
    fresh = live_server.login(name, password)["access_token"]
    await c.send({"type": "auth", "token": fresh, "id": "re"})
    assert (await c.expect("ready"))["user_id"] == c.ready["user_id"]
    await c.send({"type": "auth", "token": live_server.token("bob"), "id": 9})
    err = await c.expect("error")
    assert (err["code"], err["ref"]) == ("wrong_user", 9)
    await c.send({"type": "ping"})
    await c.expect("pong")
    await c.close()
