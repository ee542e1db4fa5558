"""/v1 accounts over real HTTP: login, tokens (expired, forged, revoked), refresh rotation, roles, limits."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import jwt
import pytest

from tests.live import LiveServer, start_server


def _err(r: httpx.Response) -> str:
    return str(r.json()["error"]["code"])


def test_login_by_username_and_email(live_server: LiveServer) -> None:
    for login in ({"username": "alice"}, {"email": "alice@example.test"}, {"username": "ALICE"}):
        r = httpx.post(f"{live_server.base}/v1/auth/login", json={**login, "password": "alice-password"})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["token_type"] == "Bearer" and body["expires_in"] > 0
        me = httpx.get(f"{live_server.base}/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
        assert me.status_code == 200
        assert me.json()["display_name"] == "alice"
        assert me.json()["type"] == "user" and me.json()["uri"].startswith("spotify:user:")


@pytest.mark.parametrize("body, status, code", [
    ({"username": "alice", "password": "wrong-password"}, 401, "invalid_credentials"),
    ({"username": "nobody", "password": "alice-password"}, 401, "invalid_credentials"),
    ({"password": "alice-password"}, 400, "missing_login"),
    ({"username": "alice"}, 400, "bad_request"),
    ({"username": "alice", "password": "x", "extra": 1}, 400, "bad_request"),
])
def test_login_refused(live_server: LiveServer, body: dict[str, object], status: int, code: str) -> None:
    r = httpx.post(f"{live_server.base}/v1/auth/login", json=body)
    assert r.status_code == status, r.text
    assert _err(r) == code


def test_malformed_and_huge_bodies(live_server: LiveServer) -> None:
    r = httpx.post(f"{live_server.base}/v1/auth/login", content=b"{not json",
                   headers={"content-type": "application/json"})
    assert r.status_code == 400 and _err(r) == "bad_request"
    r = httpx.post(f"{live_server.base}/v1/auth/login", content=b"x" * (11 * 1024 * 1024),
                   headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert httpx.get(f"{live_server.base}/health").status_code == 200


def test_tokens_missing_forged_expired(live_server: LiveServer) -> None:
    url = f"{live_server.base}/v1/me"
    r = httpx.get(url)
    assert r.status_code == 401 and _err(r) == "no_token"
    assert r.headers["www-authenticate"].startswith("Bearer")
    r = httpx.get(url, headers={"Authorization": "Bearer not-a-jwt"})
    assert r.status_code == 401 and _err(r) == "invalid_token"

    uid = live_server.user_id("alice")
    now = int(time.time())
    claims = {"sub": uid, "gen": 0, "role": "admin", "iat": now, "exp": now + 600, "iss": "musicd", "typ": "access"}
    forged = jwt.encode(claims, b"0" * 32, algorithm="HS256")
    r = httpx.get(url, headers={"Authorization": f"Bearer {forged}"})
    assert r.status_code == 401 and _err(r) == "invalid_token"
    unsigned = jwt.encode(claims, None, algorithm="none")
    r = httpx.get(url, headers={"Authorization": f"Bearer {unsigned}"})
    assert r.status_code == 401 and _err(r) == "invalid_token"

    key = (live_server.data_dir / "keys" / "token.key").read_bytes()
    expired = jwt.encode({**claims, "iat": now - 1000, "exp": now - 10}, key, algorithm="HS256")
    r = httpx.get(url, headers={"Authorization": f"Bearer {expired}"})
    assert r.status_code == 401 and _err(r) == "token_expired"
    valid = jwt.encode(claims, key, algorithm="HS256")
    assert httpx.get(url, headers={"Authorization": f"Bearer {valid}"}).status_code == 200


def test_refresh_rotates_and_detects_reuse(live_server: LiveServer) -> None:
    first = live_server.login("bob")
    r = httpx.post(f"{live_server.base}/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert r.status_code == 200, r.text
    second = r.json()
    assert second["refresh_token"] != first["refresh_token"]
    me = httpx.get(f"{live_server.base}/v1/me", headers={"Authorization": f"Bearer {second['access_token']}"})
    assert me.status_code == 200
    # The old refresh token again: refused, and the whole login (including the new token) ends.
    r = httpx.post(f"{live_server.base}/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert r.status_code == 401 and _err(r) == "invalid_refresh_token"
    r = httpx.post(f"{live_server.base}/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert r.status_code == 401
    r = httpx.post(f"{live_server.base}/v1/auth/refresh", json={"refresh_token": "made-up"})
    assert r.status_code == 401 and _err(r) == "invalid_refresh_token"


def test_logout_ends_the_login(live_server: LiveServer) -> None:
    pair = live_server.login("bob")
    h = {"Authorization": f"Bearer {pair['access_token']}"}
    r = httpx.post(f"{live_server.base}/v1/auth/logout", json={"refresh_token": pair["refresh_token"]}, headers=h)
    assert r.status_code == 204
    r = httpx.post(f"{live_server.base}/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert r.status_code == 401


def test_roles_and_admin_user_management(live_server: LiveServer) -> None:
    for who in ("alice", "guest"):
        r = httpx.get(f"{live_server.base}/v1/admin/users", headers=live_server.headers(who))
        assert r.status_code == 403 and _err(r) == "admin_only"
    admin = live_server.client("admin")
    r = admin.post("/v1/admin/users", json={"username": "carol", "password": "carol-password", "role": "user"})
    assert r.status_code == 201, r.text
    carol_id = r.json()["id"]
    assert admin.post("/v1/admin/users", json={"username": "carol", "password": "carol-password"}).status_code == 409
    r = admin.post("/v1/admin/users", json={"username": "dave", "password": "short"})
    assert r.status_code == 400 and _err(r) == "weak_password"
    names = [u["username"] for u in admin.get("/v1/admin/users").json()["items"]]
    assert "carol" in names and "alice" in names

    carol = live_server.login("carol", "carol-password")
    ch = {"Authorization": f"Bearer {carol['access_token']}"}
    assert httpx.get(f"{live_server.base}/v1/me", headers=ch).status_code == 200
    r = admin.patch(f"/v1/admin/users/{carol_id}", json={"disabled": True})
    assert r.status_code == 200 and r.json()["disabled"] is True
    r = httpx.get(f"{live_server.base}/v1/me", headers=ch)
    assert r.status_code == 401 and _err(r) in {"token_revoked", "account_disabled"}
    r = httpx.post(f"{live_server.base}/v1/auth/login", json={"username": "carol", "password": "carol-password"})
    assert r.status_code == 401 and _err(r) == "account_disabled"
    assert httpx.post(f"{live_server.base}/v1/auth/refresh",
                      json={"refresh_token": carol["refresh_token"]}).status_code == 401

    r = admin.patch(f"/v1/admin/users/{carol_id}", json={"disabled": False, "role": "guest",
                                                         "settings": {"default_quality": "high"}})
    assert r.status_code == 200 and r.json()["role"] == "guest"
    assert r.json()["settings"]["default_quality"] == "high"
    assert admin.patch(f"/v1/admin/users/{carol_id}", json={"role": "root"}).status_code == 400
    assert admin.delete(f"/v1/admin/users/{carol_id}").status_code == 204
    assert admin.delete(f"/v1/admin/users/{carol_id}").status_code == 404
    r = admin.delete(f"/v1/admin/users/{live_server.user_id('admin')}")
    assert r.status_code == 403 and _err(r) == "cannot_change_self"


def test_settings_profile_and_password(live_server: LiveServer) -> None:
    admin = live_server.client("admin")
    r = admin.post("/v1/admin/users", json={"username": "erin", "password": "erin-password"})
    assert r.status_code == 201
    pair = live_server.login("erin", "erin-password")
    c = httpx.Client(base_url=live_server.base, headers={"Authorization": f"Bearer {pair['access_token']}"})
    # download_allowed is an admin's to set: sent back unchanged it is no error, changed it is refused.
    r = c.put("/v1/me/settings", json={"default_quality": "low", "download_allowed": True})
    assert r.status_code == 200 and r.json() == {"default_quality": "low", "download_allowed": True,
                                                 "share_activity": False, "private_session_until": None,
                                                 "podcasts_allowed": False}
    r = c.put("/v1/me/settings", json={"download_allowed": False})
    assert r.status_code == 403 and _err(r) == "admin_setting"
    r = c.put("/v1/me/settings", json={"podcasts_allowed": True})  # so is the podcast right
    assert r.status_code == 403 and _err(r) == "admin_setting"
    assert c.put("/v1/me/settings", json={"default_quality": "ultra"}).status_code == 400
    assert c.get("/v1/me").json()["settings"]["default_quality"] == "low"
    r = c.put("/v1/me", json={"display_name": "Erin E."})
    assert r.status_code == 200 and r.json()["display_name"] == "Erin E."

    r = c.put("/v1/me/password", json={"current_password": "wrong-one!", "new_password": "erin-new-password"})
    assert r.status_code == 401
    r = c.put("/v1/me/password", json={"current_password": "erin-password", "new_password": "erin-new-password"})
    assert r.status_code == 200, r.text
    fresh = r.json()
    assert c.get("/v1/me").status_code == 401  # the old session ended
    assert httpx.post(f"{live_server.base}/v1/auth/refresh",
                      json={"refresh_token": pair["refresh_token"]}).status_code == 401
    r = httpx.get(f"{live_server.base}/v1/me", headers={"Authorization": f"Bearer {fresh['access_token']}"})
    assert r.status_code == 200
    live_server.login("erin", "erin-new-password")


def test_public_profile(live_server: LiveServer) -> None:
    bob_id = live_server.user_id("bob")
    r = httpx.get(f"{live_server.base}/v1/users/{bob_id}", headers=live_server.headers("alice"))
    assert r.status_code == 200
    assert r.json()["id"] == bob_id and "email" not in r.json()
    r = httpx.get(f"{live_server.base}/v1/users/nope", headers=live_server.headers("alice"))
    assert r.status_code == 404


def test_openapi_is_public(live_server: LiveServer) -> None:
    r = httpx.get(f"{live_server.base}/v1/openapi.json")
    assert r.status_code == 200
    spec = r.json()
    assert spec["openapi"].startswith("3.1")
    assert "/v1/auth/login" in spec["paths"]
    assert not any(p.startswith("/rest") for p in spec["paths"])


def test_login_rate_limit_and_first_run_setup(tmp_path: Path) -> None:
    with start_server(tmp_path, users={}, MUSICD_AUTH_LOGIN_PER_MINUTE="3") as server:
        base = server.base
        assert httpx.get(f"{base}/v1/auth/setup").json() == {"needed": True}
        r = httpx.post(f"{base}/v1/auth/setup", json={"username": "root", "password": "root-password"})
        assert r.status_code == 201, r.text
        assert httpx.get(f"{base}/v1/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"}
                         ).json()["role"] == "admin"
        assert httpx.get(f"{base}/v1/auth/setup").json() == {"needed": False}
        r = httpx.post(f"{base}/v1/auth/setup", json={"username": "evil", "password": "evil-password"})
        assert r.status_code == 409 and _err(r) == "already_set_up"

        codes = [httpx.post(f"{base}/v1/auth/login", json={"username": "root", "password": "bad-password"}
                            ).status_code for _ in range(4)]
        assert codes[:3] == [401, 401, 401]
        assert codes[3] == 429
        r = httpx.post(f"{base}/v1/auth/login", json={"username": "root", "password": "root-password"})
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
        # Another login name from the same address is not locked out by root's failures.
        r = httpx.post(f"{base}/v1/auth/login", json={"username": "other", "password": "whatever-pw"})
        assert r.status_code == 401
