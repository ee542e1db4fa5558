"""The realtime channel's bounds, on a private server with small limits and its own copy of the library:
a client too far behind gets resync_required, a client that never reads keeps the server's queues within
their bounds (read from /metrics) and is resynced then closed, and scans reach `library` and `album:<id>`
subscribers live."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import urllib.parse
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from musicd.devtools.library_builder import BuiltLibrary, write_tags
from tests.integration.realtime_support import CLOSE, Client, api, close_name, metric, new_user
from tests.live import LiveServer, start_server

pytestmark = pytest.mark.slow

QUEUE_MESSAGES = 32
QUEUE_BYTES = 64 * 1024


@pytest.fixture(scope="module")
def small(built_library: BuiltLibrary, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer,
                                                                                                     BuiltLibrary]]:
    work = tmp_path_factory.mktemp("rt-small")
    lib = replace(built_library, root=work / "Music")
    shutil.copytree(built_library.root, lib.root, symlinks=True)
    with start_server(work, lib.root, MUSICD_REALTIME_HISTORY_EVENTS="5", MUSICD_REALTIME_HISTORY_MAX_EVENTS="5",
                      MUSICD_REALTIME_HISTORY_SECONDS="0.01", MUSICD_REALTIME_SEND_QUEUE_MESSAGES=str(QUEUE_MESSAGES),
                      MUSICD_REALTIME_SEND_QUEUE_BYTES=str(QUEUE_BYTES), MUSICD_AUTH_WRITES_PER_SECOND="10000",
                      MUSICD_TRANSCODE_PRE_TRANSCODE="false") as server:
        yield server, lib


def _send_buffer_max() -> int:
    """The most a TCP socket's send buffer may grow to here (tcp_wmem's maximum)."""
    return int(Path("/proc/sys/net/ipv4/tcp_wmem").read_text().split()[2])


def _track_ids(server: LiveServer, token: str, n: int) -> list[str]:
    with api(server, token) as http:
        albums = http.get("/v1/browse/new-releases", params={"limit": 20}).json()["albums"]["items"]
        ids = [t["id"] for a in albums for t in http.get(f"/v1/albums/{a['id']}/tracks").json()["items"]]
    return ids[:n]


async def test_too_far_behind_answers_resync_required(small: tuple[LiveServer, BuiltLibrary]) -> None:
    server, _ = small
    name, password, _ = new_user(server)
    token = server.login(name, password)["access_token"]
    c = await Client.open(server, token)
    seen = c.ready["seq"]
    await c.close()
    with api(server, token) as http:
        pid = http.post("/v1/me/playlists", json={"name": "Busy"}).json()["id"]
        for tid in _track_ids(server, token, 8):
            http.post(f"/v1/playlists/{pid}/tracks", json={"uris": [f"musicd:track:{tid}"]})
    await asyncio.sleep(0.1)
    c = await Client.open(server, token)
    await c.send({"type": "resume", "since": seen})
    data = await c.expect("resync_required")
    assert data["reason"] == "too_far_behind" and data["seq"] == c.ready["seq"] == seen + 9
    # Nothing was replayed: the client fetches its state over HTTP and goes on from data["seq"].
    assert [m["type"] for m in c.received] == ["ready", "resync_required"]
    await c.close()


async def test_a_client_that_never_reads_stays_within_its_bounds(small: tuple[LiveServer, BuiltLibrary]) -> None:
    server, _ = small
    name, password, _ = new_user(server)
    token = server.login(name, password)["access_token"]
    track = _track_ids(server, token, 1)[0]
    resyncs0 = metric(server, "musicd_realtime_resyncs_total", 'reason="slow_consumer"')
    closes0 = metric(server, "musicd_realtime_closes_total", 'reason="too_slow"')
    rss0 = metric(server, "process_resident_memory_bytes")
    # A small receive buffer, so the kernel holds little of what the server sends.
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    where = urllib.parse.urlsplit(server.base)
    sock.connect((where.hostname, where.port))
    c = await Client.open(server, token, sock=sock)
    c.ws.transport.pause_reading()  # this client never reads again
    # Batches smaller than the send queue (a client that reads keeps up with each), of messages of 1 kB
    # (a context URI of 1,000 characters: the longest a play event may carry is 1,024).
    batch = {"events": [{"track_id": track, "event": "progress", "position_ms": i, "context_uri": "x" * 1000}
                        for i in range(QUEUE_MESSAGES // 2)]}
    depths, queued = [], []
    with api(server, token) as http:
        for i in range(1000):  # up to 16,000 messages, 16 MB that the client never reads
            assert http.post("/v1/me/player/events", json=batch).status_code == 202
            if i % 4 == 0:
                depths.append(metric(server, "musicd_realtime_queue_depth"))
                queued.append(metric(server, "musicd_realtime_queued_bytes"))
                if metric(server, "musicd_realtime_closes_total", 'reason="too_slow"') > closes0:
                    break
    assert max(depths) <= QUEUE_MESSAGES, depths
    assert max(queued) <= QUEUE_BYTES, queued
    assert metric(server, "musicd_realtime_resyncs_total", 'reason="slow_consumer"') > resyncs0
    assert metric(server, "musicd_realtime_closes_total", 'reason="too_slow"') > closes0
    await asyncio.sleep(1.5)
    assert metric(server, "musicd_realtime_queued_bytes") == 0, "the closed connection's queue is gone"
    grown = metric(server, "process_resident_memory_bytes") - rss0
    assert grown < 64 * 1024 * 1024, f"the server grew by {grown / 1e6:.0f} MB"
    c.ws.transport.resume_reading()
    got, got_bytes = [], 0
    try:
        while True:
            m = await c.next(10)
            got.append(m["type"])
            got_bytes += len(json.dumps(m))
    except Exception as e:
        rcvd = getattr(e, "rcvd", None)
        if rcvd is not None:  # the close frame, when it made it out before the socket was dropped
            assert (rcvd.code, close_name(rcvd.reason)) == (CLOSE["too_slow"], "too_slow")
    produced = (i + 1) * len(batch["events"])
    # What was already in the socket buffers arrives (up to the resync_required, when it made it out before
    # the connection was dropped); everything else was thrown away, not buffered. Loopback lets the kernel
    # grow the server's send buffer up to tcp_wmem's maximum (4 MB by default), so that is the bound, not a
    # share of what was produced.
    kernel_max = _send_buffer_max()
    assert got_bytes <= kernel_max + 2 * QUEUE_BYTES, (got_bytes, kernel_max)
    assert len(got) < produced, "messages were dropped, not buffered"
    # The server is fine: a new connection of the same user works.
    c2 = await Client.open(server, token)
    await c2.send({"type": "ping"})
    await c2.expect("pong")
    await c2.close()


async def test_scans_reach_library_and_album_subscribers(small: tuple[LiveServer, BuiltLibrary]) -> None:
    server, lib = small
    admin = server.token("admin")
    plain = [t for t in lib.tracks if t.format == "flac" and t.lyrics != "lrc" and "/Disc " not in t.path]
    edited, gone = plain[0], next(t for t in plain[1:] if t.album_key != plain[0].album_key)
    with api(server, admin) as http:
        found = http.get("/v1/search", params={"q": edited.title, "type": "track", "limit": 5}).json()
    album_id = next(t["album"]["id"] for t in found["tracks"]["items"] if t["name"] == edited.title)
    name, password, _ = new_user(server)
    watcher = await Client.open(server, server.login(name, password)["access_token"])
    for topic in ("library", f"album:{album_id}"):
        await watcher.send({"type": "subscribe", "topic": topic})
        await watcher.expect("subscribed")
    # Retag one track, add a new album (a copy retagged), remove a track of another album.
    path = lib.root / edited.path
    write_tags(path, replace(edited, title="Quokka Live"))
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    new_dir = lib.root / "Realtime Band" / "Fresh Release"
    new_dir.mkdir(parents=True)
    shutil.copy(path, new_dir / "01 Fresh.flac")
    write_tags(new_dir / "01 Fresh.flac", replace(edited, title="Fresh", album="Fresh Release",
                                                  album_artist="Realtime Band", artist="Realtime Band",
                                                  artists=("Realtime Band",), mbid_album=None, mbid_recording=None))
    os.unlink(lib.root / gone.path)
    with api(server, admin) as http:
        assert http.post("/v1/admin/scan", json={}).status_code == 202
    started = await watcher.expect("scan_started", within=30)
    assert started["started_at"]
    progress = await watcher.expect("scan_progress", within=30)
    assert progress["phase"] in ("walk", "read", "finalize")
    done = await watcher.expect("scan_done", within=60)
    assert (done["added"], done["updated"], done["removed"], done["error"]) == (1, 1, 1, None)
    changed = await watcher.expect("library_changed", within=30)
    assert len(changed["new_album_ids"]) == 1 and album_id in changed["album_ids"]
    assert len(changed["removed_track_ids"]) == 1 and changed["truncated"] is False
    album = await watcher.expect("album_changed", within=10, where=lambda d: d["album_id"] == album_id)
    assert album["removed"] is False
    # The new album is there for whoever refreshes.
    with api(server, admin) as http:
        assert http.get(f"/v1/albums/{changed['new_album_ids'][0]}").json()["name"] == "Fresh Release"
    await watcher.close()
