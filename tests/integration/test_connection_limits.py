"""Connection limits (issue 13 item 9): 5,000 idle or slow connections must not stop a listener.

A real server started the way systemd or a login shell starts it (soft open-file limit 1024), then
thousands of sockets that never send a byte and a hundred slowloris sockets that send half a request
head: a listener still gets /health, logs in and streams a whole track, and the server closes the
slow ones after its header timeout. Before the fix, granian held one of 1,024 permits per connection
(idle ones included) and never timed out a silent one, so /health hung."""

from __future__ import annotations

import contextlib
import resource
import socket
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from musicd.devtools.library_builder import BuiltLibrary
from tests.live import USERS, LiveServer, start_server

IDLE = 4900
SLOW = 100
HEADER_TIMEOUT = 10  # seconds; the sockets must outlive the listener's requests, so not much shorter


def _low_open_files_limit() -> None:
    """In the server's child process: the soft open-file limit most services start with."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (1024, hard))


@pytest.fixture
def srv(built_library: BuiltLibrary, tmp_path: Path) -> Iterator[LiveServer]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < IDLE + SLOW + 1000:
        pytest.skip(f"the hard open-file limit ({hard}) is too low to open {IDLE + SLOW} sockets")
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # this test process holds the client ends
    try:
        with start_server(tmp_path, built_library.root, preexec_fn=_low_open_files_limit,
                          MUSICD_TRANSCODE_PRE_TRANSCODE="false",
                          MUSICD_SERVER_HEADER_TIMEOUT_SECONDS=str(HEADER_TIMEOUT)) as server:
            yield server
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def _open(base: str, n: int, first_bytes: bytes) -> list[socket.socket]:
    host, port = base.removeprefix("http://").split(":")
    out: list[socket.socket] = []
    for _ in range(n):
        s = socket.create_connection((host, int(port)), timeout=10)
        if first_bytes:
            s.sendall(first_bytes)
        out.append(s)
    return out


def _still_open(s: socket.socket) -> bool:
    """True when the server has neither closed nor answered this socket."""
    s.setblocking(False)
    try:
        s.recv(1, socket.MSG_PEEK)  # data (an answer) or b"" (closed)
        return False
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        s.setblocking(True)


def _closed_by_server(s: socket.socket, timeout: float) -> bool:
    """Wait for the server to end a slow request (EOF or a 408 answer)."""
    s.settimeout(timeout)
    try:
        data = s.recv(4096)
    except TimeoutError:
        return False
    except OSError:
        return True
    return data == b"" or data.startswith(b"HTTP/1.1 408")


@pytest.mark.slow
def test_thousands_of_idle_and_slow_connections_do_not_stop_a_listener(srv: LiveServer) -> None:
    with sqlite3.connect(f"file:{srv.data_dir / 'musicd.db'}?mode=ro", uri=True) as db:
        tid, path = db.execute("SELECT id, path FROM tracks WHERE format = 'flac' ORDER BY id LIMIT 1").fetchone()
    socks: list[socket.socket] = []
    try:
        opened = time.monotonic()
        socks += _open(srv.base, IDLE, b"")
        slow = _open(srv.base, SLOW, b"GET /health HTTP/1.1\r\nHost: musicd\r\n")
        socks += slow
        for s in slow:  # a slowloris client trickles one more header line now and then
            s.sendall(b"X-Trickle: 1\r\n")

        # A listener on fresh connections: health, login, a whole track.
        with httpx.Client(base_url=srv.base, timeout=10) as c:
            assert c.get("/health").status_code == 200
            r = c.post("/v1/auth/login", json={"username": "alice", "password": USERS["alice"][0]})
            assert r.status_code == 200, r.text
            c.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
            r = c.get(f"/v1/tracks/{tid}/stream", params={"quality": "original"})
            assert r.status_code == 200, r.text
            assert r.content == Path(path).read_bytes()
        listened = time.monotonic()

        # The listener was served while the crowd was still connected (not after the server dropped it).
        held = sum(_still_open(s) for s in socks[:: len(socks) // 100])
        assert held >= 90 or listened - opened > HEADER_TIMEOUT, f"only {held} of 100 sampled sockets held"

        # The slow ones are closed by the server after its header timeout, not held forever.
        deadline = opened + HEADER_TIMEOUT + 20
        closed = sum(_closed_by_server(s, max(0.1, deadline - time.monotonic())) for s in slow)
        assert closed == SLOW, f"{SLOW - closed} slow sockets still open {HEADER_TIMEOUT + 20} s later"
        assert srv.proc.poll() is None, srv.log()
        assert httpx.get(f"{srv.base}/health", timeout=10).status_code == 200
    finally:
        for s in socks:
            with contextlib.suppress(OSError):
                s.close()
