"""A damaged database is refused at start with one line (and a way out), never served, never a hang."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from musicd.devtools.library_builder import BuiltLibrary
from tests.integration.storage_helpers import QUIET, copy_data, damage, ids_of, musicd, prepare
from tests.live import free_port, serve


@pytest.fixture(scope="module")
def template(built_library: BuiltLibrary, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return prepare(tmp_path_factory.mktemp("damage") / "data", built_library.root)


@pytest.mark.parametrize("kind", ["truncated", "zeroed", "pages"])
@pytest.mark.parametrize("command", ["serve", "scan", "user list"])
def test_a_damaged_database_is_refused_with_one_line(
    template: Path, built_library: BuiltLibrary, tmp_path: Path, kind: str, command: str
) -> None:
    data = copy_data(template, tmp_path / "data")
    db = data / "musicd.db"
    damage(db, kind)
    args = command.split() + (["--port", str(free_port())] if command == "serve" else [])
    # Before the fix every command printed a traceback and then never exited (the timeout fails the test).
    run = musicd(*args, data_dir=data, library=built_library.root, timeout=120)
    assert run.code != 0
    assert "Traceback" not in run.out + run.err
    assert len(run.lines) == 1, run.lines
    line = run.lines[0]
    assert str(db) in line and "damaged" in line
    assert "musicd db recover" in line and "musicd restore" in line


def test_a_database_damaged_while_serving_answers_503_not_500(
    template: Path, built_library: BuiltLibrary, tmp_path: Path
) -> None:
    data = copy_data(template, tmp_path / "data")
    ids = ids_of(data / "musicd.db", "tracks")
    with serve(tmp_path, data, built_library.root, **QUIET) as server:
        assert httpx.get(f"{server.base}/health").json()["database"] == "ok"
        alice = server.client("alice")
        # The disk corrupts pages under the running server (a failing disk, a bad copy over the file).
        damage(data / "musicd.db", "pages")
        statuses = {}
        for tid in ids:
            r = alice.get(f"/v1/tracks/{tid}")
            statuses[tid] = r.status_code
            assert r.status_code in (200, 503), r.text
            if r.status_code == 503:
                assert r.json()["error"]["code"] == "database_damaged"
        assert 503 in statuses.values(), statuses
        h = httpx.get(f"{server.base}/health")
        assert h.status_code == 503
        assert h.json()["database"] == "damaged"
        assert "Traceback" not in server.log()
