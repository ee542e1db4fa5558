"""A full disk (or a database at its size cap) is a clear 507 / Subsonic error, /health 503, one line in
the CLI; everything acknowledged stays, and writes work again once space returns."""

from __future__ import annotations

import contextlib
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import httpx
import pytest

from musicd.devtools.library_builder import BuiltLibrary
from tests.integration.storage_helpers import QUIET, copy_data, musicd, prepare
from tests.integration.subsonic_support import Sub
from tests.live import USERS, LiveServer, serve


@pytest.fixture(scope="module")
def template(built_library: BuiltLibrary, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return prepare(tmp_path_factory.mktemp("full") / "data", built_library.root)


def _fill(server: LiveServer, made: list[str], limit: int = 3000) -> httpx.Response:
    """Create playlists with long descriptions until one is refused, then small ones until even those
    are: the last refusal."""
    alice = server.client("alice")
    refused = None
    for description in ("x" * 2000, ""):
        for _ in range(limit):
            r = alice.post("/v1/me/playlists", json={"name": f"filler {len(made)}", "description": description})
            if r.status_code != 201:
                refused = r
                break
            made.append(r.json()["id"])
        else:
            raise AssertionError(f"{limit} playlists fit: the storage never filled")
    assert refused is not None
    return refused


def _health(server: LiveServer, want: int, within: float = 15) -> dict:
    deadline = time.monotonic() + within
    while True:
        r = httpx.get(f"{server.base}/health", timeout=10)
        if r.status_code == want or time.monotonic() > deadline:
            assert r.status_code == want, r.text
            return r.json()
        time.sleep(0.3)


def _check_full_answers(server: LiveServer, made: list[str], refused: httpx.Response) -> None:
    assert refused.status_code == 507, refused.text
    err = refused.json()["error"]
    assert err == {"status": 507, "code": "storage_full", "message": err["message"]}
    assert "full" in err["message"]
    # Subsonic apps get their error envelope with a message a person understands.
    # Background upkeep (pruned sessions, events) can free a page between the two refusals, so a
    # Subsonic write may still fit once or twice; it must be refused within a few tries.
    sub = Sub(server.base, "bob", USERS["bob"][0])
    for attempt in range(50):
        body = sub.json("createPlaylist", {"name": f"from a Subsonic app {attempt} " + "y" * 150})
        if body["status"] != "ok":
            break
    assert body["status"] == "failed", body
    assert "full" in body["error"]["message"]
    # Reads go on, and nothing acknowledged was lost.
    alice = server.client("alice")
    for pid in made[-5:]:
        assert alice.get(f"/v1/playlists/{pid}").status_code == 200
    assert "Traceback" not in server.log()


@pytest.mark.slow
def test_a_database_at_its_size_cap_answers_507_and_recovers(
    template: Path, built_library: BuiltLibrary, tmp_path: Path
) -> None:
    data = copy_data(template, tmp_path / "data")
    with closing(sqlite3.connect(data / "musicd.db")) as conn:
        size = conn.execute("PRAGMA page_count").fetchone()[0] * conn.execute("PRAGMA page_size").fetchone()[0]
    # SQLite's max_page_count gives a real SQLITE_FULL, exactly as a full disk does.
    cap = size + 200 * 4096
    with serve(tmp_path, data, built_library.root, MUSICD_DATA_MAX_DATABASE_BYTES=str(cap), **QUIET) as server:
        assert _health(server, 200)["database"] == "ok"
        made: list[str] = []
        refused = _fill(server, made)
        _check_full_answers(server, made, refused)
        body = _health(server, 503)
        assert body["database"] == "full" and body["status"] == "degraded"
        # Space returns: the user deletes playlists (a delete needs no new pages).
        alice = server.client("alice")
        for pid in made[: len(made) // 2]:
            assert alice.delete(f"/v1/playlists/{pid}").status_code == 204
        kept = made[len(made) // 2:]
        assert _health(server, 200)["database"] == "ok"
        r = alice.post("/v1/me/playlists", json={"name": "after the cleanup"})
        assert r.status_code == 201, r.text
        for pid in kept:
            assert alice.get(f"/v1/playlists/{pid}").status_code == 200


@contextlib.contextmanager
def _small_disk(path: Path, size_mb: int) -> Iterator[Path]:
    """A real small filesystem (tmpfs) at `path`; the test is skipped where it cannot be mounted."""
    path.mkdir(parents=True, exist_ok=True)
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", str(path)],
                       capture_output=True, text=True, check=False)
    if p.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {p.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def _fill_disk(where: Path) -> Path:
    filler = where / "filler"
    with filler.open("wb") as fh, contextlib.suppress(OSError):
        while True:
            fh.write(b"\0" * (1 << 16))
            fh.flush()
    return filler


@pytest.mark.slow
def test_a_real_full_disk(template: Path, built_library: BuiltLibrary, tmp_path: Path) -> None:
    with _small_disk(tmp_path / "disk", 48) as disk:
        data = copy_data(template, disk / "data")
        env = {**QUIET, "MUSICD_DATA_MIN_FREE_BYTES": str(1 << 20)}
        with serve(tmp_path, data, built_library.root, **env) as server:
            assert _health(server, 200)["disk"]["status"] == "ok"
            server.token("alice")  # a login writes (a refresh token): log in while there is room
            filler = _fill_disk(disk)
            body = _health(server, 503)
            assert body["disk"]["status"] == "full" and body["disk"]["free_bytes"] < (1 << 20)
            made: list[str] = []
            refused = _fill(server, made)
            _check_full_answers(server, made, refused)
            # The command line says it in one line, naming the data dir (no traceback, no hang).
            for args in (["scan"], ["user", "add", "carol", "--password-stdin"]):
                run = musicd(*args, data_dir=data, library=built_library.root, stdin="carol-password\n", **env)
                assert run.code != 0
                assert len(run.lines) == 1 and "Traceback" not in run.err, run.lines
                assert str(data) in run.lines[0] and "full" in run.lines[0] and "free at least" in run.lines[0]
            filler.unlink()
            assert _health(server, 200)["database"] == "ok"
            alice = server.client("alice")
            r = alice.post("/v1/me/playlists", json={"name": "space is back"})
            assert r.status_code == 201, r.text
            for pid in made:
                assert alice.get(f"/v1/playlists/{pid}").status_code == 200
        # A start on a full disk: one line, a non-zero exit, at once.
        filler = _fill_disk(disk)
        run = musicd("serve", data_dir=data, library=built_library.root, timeout=120, **env)
        assert run.code != 0 and len(run.lines) == 1, run.lines
        assert str(data) in run.lines[0] and "free at least" in run.lines[0]
        filler.unlink()
