"""Household accounts in the browser's API: invite links (one role, expiring, one use, signed up without an
admin choosing the password), an admin's password reset for a member who forgot theirs, and the list of
the files the scan skipped with their reasons."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import httpx
import pytest

from musicd.devtools.library_builder import BuiltLibrary
from tests.live import LiveServer


@pytest.fixture(scope="module")
def http(live_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server.base, timeout=30) as c:
        yield c


def _name() -> str:
    return f"inv{secrets.token_hex(4)}"


def _invite(http: httpx.Client, server: LiveServer, **body: object) -> dict[str, object]:
    r = http.post("/v1/admin/invites", json=body, headers=server.headers("admin"))
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_an_invited_member_signs_up_once_with_the_invites_role(http: httpx.Client, live_server: LiveServer) -> None:
    inv = _invite(http, live_server, role="guest", note="for the babysitter")
    token = str(inv["token"])
    assert inv["url"] == f"{live_server.base}/join/{token}" and inv["state"] == "open" and inv["role"] == "guest"
    assert http.get(f"/v1/invites/{token}").json()["role"] == "guest"
    page = http.get(f"/join/{token}")
    assert page.status_code == 200 and "join.js" in page.text and page.headers["referrer-policy"] == "no-referrer"

    # A short password or a taken name is refused and the link still works; then the account is made.
    taken = http.post(f"/v1/invites/{token}/accept", json={"username": "alice", "password": "long-enough-1"})
    assert taken.status_code == 409 and taken.json()["error"]["code"] == "user_exists"
    short = http.post(f"/v1/invites/{token}/accept", json={"username": _name(), "password": "short"})
    assert short.status_code == 400 and short.json()["error"]["code"] == "weak_password"
    name = _name()
    made = http.post(f"/v1/invites/{token}/accept", json={"username": name, "password": "sitter-password"})
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["user"]["role"] == "guest" and body["user"]["username"] == name
    me = http.get("/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200 and me.json()["id"] == body["user"]["id"]

    # Used: the link is gone for everyone after; the admin's list says who used it.
    again = http.post(f"/v1/invites/{token}/accept", json={"username": _name(), "password": "another-password"})
    assert again.status_code == 410 and again.json()["error"]["code"] == "invite_used"
    assert http.get(f"/v1/invites/{token}").status_code == 410
    listed = {i["id"]: i for i in http.get("/v1/admin/invites", headers=live_server.headers("admin")).json()["items"]}
    assert listed[inv["id"]]["state"] == "used" and listed[inv["id"]]["used_by"] == name
    assert "token" not in listed[inv["id"]]


def test_invites_are_for_admins_and_end_when_revoked(http: httpx.Client, live_server: LiveServer) -> None:
    for who in ("alice", "guest"):
        r = http.post("/v1/admin/invites", json={"role": "user"}, headers=live_server.headers(who))
        assert r.status_code == 403 and r.json()["error"]["code"] == "admin_only"
    assert http.post("/v1/admin/invites", json={"role": "user"}).status_code == 401
    bad = http.post("/v1/admin/invites", json={"role": "user", "expires_in": 5}, headers=live_server.headers("admin"))
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_expiry"
    admin = live_server.headers("admin")
    assert http.post("/v1/admin/invites", json={"role": "owner"}, headers=admin).status_code == 400

    inv = _invite(http, live_server, role="user", expires_in=3600)
    assert http.delete(f"/v1/admin/invites/{inv['id']}", headers=live_server.headers("admin")).status_code == 204
    r = http.post(f"/v1/invites/{inv['token']}/accept", json={"username": _name(), "password": "long-enough-1"})
    assert r.status_code == 410 and r.json()["error"]["code"] == "invite_revoked"
    assert http.delete(f"/v1/admin/invites/{inv['id']}", headers=live_server.headers("admin")).status_code == 404
    assert http.get("/v1/invites/not-a-real-invite-token-at-all").status_code == 404


def test_an_admin_resets_a_members_password(http: httpx.Client, live_server: LiveServer) -> None:
    name, admin = _name(), live_server.headers("admin")
    uid = http.post("/v1/admin/users", json={"username": name, "password": "forgotten-1"}, headers=admin).json()["id"]
    old = live_server.login(name, "forgotten-1")
    r = http.put(f"/v1/admin/users/{uid}/password", json={"password": "brand-new-password"},
                 headers=live_server.headers("alice"))
    assert r.status_code == 403
    assert http.put(f"/v1/admin/users/{uid}/password", json={"password": "short"}, headers=admin).status_code == 400
    assert http.put(f"/v1/admin/users/{uid}/password", json={"password": "brand-new-password"},
                    headers=admin).status_code == 204
    # The old sessions end; the new password logs in, the old one does not.
    assert http.get("/v1/me", headers={"Authorization": f"Bearer {old['access_token']}"}).status_code == 401
    assert http.post("/v1/auth/login", json={"username": name, "password": "forgotten-1"}).status_code == 401
    assert http.post("/v1/auth/login", json={"username": name, "password": "brand-new-password"}).status_code == 200


def test_admins_see_the_files_the_scan_skipped_and_why(http: httpx.Client, live_server: LiveServer,
                                                       built_library: BuiltLibrary) -> None:
    r = http.get("/v1/admin/scan/skipped", headers=live_server.headers("admin"))
    assert r.status_code == 200, r.text
    body = r.json()
    files = [i for i in body["items"] if i["kind"] == "file"]
    assert sorted(i["rel_path"] for i in files) == sorted(built_library.broken) and body["total"] == len(files)
    assert all(i["reason"] and i["folder"] == str(built_library.root) and i["seen_at"] for i in files)
    page = http.get("/v1/admin/scan/skipped", params={"limit": 1, "offset": 1}, headers=live_server.headers("admin"))
    assert [i["rel_path"] for i in page.json()["items"]] == [sorted(i["rel_path"] for i in files)[1]]
    assert http.get("/v1/admin/scan/skipped", headers=live_server.headers("alice")).status_code == 403
    bad = http.get("/v1/admin/scan/skipped", params={"limit": 0}, headers=live_server.headers("admin"))
    assert bad.status_code == 400
