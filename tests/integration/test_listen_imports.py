"""History imports on a running server: a ListenBrainz export (zip of JSON lines, or an old JSON array) and a
Last.fm CSV uploaded through /v1 or given to `musicd listens import`; idempotent across files and formats;
bad rows rejected and counted; uploads bounded; unmatched listens matched after a rescan."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from musicd.devtools.library_builder import BuiltLibrary
from tests.integration.listens_support import (
    LibTrack,
    history,
    iso,
    lb_listen,
    library_tracks,
    listen_counts,
    new_account,
    wait_for,
    write_lastfm_csv,
    write_lb_export_zip,
)
from tests.live import REPO_ROOT, LiveServer, server_env, start_server

DAY = 86400
# Whole minutes: a Last.fm CSV gives times to the minute, so the same listens agree across both files.
T0 = (int(time.time()) - 2 * 365 * DAY) // 60 * 60


def _upload(server: LiveServer, headers: dict[str, str], body: bytes, fmt: str | None = None) -> dict[str, Any]:
    params = {"format": fmt} if fmt else {}
    r = httpx.post(f"{server.base}/v1/me/listens/imports", headers=headers, content=body, params=params, timeout=60)
    assert r.status_code == 202, r.text
    job = r.json()

    def finished() -> dict[str, Any] | None:
        got = httpx.get(f"{server.base}/v1/me/listens/imports/{job['id']}", headers=headers, timeout=10).json()
        return got if got["status"] != "running" else None

    done = wait_for(finished, timeout=60)
    assert done and done["status"] == "done", done
    return done  # type: ignore[no-any-return]


def _summary(job: dict[str, Any]) -> tuple[int, int, int, int, int]:
    s = job["summary"]
    return s["read"], s["matched"], s["unmatched"], s["duplicates"], s["rejected"]


def _picks(server: LiveServer) -> list[LibTrack]:
    tracks = [t for t in library_tracks(server) if t.title.isascii() and t.artist.isascii()]
    return tracks[:5]


def test_listenbrainz_export_and_lastfm_csv_imported_once(live_server: LiveServer, tmp_path: Path) -> None:
    acc = new_account(live_server)
    picks = _picks(live_server)
    listens = [lb_listen(T0 + i * 600, t.artist, t.title, t.album, duration_ms=int(t.duration * 1000))
               for i, t in enumerate(picks)]
    listens.append(lb_listen(T0 + 9000, "Nobody Here", "Not In This Library"))
    export = write_lb_export_zip(tmp_path / "listenbrainz_someone.zip", listens).read_bytes()

    job = _upload(live_server, acc.headers, export)
    assert job["format"] == "listenbrainz" and job["progress"] == 1.0
    assert _summary(job) == (6, 5, 1, 0, 0)
    assert [h[:2] for h in history(live_server, acc.id)] == [(t.id, iso(T0 + i * 600)) for i, t in enumerate(picks)]

    # The same export again, and an older export's JSON array of the same listens: nothing new.
    assert _summary(_upload(live_server, acc.headers, export)) == (6, 0, 0, 6, 0)
    assert _summary(_upload(live_server, acc.headers, json.dumps(listens).encode())) == (6, 0, 0, 6, 0)

    # A Last.fm CSV with the same scrobbles (artist spelt in other case) plus new ones and broken rows.
    rows = [(t.artist.upper(), t.album, t.title, T0 + i * 600) for i, t in enumerate(picks)]
    rows.append((picks[0].artist, picks[0].album, picks[0].title, T0 + 50 * DAY))
    csv_path = write_lastfm_csv(tmp_path / "scrobbles.csv", rows)
    with csv_path.open("a", encoding="utf-8") as f:
        f.write('Artist,Album,Title,not a date\n,,No Artist,01 Jan 2020 10:00\nA,B,C,01 Jan 2999 10:00\n')
    job = _upload(live_server, acc.headers, csv_path.read_bytes(), fmt="lastfm")
    assert job["format"] == "lastfm"
    assert _summary(job) == (9, 1, 0, 5, 3)
    assert any("time cannot be read" in e for e in job["summary"]["errors"])
    counts = listen_counts(live_server, acc)
    assert (counts["total"], counts["matched"], counts["unmatched"]) == (7, 6, 1)
    assert len(history(live_server, acc.id)) == 6
    assert [j["id"] for j in counts["imports"]][:1] == [job["id"]]

    # A file that is neither, and a format that does not fit the content: clear errors, nothing running.
    r = httpx.post(f"{live_server.base}/v1/me/listens/imports", headers=acc.headers, content=export,
                   params={"format": "lastfm"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_import_file"
    r = httpx.post(f"{live_server.base}/v1/me/listens/imports", headers=acc.headers, content=b"")
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_import_file"
    r = httpx.post(f"{live_server.base}/v1/me/listens/imports", headers=acc.headers, content=b"PK\x03\x04garbage")
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_import_file"
    other = new_account(live_server, token=False)
    r = httpx.get(f"{live_server.base}/v1/me/listens/imports/{job['id']}", headers=other.headers)
    assert r.status_code == 404  # one's own imports only


def test_cli_import_with_summary(live_server: LiveServer, tmp_path: Path) -> None:
    acc = new_account(live_server, token=False)
    picks = _picks(live_server)
    listens = [lb_listen(T0 + DAY + i * 600, t.artist, t.title) for i, t in enumerate(picks)]
    lines = tmp_path / "2023-1.jsonl"
    lines.write_text("".join(json.dumps(li) + "\n" for li in listens) + "{not json\n", encoding="utf-8")
    env = server_env(live_server.data_dir)

    def run() -> dict[str, Any]:
        p = subprocess.run([sys.executable, "-m", "musicd", "listens", "import", str(lines), "--user", acc.name,
                            "--json"], env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, p.stderr
        return json.loads(p.stdout)  # type: ignore[no-any-return]

    first = run()
    assert (first["read"], first["matched"], first["unmatched"], first["duplicates"], first["rejected"]) == \
        (6, 5, 0, 0, 1)
    again = run()
    assert (again["matched"], again["duplicates"], again["rejected"]) == (0, 5, 1)
    assert len(history(live_server, acc.id)) == 5
    p = subprocess.run([sys.executable, "-m", "musicd", "listens", "import", str(lines), "--user", "nobody-at-all"],
                       env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert p.returncode != 0 and "no such user" in p.stderr


@pytest.mark.slow
def test_unmatched_listens_matched_after_rescan_and_uploads_bounded(
        library_copy: BuiltLibrary, tmp_path: Path) -> None:
    # Two tracks are not in the library when their listens arrive; they come back before a rescan.
    away = [t for t in library_copy.tracks if t.title.isascii() and t.artist.isascii() and not t.mbid_recording][:2]
    parked = tmp_path / "parked"
    for t in away:
        (parked / t.path).parent.mkdir(parents=True, exist_ok=True)
        shutil.move(library_copy.root / t.path, parked / t.path)
    with start_server(tmp_path / "srv", library_copy.root, MUSICD_LISTENS_IMPORT_MAX_BYTES="4096") as server:
        acc = new_account(server)
        body = {"listen_type": "import", "payload": [
            {"listened_at": T0 + i * 600, "track_metadata": {"artist_name": t.artist, "track_name": t.title}}
            for i, t in enumerate(away)]}
        r = httpx.post(f"{server.base}/listenbrainz/1/submit-listens", json=body,
                       headers={"Authorization": f"Token {acc.lb_token}"})
        assert r.json() == {"status": "ok"}
        assert listen_counts(server, acc)["unmatched"] == 2 and history(server, acc.id) == []

        # An upload past listens.import_max_bytes is refused, and nothing is left in the spool.
        r = httpx.post(f"{server.base}/v1/me/listens/imports", headers=acc.headers, content=b"x" * 5000)
        assert r.status_code == 413 and r.json()["error"]["code"] == "import_too_large"

        def chunks() -> Any:
            for _ in range(10):
                yield b"y" * 1000  # no Content-Length: the bound holds while the body streams

        r = httpx.post(f"{server.base}/v1/me/listens/imports", headers=acc.headers, content=chunks())
        assert r.status_code == 413
        assert list((server.data_dir / "imports").glob("*")) == []

        for t in away:
            shutil.move(parked / t.path, library_copy.root / t.path)
        r = httpx.post(f"{server.base}/v1/admin/scan", headers=server.headers("admin"))
        assert r.status_code in (200, 202), r.text
        assert wait_for(lambda: listen_counts(server, acc)["matched"] == 2, timeout=60)
        ids = {lt.id for lt in library_tracks(server) for t in away if (lt.title, lt.artist) == (t.title, t.artist)}
        got = history(server, acc.id)
        assert {h[0] for h in got} == ids and [h[1] for h in got] == [iso(T0), iso(T0 + 600)]
