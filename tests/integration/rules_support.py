"""Helpers for the write-rules matrix: accounts of every role, calls through /v1 and /rest, outcomes.

An outcome is "ok", "forbidden" (403 / Subsonic 50), "not_found" (404 / 70), "conflict" (409), or a
description of anything else (which matches no expectation, so the matrix shows it).
"""

from __future__ import annotations

import base64
import io
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from PIL import Image

from tests.integration.playlist_helpers import track_ids
from tests.integration.subsonic_support import Sub
from tests.live import LiveServer

__all__ = ["CONFLICT", "FORBIDDEN", "NOT_FOUND", "OK", "ROLES", "Account", "World", "jpeg_base64"]

ROLES = ("admin", "owner", "other", "guest")
OK, FORBIDDEN, NOT_FOUND, CONFLICT = "ok", "forbidden", "not_found", "conflict"
_ROLE_OF = {"admin": "admin", "owner": "user", "other": "user", "guest": "guest"}


def _outcome(r: httpx.Response) -> str:
    if r.is_success:
        return OK
    known = {403: FORBIDDEN, 404: NOT_FOUND, 409: CONFLICT}
    return known.get(r.status_code, f"{r.status_code} {r.text[:200]}")


@dataclass
class Account:
    name: str
    password: str
    id: str
    role: str
    token: str = ""

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def jpeg_base64() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (16, 16), (20, 120, 200)).save(buf, "JPEG")
    return base64.b64encode(buf.getvalue())


@dataclass
class World:
    """One server, its tracks, an account per role (not the shared ones: a broken rule must not break other
    tests), and what to clean up afterwards (public playlists would show in other tests' lists)."""

    server: LiveServer
    http: httpx.Client
    tracks: list[str]
    album_id: str
    artist_id: str
    accounts: dict[str, Account] = field(default_factory=dict)
    cleanup: list[tuple[Account, str]] = field(default_factory=list)

    @classmethod
    def make(cls, server: LiveServer) -> World:
        http = httpx.Client(base_url=server.base, timeout=30)
        tracks = track_ids(server)
        t = http.get(f"/v1/tracks/{tracks[0]}", headers=server.headers("admin")).json()
        w = cls(server, http, tracks, t["album"]["id"], t["artists"][0]["id"])
        for role in ROLES:
            w.accounts[role] = w.fresh(role)
        return w

    def fresh(self, role: str) -> Account:
        """A new account with the role's musicd role, logged in."""
        acc = self.target(role)
        acc.token = str(self.server.login(acc.name, acc.password)["access_token"])
        return acc

    def target(self, role: str = "owner") -> Account:
        """A new account to act on (not logged in)."""
        name, password = f"r{secrets.token_hex(5)}", "pw-" + secrets.token_hex(8)
        r = self.http.post("/v1/admin/users", headers=self.server.headers("admin"),
                           json={"username": name, "password": password, "role": _ROLE_OF[role]})
        assert r.status_code == 201, r.text
        return Account(name, password, r.json()["id"], _ROLE_OF[role])

    # ---- calls ----

    def v1(self, who: Account, method: str, path: str, **kw: Any) -> httpx.Response:
        """A /v1 call as `who`; a 429 is waited out (the matrix writes faster than the per-user limit)."""
        for _ in range(20):
            r = self.http.request(method, path, headers={**who.headers, **kw.pop("headers", {})}, **kw)
            if r.status_code != 429:
                return r
            time.sleep(float(r.headers.get("retry-after", "1")))
        return r

    def ok(self, who: Account, method: str, path: str, **kw: Any) -> Any:
        """A call that must succeed (a case's setup); its JSON, if any."""
        r = self.v1(who, method, path, **kw)
        assert r.is_success, f"{method} {path}: {r.status_code} {r.text}"
        return r.json() if r.content and r.headers.get("content-type", "").startswith("application/json") else None

    def sub(self, who: Account) -> Sub:
        return Sub(self.server.base, who.name, who.password, self.http)

    def outcome(self, who: Account, method: str, path: str, **kw: Any) -> str:
        return _outcome(self.v1(who, method, path, **kw))

    @staticmethod
    def outcome_of(r: httpx.Response) -> str:
        return _outcome(r)

    def created(self, who: Account, method: str, path: str, **kw: Any) -> str:
        """The outcome of a call that makes a playlist, which is deleted at the end."""
        r = self.v1(who, method, path, **kw)
        if r.status_code == 201:
            body = r.json()
            self.cleanup.append((who, body.get("playlist", body)["id"]))
        return _outcome(r)

    def rest(self, who: Account, method: str, params: dict[str, Any] | list[tuple[str, Any]] | None = None) -> str:
        body = self.sub(who).json(method, params)
        if body["status"] == "ok":
            return OK
        code = int(body["error"]["code"])
        return {50: FORBIDDEN, 70: NOT_FOUND}.get(code, f"error {code}: {body['error']['message']}")

    # ---- things to act on, made by their owner ----

    def playlist(self, owner: Account, public: bool = True, tracks: int = 3) -> str:
        pid = str(self.ok(owner, "POST", "/v1/me/playlists", json={"name": "rules", "public": public})["id"])
        self.cleanup.append((owner, pid))
        if tracks:
            self.ok(owner, "POST", f"/v1/playlists/{pid}/tracks",
                    json={"uris": [f"musicd:track:{t}" for t in self.tracks[:tracks]]})
        return pid

    def share_token(self, owner: Account) -> str:
        """A Subsonic share of the owner (its id is its link token)."""
        made = self.sub(owner).call("createShare", {"id": self.tracks[0]})
        return str(made["shares"]["share"][0]["id"])

    def close(self) -> None:
        for owner, pid in self.cleanup:
            self.v1(owner, "DELETE", f"/v1/playlists/{pid}")
        self.http.close()
