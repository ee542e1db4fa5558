"""Read your own writes under load (issue 13 item 5): while six clients read as hard as they can, a
client that creates a playlist, adds to it, or creates a Subsonic share must see what it wrote in the
answer to that write and in the read that follows it, every time.

Before the fix, a reader connection could keep an old WAL snapshot for as long as the reads kept
coming (one query's cursor still open while the next started on the same connection), so a playlist
just created answered 404, a playlist read right after an acknowledged add showed the old count, and
createShare failed on an assertion."""

from __future__ import annotations

import itertools
import secrets
import threading

import httpx
import pytest

from tests.integration.playlist_helpers import new_user, track_ids, uri
from tests.integration.subsonic_support import Sub
from tests.live import LiveServer

READERS = 6
ROUNDS = 60  # each round: create + read back, add + read back (v1 and Subsonic), createShare + read back


def _heavy_reads(server: LiveServer, stop: threading.Event, errors: list[str], counts: list[int], seed: int
                 ) -> None:
    """Browse, list, search and page playlists in a loop (each reader its own user, so no rate limit)."""
    try:
        _read_loop(server, stop, errors, counts, seed)
    except Exception as e:  # a reader that died would make the test pass without load
        errors.append(f"reader {seed} died: {e!r}")


def _read_loop(server: LiveServer, stop: threading.Event, errors: list[str], counts: list[int], seed: int) -> None:
    _, c = new_user(server)
    albums = [a["id"] for a in c.get("/v1/browse/new-releases?limit=50").json()["albums"]["items"]]
    mine = c.post("/v1/me/playlists", json={"name": f"reader {seed}"}).json()["id"]
    c.post(f"/v1/playlists/{mine}/items", json={"uris": [uri(t) for t in track_ids(server)[:20]]})
    paths = itertools.cycle([
        "/v1/browse/new-releases?limit=50", *(f"/v1/albums/{a}/tracks?limit=50" for a in albums[:4]),
        "/v1/search?q=a&type=track,album,artist,playlist&limit=50", f"/v1/playlists/{mine}",
        f"/v1/playlists/{mine}/tracks?limit=100", "/v1/me/playlists?limit=50",
    ])
    try:
        while not stop.is_set():
            path = next(paths)
            try:
                r = c.get(path)
            except httpx.HTTPError as e:
                errors.append(f"{path}: {e!r}")
                continue
            counts[seed] += 1
            if r.status_code != 200:
                errors.append(f"{path}: {r.status_code} {r.text[:200]}")
    finally:
        c.close()


@pytest.mark.slow
def test_writes_are_visible_to_the_next_read_under_heavy_reads(live_server: LiveServer) -> None:
    pool = track_ids(live_server)
    stop = threading.Event()
    read_errors: list[str] = []
    counts = [0] * READERS
    readers = [threading.Thread(target=_heavy_reads, args=(live_server, stop, read_errors, counts, i), daemon=True)
               for i in range(READERS)]
    for t in readers:
        t.start()
    name, password = f"ryw{secrets.token_hex(4)}", "pw-" + secrets.token_hex(8)
    with live_server.client("admin") as admin:
        assert admin.post("/v1/admin/users", json={"username": name, "password": password}).status_code == 201
    c = live_server.client(None)
    c.headers["Authorization"] = f"Bearer {live_server.login(name, password)['access_token']}"
    sub = Sub(live_server.base, name, password)
    failures: list[str] = []
    try:
        for n in range(ROUNDS):
            r = c.post("/v1/me/playlists", json={"name": f"ryw {n}", "public": False})
            if r.status_code != 201:
                failures.append(f"create {n}: {r.status_code} {r.text[:200]}")
                continue
            pid = r.json()["id"]
            r = c.get(f"/v1/playlists/{pid}")
            if r.status_code != 200:
                failures.append(f"read after create {n}: {r.status_code}")
            tracks = pool[n % len(pool):][:3] or pool[:3]
            r = c.post(f"/v1/playlists/{pid}/items", json={"uris": [uri(t) for t in tracks]})
            assert r.status_code == 201, r.text
            total = c.get(f"/v1/playlists/{pid}").json()["tracks"]["total"]
            if total != len(tracks):
                failures.append(f"read after add {n}: total {total}, want {len(tracks)}")
            body = sub.json("updatePlaylist", {"playlistId": pid, "songIdToAdd": pool[0]})
            assert body["status"] == "ok", body
            got = sub.json("getPlaylist", {"id": pid})
            if got.get("playlist", {}).get("songCount") != len(tracks) + 1:
                failures.append(f"getPlaylist after updatePlaylist {n}: {got}")
            body = sub.json("createShare", {"id": pool[n % len(pool)], "description": f"share {n}"})
            if body["status"] != "ok":
                failures.append(f"createShare {n}: {body}")
    finally:
        stop.set()
        for t in readers:
            t.join(timeout=30)
        c.close()
    assert not failures, f"{len(failures)} of {ROUNDS} rounds missed their own write: {failures[:5]}"
    assert not read_errors, read_errors[:5]
    assert min(counts) > 0, counts  # every reader really read while the writes went on
