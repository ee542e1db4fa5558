"""Helpers for the listen tests: fresh accounts with a ListenBrainz token, the library's tracks as a
scrobbler would name them, and ListenBrainz / Last.fm history files written the way those services do."""

from __future__ import annotations

import csv
import json
import secrets
import sqlite3
import time
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from tests.live import LiveServer

__all__ = ["Account", "LibTrack", "library_tracks", "listen_counts", "new_account", "wait_for",
           "write_lastfm_csv", "write_lb_export_zip"]


@dataclass
class Account:
    name: str
    password: str
    id: str
    headers: dict[str, str]
    lb_token: str = ""


@dataclass(frozen=True)
class LibTrack:
    id: str
    title: str
    artist: str
    album: str
    duration: float
    isrc: str | None
    mbid: str | None


def new_account(server: LiveServer, role: str = "user", token: bool = True) -> Account:
    """A new account (not one of the shared ones: these tests write history), logged in, with a token."""
    name, password = f"lb{secrets.token_hex(5)}", "pw-" + secrets.token_hex(8)
    r = httpx.post(f"{server.base}/v1/admin/users", headers=server.headers("admin"),
                   json={"username": name, "password": password, "role": role}, timeout=10)
    assert r.status_code == 201, r.text
    access = server.login(name, password)["access_token"]
    acc = Account(name, password, r.json()["id"], {"Authorization": f"Bearer {access}"})
    if token:
        r = httpx.post(f"{server.base}/v1/me/listenbrainz-token", headers=acc.headers, timeout=10)
        assert r.status_code == 201, r.text
        acc.lb_token = r.json()["token"]
    return acc


def library_tracks(server: LiveServer) -> list[LibTrack]:
    with sqlite3.connect(server.data_dir / "musicd.db", timeout=10) as db:
        rows = db.execute(
            "SELECT t.id, t.title, t.artist_display, a.name, t.duration, t.isrc, t.mbid_recording"
            " FROM tracks t JOIN albums a ON a.id = t.album_id ORDER BY t.path").fetchall()
    return [LibTrack(*r) for r in rows]


def listen_counts(server: LiveServer, acc: Account) -> dict[str, Any]:
    r = httpx.get(f"{server.base}/v1/me/listens", headers=acc.headers, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def history(server: LiveServer, user_id: str) -> list[tuple[str, str, str]]:
    """(track_id, played_at, device_id) of the user's listening history, oldest first."""
    with sqlite3.connect(server.data_dir / "musicd.db", timeout=10) as db:
        return db.execute("SELECT track_id, played_at, device_id FROM listening_history WHERE user_id = ?"
                          " ORDER BY played_at, id", (user_id,)).fetchall()


def wait_for(check: Any, timeout: float = 25.0) -> Any:
    """Poll `check()` until it returns something truthy (the play writer commits every 10 s)."""
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got or time.monotonic() > deadline:
            return got
        time.sleep(0.3)


def iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def lb_listen(ts: int, artist: str, title: str, release: str | None = None, **info: Any) -> dict[str, Any]:
    """A listen as a ListenBrainz export line has it (extra keys and the mbid_mapping included)."""
    meta: dict[str, Any] = {"artist_name": artist, "track_name": title, "additional_info": dict(info),
                            "mbid_mapping": None, "recording_msid": "00000000-0000-4000-8000-000000000000"}
    if release:
        meta["release_name"] = release
    return {"listened_at": ts, "inserted_at": ts + 5, "track_metadata": meta, "user_name": "someone"}


def write_lb_export_zip(path: Path, listens: list[dict[str, Any]]) -> Path:
    """A ListenBrainz export as it makes them now: a zip of listens/YYYY/M.jsonl (and other files)."""
    by_month: dict[str, list[dict[str, Any]]] = {}
    for li in listens:
        d = datetime.fromtimestamp(li["listened_at"], UTC)
        by_month.setdefault(f"listens/{d.year}/{d.month}.jsonl", []).append(li)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("user.json", json.dumps({"user_name": "someone"}))
        z.writestr("feedback.jsonl", "")
        for name, items in by_month.items():
            z.writestr(name, "".join(json.dumps(i) + "\n" for i in items))
    return path


def write_lastfm_csv(path: Path, rows: list[tuple[str, str, str, int]]) -> Path:
    """A Last.fm scrobble export as lastfm-to-csv writes it: no header; artist, album, track, date (UTC)."""
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        for artist, album, title, ts in rows:
            w.writerow([artist, album, title, datetime.fromtimestamp(ts, UTC).strftime("%d %b %Y %H:%M")])
    return path
