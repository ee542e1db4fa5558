"""A device that speaks the offline protocol of docs/offline.md from the text: registers, heartbeats (checking
every licence's signature), downloads containers (resuming with Range) and decrypts them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from musicd.services.offline_container import decrypt
from musicd.services.offline_keys import LicencePayload, SignedLicence, b64d, verify_licence

__all__ = ["Device", "register"]


@dataclass
class Device:
    http: httpx.Client
    user_headers: dict[str, str]
    info: dict[str, Any]
    key: bytes
    token: str
    public_key: bytes
    seq: int = 0
    held: dict[str, bytes] = field(default_factory=dict)  # track id -> container bytes

    @property
    def id(self) -> str:
        return str(self.info["id"])

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Device {self.id}.{self.token}"}

    def heartbeat_raw(self, held: list[str] | None = None) -> httpx.Response:
        body = {"held": sorted(self.held) if held is None else held}
        return self.http.post("/v1/offline/heartbeat", headers=self.auth, json=body)

    def heartbeat(self) -> tuple[LicencePayload, list[str]]:
        """Renew the licence (verified, newer than the last) and delete what it no longer lists."""
        r = self.heartbeat_raw()
        assert r.status_code == 200, r.text
        body = r.json()
        lic = SignedLicence(**body["licence"])
        payload = verify_licence(self.public_key, lic, self.id, min_seq=self.seq + 1)
        self.seq = payload.seq
        listed = {i.track_id for i in payload.items}
        assert set(body["delete"]) == {t for t in self.held if t not in listed}
        for t in list(self.held):
            if t not in listed:
                del self.held[t]
        self.last_licence = lic
        return payload, body["delete"]

    def get(self, track_id: str, **headers: str) -> httpx.Response:
        return self.http.get(f"/v1/offline/tracks/{track_id}", headers={**self.auth, **headers})

    def download(self, track_id: str, cut_at: int | None = None) -> bytes:
        """The container, fetched whole or (cut_at) in two parts like a resumed download; kept as held."""
        if cut_at is None:
            r = self.get(track_id)
            assert r.status_code == 200, r.text
            data = r.content
        else:
            first = self.get(track_id, Range=f"bytes=0-{cut_at - 1}")
            assert first.status_code == 206, first.text
            rest = self.get(track_id, Range=f"bytes={cut_at}-", **{"If-Range": first.headers["etag"]})
            assert rest.status_code == 206, rest.text
            assert rest.headers["content-range"].endswith(f"/{cut_at + len(rest.content)}")
            data = first.content + rest.content
        self.held[track_id] = data
        return data

    def plain(self, track_id: str) -> bytes:
        return decrypt(self.key, self.held[track_id])


def register(http: httpx.Client, user_headers: dict[str, str], name: str = "phone", kind: str = "phone") -> Device:
    r = http.post("/v1/me/devices", headers=user_headers, json={"name": name, "kind": kind})
    assert r.status_code == 201, r.text
    info = r.json()
    return Device(http, user_headers, info, b64d(info["key"]), info["token"], b64d(info["licence_public_key"]))
