"""Helpers of the federation tests: small distinct real libraries, servers with a name, pairing, signed requests."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from musicd.devtools.library_builder import ExpectedTrack, encode_tone, write_tags
from musicd.net.federation import Identity
from tests.live import LiveServer, start_server

# Quick failure detection on loopback: a dead peer is noticed in about a second.
FED_ENV = {
    "MUSICD_FEDERATION_CONNECT_TIMEOUT_SECONDS": "1",
    "MUSICD_FEDERATION_READ_TIMEOUT_SECONDS": "5",
    "MUSICD_FEDERATION_BREAKER_SECONDS": "1",
    "MUSICD_FEDERATION_BREAKER_FAILURES": "2",
    "MUSICD_TRANSCODE_PRE_TRANSCODE": "false",
}


@dataclass(frozen=True)
class Song:
    artist: str
    album: str
    title: str
    fmt: str = "mp3"
    seconds: float = 1.0
    isrc: str | None = None
    mbid: str | None = None


def build_library(root: Path, songs: list[Song], templates: Path) -> Path:
    """Real audio files (ffmpeg tones, mutagen tags) for `songs`, one folder per album."""
    templates.mkdir(parents=True, exist_ok=True)
    by_album: dict[tuple[str, str], list[Song]] = {}
    for s in songs:
        by_album.setdefault((s.artist, s.album), []).append(s)
    for (artist, album), tracks in by_album.items():
        for n, s in enumerate(tracks, 1):
            template = templates / f"tone-{s.seconds:.2f}.{s.fmt}"
            if not template.exists():
                encode_tone(template, s.fmt, s.seconds)
            dest = root / artist / album / f"{n:02d} {s.title}.{s.fmt}"
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(template, dest)
            write_tags(dest, ExpectedTrack(
                path="", title=s.title, artist=artist, artists=(artist,), album=album, album_artist=artist,
                compilation=False, track=n, track_total=len(tracks), disc=None, disc_total=None, year=2020,
                genres=("Rock",), format=s.fmt, duration=s.seconds, isrc=s.isrc, mbid_recording=s.mbid))
    return root


@contextmanager
def fed_server(workdir: Path, library: Path, name: str, ready_s: float = 60.0, **env: str) -> Iterator[LiveServer]:
    """A live server on `library`, named `name` to its peers, advertising its own loopback address."""
    workdir.mkdir(parents=True, exist_ok=True)
    with start_server(workdir, library, ready_s=ready_s, MUSICD_FEDERATION_NAME=name, **{**FED_ENV, **env}) as server:
        yield server


def admin(server: LiveServer) -> httpx.Client:
    return server.client("admin")


def pair(inviter: LiveServer, joiner: LiveServer, scopes: tuple[str, ...] = ("library", "stream", "activity"),
         approve: bool = True) -> tuple[dict[str, Any], dict[str, Any]]:
    """Pair two servers through their admin API: (the inviter as the joiner sees it, the reply to the invite)."""
    with admin(inviter) as a:
        r = a.post("/v1/admin/federation/invites", json={"scopes": list(scopes), "approve": approve})
        assert r.status_code == 201, r.text
        invite = r.json()
    with admin(joiner) as b:
        r = b.post("/v1/admin/federation/join", json={"invite": invite["invite"], "scopes": list(scopes)})
        assert r.status_code == 201, r.text
        return r.json(), invite


def instance(server: LiveServer) -> dict[str, Any]:
    r = httpx.get(f"{server.base}/.well-known/musicd", timeout=10)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def sync(server: LiveServer, peer_id: str) -> dict[str, Any]:
    with admin(server) as a:
        r = a.post(f"/v1/admin/federation/peers/{peer_id}/sync")
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]


def peers(server: LiveServer) -> dict[str, dict[str, Any]]:
    with admin(server) as a:
        r = a.get("/v1/admin/federation")
        assert r.status_code == 200, r.text
        return {p["id"]: p for p in r.json()["peers"]}


def wait_for(check: Any, timeout: float = 20.0, step: float = 0.2) -> Any:
    """Poll `check()` until it returns something truthy (then return it), or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        assert time.monotonic() < deadline, f"gave up waiting after {timeout} s"
        time.sleep(step)


def signed(identity: Identity, to: str, method: str, url: str, *, body: bytes = b"",
           params: Mapping[str, Any] | None = None, now: float | None = None,
           nonce: str | None = None) -> httpx.Request:
    """A request signed as `identity` would sign it, for a test to send (or tamper with first)."""
    client = httpx.Client()
    req = client.build_request(method, url, params=params, content=body or None)
    identity.sign(method, str(req.url), req.headers, body, to, now=now, nonce=nonce)
    return req
