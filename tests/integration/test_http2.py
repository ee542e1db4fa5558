"""HTTP/2 end to end with httpx's HTTP/2 client (h2): HTTPS picks h2 or HTTP/1.1 by ALPN, cleartext h2c
is opt-in; audio streams whole and by Range byte for byte, the same over HTTP/2 as over HTTP/1.1."""

from __future__ import annotations

import sqlite3
import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import trustme

from musicd.devtools.library_builder import BuiltLibrary
from tests.live import USERS, LiveServer, start_server


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def tls_server(built_library: BuiltLibrary, tmp_path_factory: pytest.TempPathFactory,
               ca: trustme.CA) -> Iterator[LiveServer]:
    work = tmp_path_factory.mktemp("http2-tls")
    cert = ca.issue_cert("127.0.0.1", "localhost")
    cert.private_key_pem.write_to_path(str(work / "key.pem"))
    cert.cert_chain_pems[0].write_to_path(str(work / "cert.pem"))
    with start_server(work, built_library.root, MUSICD_SERVER_TLS_CERT=str(work / "cert.pem"),
                      MUSICD_SERVER_TLS_KEY=str(work / "key.pem"), MUSICD_TRANSCODE_PRE_TRANSCODE="false") as srv:
        yield srv


@pytest.fixture(scope="module")
def h2c_server(built_library: BuiltLibrary, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with start_server(tmp_path_factory.mktemp("http2-h2c"), built_library.root, MUSICD_SERVER_H2C="true",
                      MUSICD_TRANSCODE_PRE_TRANSCODE="false") as srv:
        yield srv


def _client(srv: LiveServer, *, http1: bool = True, http2: bool = True, verify: ssl.SSLContext | bool = True,
            token: str | None = None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=srv.base, http1=http1, http2=http2, verify=verify, headers=headers, timeout=30)


def _login(c: httpx.Client) -> str:
    r = c.post("/v1/auth/login", json={"username": "alice", "password": USERS["alice"][0]})
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def _longest_track(srv: LiveServer) -> tuple[str, Path]:
    with sqlite3.connect(f"file:{srv.data_dir / 'musicd.db'}?mode=ro", uri=True) as db:
        tid, path = db.execute("SELECT id, path FROM tracks WHERE format = 'flac' ORDER BY duration DESC, id"
                               " LIMIT 1").fetchone()
    return str(tid), Path(path)


def _stream_and_ranges(c: httpx.Client, tid: str, source: bytes, version: str) -> None:
    """The whole file streamed in chunks, then a middle range, an open-ended one and a suffix."""
    url = f"/v1/tracks/{tid}/stream"
    with c.stream("GET", url, params={"quality": "original"}) as r:
        assert r.status_code == 200, r.read()
        assert r.http_version == version
        chunks = list(r.iter_bytes())
    assert b"".join(chunks) == source
    size = len(source)
    for spec, start, end in [(f"bytes=100-{size // 2}", 100, size // 2), (f"bytes={size - 300}-", size - 300,
                             size - 1), ("bytes=-200", size - 200, size - 1)]:
        r = c.get(url, params={"quality": "original"}, headers={"Range": spec})
        assert r.status_code == 206, (spec, r.text)
        assert r.http_version == version
        assert r.headers["content-range"] == f"bytes {start}-{end}/{size}"
        assert r.content == source[start : end + 1]
    r = c.get(url, params={"quality": "original"}, headers={"Range": f"bytes={size + 10}-"})
    assert r.status_code == 416 and r.http_version == version


def test_https_negotiates_h2_and_streams_with_range(tls_server: LiveServer, ca: trustme.CA) -> None:
    ctx = ssl.create_default_context()
    ca.configure_trust(ctx)
    tid, path = _longest_track(tls_server)
    source = path.read_bytes()
    with _client(tls_server, verify=ctx) as c:
        token = _login(c)
        assert c.get("/health").http_version == "HTTP/2"
    with _client(tls_server, verify=ctx, token=token) as h2:
        _stream_and_ranges(h2, tid, source, "HTTP/2")
    # A client that offers only HTTP/1.1 by ALPN is served HTTP/1.1 on the same listener, byte for byte alike.
    with _client(tls_server, http2=False, verify=ctx, token=token) as h1:
        _stream_and_ranges(h1, tid, source, "HTTP/1.1")


def test_https_needs_a_trusted_certificate(tls_server: LiveServer) -> None:
    with _client(tls_server) as c, pytest.raises(httpx.ConnectError):
        c.get("/health")  # the system trust store does not know the test CA


def test_h2c_prior_knowledge_streams_with_range(h2c_server: LiveServer) -> None:
    tid, path = _longest_track(h2c_server)
    with _client(h2c_server, http1=False) as c:
        token = _login(c)
    with _client(h2c_server, http1=False, token=token) as h2c:
        _stream_and_ranges(h2c, tid, path.read_bytes(), "HTTP/2")
    with _client(h2c_server, http2=False, token=token) as h1:
        _stream_and_ranges(h1, tid, path.read_bytes(), "HTTP/1.1")


def test_plain_listener_speaks_only_http1_by_default(live_server: LiveServer) -> None:
    # h2c is opt-in: a prior-knowledge HTTP/2 client gets no HTTP/2 answer from a default listener.
    with _client(live_server, http1=False) as c, pytest.raises(httpx.TransportError):
        c.get("/health")
