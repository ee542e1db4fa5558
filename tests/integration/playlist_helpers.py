"""Helpers for the /v1 playlist tests: the library's track ids, fresh users, a reference model of edits."""

from __future__ import annotations

import base64
import io
import random
import secrets
from typing import Any

import httpx
from PIL import Image

from tests.live import LiveServer

_track_ids: dict[str, list[str]] = {}


def track_ids(server: LiveServer) -> list[str]:
    """Every track id of the served library (album by album), read over /v1 once per server."""
    if server.base not in _track_ids:
        with server.client("admin") as c:
            ids: list[str] = []
            url: str | None = "/v1/browse/new-releases?limit=50"
            while url:
                page = c.get(url).json()["albums"]
                for album in page["items"]:
                    r = c.get(f"/v1/albums/{album['id']}/tracks", params={"limit": 50})
                    ids += [t["id"] for t in r.json()["items"]]
                url = page["next"]
        assert len(ids) >= 10, "the test library should have at least 10 tracks"
        _track_ids[server.base] = ids
    return _track_ids[server.base]


def new_user(server: LiveServer, role: str = "user") -> tuple[str, httpx.Client]:
    """A fresh account (its own rate-limit budget and library): (user id, logged-in client)."""
    name = f"u{secrets.token_hex(5)}"
    password = "pw-" + secrets.token_hex(8)
    with server.client("admin") as admin:
        r = admin.post("/v1/admin/users", json={"username": name, "password": password, "role": role})
        assert r.status_code == 201, r.text
        uid = r.json()["id"]
    token = server.login(name, password)["access_token"]
    return uid, httpx.Client(base_url=server.base, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def upload_cover(client: httpx.Client, pid: str, size: tuple[int, int] = (32, 32),
                 colour: tuple[int, int, int] = (10, 200, 30)) -> bytes:
    """Upload a small JPEG as the playlist's cover (the server takes it: 202); the JPEG's bytes."""
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "JPEG")
    jpeg = buf.getvalue()
    r = client.put(f"/v1/playlists/{pid}/images", content=base64.b64encode(jpeg),
                   headers={"Content-Type": "image/jpeg"})
    assert r.status_code == 202, r.text
    return jpeg


def uri(track_id: str) -> str:
    return f"musicd:track:{track_id}"


def version(snapshot: str) -> int:
    """The version inside a snapshot id (an implementation detail the tests use to order changes)."""
    raw = base64.urlsafe_b64decode(snapshot + "=" * (-len(snapshot) % 4)).decode()
    return int(raw.split(":", 1)[0])


def all_items(client: httpx.Client, playlist_id: str) -> list[str]:
    """Every track id of a playlist in order, following `next`."""
    out: list[str] = []
    url: str | None = f"/v1/playlists/{playlist_id}/tracks?limit=100"
    while url:
        r = client.get(url)
        assert r.status_code == 200, r.text
        page = r.json()
        out += [i["track"]["id"] for i in page["items"]]
        url = page["next"]
    return out


def model_apply(items: list[str], change: dict[str, Any]) -> list[str]:
    """What one accepted change does to a list, per the Spotify API's meaning (independent of musicd's code)."""
    items = list(items)
    kind = change["kind"]
    if kind == "append":
        return items + change["ids"]
    if kind == "insert":
        p = change["position"]
        return items[:p] + change["ids"] + items[p:]
    if kind == "remove":
        return [t for t in items if t not in set(change["ids"])]
    if kind == "remove_at":
        drop = set(change["positions"])
        return [t for i, t in enumerate(items) if i not in drop]
    if kind == "reorder":
        s, n, b = change["range_start"], change["range_length"], change["insert_before"]
        block = items[s:s + n]
        rest = items[:s] + items[s + n:]
        at = b if b <= s else b - n if b >= s + n else s
        return rest[:at] + block + rest[at:]
    raise AssertionError(kind)


def random_change(rng: random.Random, items: list[str], pool: list[str]) -> dict[str, Any]:
    """A random change a client would make looking at `items` (its possibly stale view), for model_apply."""
    kinds = ["append", "remove"] + (["insert", "remove_at", "reorder", "reorder"] if items else [])
    kind = rng.choice(kinds)
    if kind == "append":
        return {"kind": kind, "ids": rng.sample(pool, rng.randint(1, 2))}
    if kind == "insert":
        return {"kind": kind, "ids": [rng.choice(pool)], "position": rng.randint(0, len(items))}
    if kind == "remove":
        return {"kind": kind, "ids": [rng.choice(items or pool)]}
    if kind == "remove_at":
        p = rng.randrange(len(items))
        return {"kind": kind, "positions": [p], "ids": [items[p]]}
    start = rng.randrange(len(items))
    return {"kind": kind, "range_start": start, "range_length": rng.randint(1, min(3, len(items) - start)),
            "insert_before": rng.randint(0, len(items))}


def send_change(c: httpx.Client, pid: str, ch: dict[str, Any], snapshot: str) -> httpx.Response:
    """Send a change made by random_change as /v1 would get it from a client."""
    path = f"/v1/playlists/{pid}/items"
    kind = ch["kind"]
    if kind in ("append", "insert"):
        return c.post(path, json={"uris": [uri(t) for t in ch["ids"]], "position": ch.get("position"),
                                  "snapshot_id": snapshot})
    if kind == "remove":
        return c.request("DELETE", path, json={"items": [{"uri": uri(ch["ids"][0])}], "snapshot_id": snapshot})
    if kind == "remove_at":
        return c.request("DELETE", path, json={"items": [{"uri": uri(ch["ids"][0]), "positions": ch["positions"]}],
                                               "snapshot_id": snapshot})
    return c.put(path, json={"range_start": ch["range_start"], "range_length": ch["range_length"],
                             "insert_before": ch["insert_before"], "snapshot_id": snapshot})
