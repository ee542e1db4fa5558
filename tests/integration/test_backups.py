"""`musicd backup` while the server writes, `musicd restore`, the daily backup task, `musicd db recover`."""

from __future__ import annotations

import re
import shutil
import tarfile
import threading
import time
from pathlib import Path

import httpx
import pytest

from musicd.devtools.library_builder import BuiltLibrary
from tests.integration.playlist_helpers import upload_cover
from tests.integration.storage_helpers import QUIET, copy_data, count, damage, ids_of, musicd, prepare
from tests.live import USERS, serve


@pytest.fixture(scope="module")
def template(built_library: BuiltLibrary, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return prepare(tmp_path_factory.mktemp("backups") / "data", built_library.root)


class _Writer(threading.Thread):
    """Creates playlists as fast as the server takes them; remembers when each was acknowledged."""

    def __init__(self, base: str, token: str) -> None:
        super().__init__(daemon=True)
        self.http = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30)
        self.acked: list[tuple[float, str]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        i = 0
        while not self.stop.is_set():
            r = self.http.post("/v1/me/playlists", json={"name": f"written {i}"})
            assert r.status_code == 201, r.text
            self.acked.append((time.monotonic(), r.json()["id"]))
            i += 1


def _wait_for(cond, timeout: float = 60) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.slow
def test_backup_while_serving_then_restore(template: Path, built_library: BuiltLibrary, tmp_path: Path) -> None:
    data = copy_data(template, tmp_path / "data")
    archive = tmp_path / "backups" / "today.tar.gz"
    config = tmp_path / "musicd.toml"
    config.write_text('[log]\nlevel = "info"\n')
    env = {**QUIET, "MUSICD_CONFIG": str(config)}
    with serve(tmp_path, data, built_library.root, **env) as server:
        alice = server.client("alice")
        covered = alice.post("/v1/me/playlists", json={"name": "with a cover"}).json()["id"]
        jpeg = upload_cover(alice, covered)
        writer = _Writer(server.base, server.token("alice"))
        writer.start()
        _wait_for(lambda: len(writer.acked) >= 20)
        started = time.monotonic()
        run = musicd("backup", str(archive), data_dir=data, **env)
        ended = time.monotonic()
        _wait_for(lambda: writer.acked[-1][0] > ended + 0.2)
        writer.stop.set()
        writer.join()
        assert run.code == 0, run.err
        assert "backup written" in run.out and str(archive) in run.out
        before = [pid for t, pid in writer.acked if t < started]
        after = [pid for t, pid in writer.acked if t > ended]
        assert len(before) >= 20 and after, (len(before), len(after))
        # A restore under a running server is refused, and changes nothing.
        refused = musicd("restore", str(archive), "--yes", data_dir=data, **env)
        assert refused.code != 0 and len(refused.lines) == 1, refused.lines
        assert "in use by server (pid" in refused.lines[0]
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
    assert {"manifest.json", "musicd.db", "keys/server.key", "keys/token.key", "keys/federation.key",
            "config.toml"} <= names
    assert [n for n in names if n.startswith("covers/")] != []  # an uploaded cover: no scan makes it again
    shutil.rmtree(data / "covers")
    all_ids = set(ids_of(data / "musicd.db", "playlists"))
    assert set(before) | set(after) <= all_ids
    run = musicd("restore", str(archive), "--yes", data_dir=data, **env)
    assert run.code == 0, run.err
    assert "restored" in run.out and "the replaced files are in" in run.out
    aside = Path(re.search(r"the replaced files are in (\S+)", run.out).group(1))  # type: ignore[union-attr]
    assert set(ids_of(aside / "musicd.db", "playlists")) == all_ids  # the old files are kept, whole
    restored = set(ids_of(data / "musicd.db", "playlists"))
    assert set(before) <= restored  # everything acknowledged before the backup started is there
    assert not set(after) & restored  # and the restore really replaced the database
    assert (data / "restored-config.toml").read_text() == config.read_text()
    # The restored data dir serves: same keys (logins, passwords), same catalogue.
    with serve(tmp_path, data, built_library.root, **QUIET) as server:
        assert httpx.get(f"{server.base}/health").status_code == 200
        alice = server.client("alice")
        assert alice.get(f"/v1/playlists/{before[-1]}").status_code == 200
        image = alice.get(f"/v1/playlists/{covered}/images").json()[0]["url"]
        assert alice.get(image).content == jpeg
        assert count(data / "musicd.db", "tracks") == count(template / "musicd.db", "tracks")


def test_restore_refuses_a_damaged_archive(template: Path, tmp_path: Path) -> None:
    data = copy_data(template, tmp_path / "data")
    archive = tmp_path / "b.tar.gz"
    assert musicd("backup", str(archive), data_dir=data).code == 0
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    run = musicd("restore", str(bad), "--yes", data_dir=data)
    assert run.code != 0 and len(run.lines) == 1 and "Traceback" not in run.err, run.lines
    assert sorted(p.name for p in data.iterdir() if p.name.startswith("before-restore")) == []
    assert count(data / "musicd.db", "users") == len(USERS)


def _metric(text: str, name: str) -> float:
    m = re.search(rf"^{re.escape(name)} (\S+)$", text, re.M)
    assert m, name
    return float(m.group(1))


def test_the_daily_backup_runs_in_the_server_and_keeps_the_newest(
    template: Path, built_library: BuiltLibrary, tmp_path: Path
) -> None:
    data = copy_data(template, tmp_path / "data")
    folder = tmp_path / "auto"
    env = {**QUIET, "MUSICD_BACKUP_ENABLED": "true", "MUSICD_BACKUP_DIR": str(folder),
           "MUSICD_BACKUP_INTERVAL_HOURS": "0.0003", "MUSICD_BACKUP_KEEP": "2"}  # one backup a second or so
    with serve(tmp_path, data, built_library.root, **env) as server:
        deadline = time.monotonic() + 60
        while True:
            text = httpx.get(f"{server.base}/metrics").text
            if _metric(text, 'musicd_backups_total{outcome="ok"}') >= 4 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert _metric(text, 'musicd_backups_total{outcome="ok"}') >= 4
        assert _metric(text, 'musicd_background_tasks{name="backup"}') == 1
        assert _metric(text, "musicd_backup_last_success_timestamp_seconds") > time.time() - 60
        assert _metric(text, "musicd_backup_last_size_bytes") > 0
        assert _metric(text, "musicd_backups_kept") == 2
    kept = sorted(folder.glob("musicd-backup-*.tar.gz"))
    assert len(kept) == 2
    # The newest one is a whole backup: it restores into an empty data dir.
    fresh = tmp_path / "fresh"
    run = musicd("restore", str(kept[-1]), "--yes", data_dir=fresh)
    assert run.code == 0, run.err
    assert count(fresh / "musicd.db", "users") == len(USERS)


@pytest.mark.slow
@pytest.mark.parametrize("how", ["auto", "without-sqlite3"])
def test_db_recover_rebuilds_what_a_damaged_file_holds(
    template: Path, built_library: BuiltLibrary, tmp_path: Path, how: str
) -> None:
    data = copy_data(template, tmp_path / "data")
    db = data / "musicd.db"
    tracks = count(db, "tracks")
    damage(db, "pages")
    assert musicd("user", "list", data_dir=data).code != 0  # refused until recovered
    run = musicd("db", "recover", *(["--without-sqlite3"] if how != "auto" else []), data_dir=data)
    assert run.code == 0, run.err
    assert "Traceback" not in run.err
    # The output says what came back and what was lost.
    assert re.search(r"recovered \d+ rows with .+; \d+ rows lost", run.out), run.out
    got = int(re.search(r"tracks: (\d+) rows of (\d+) \((\d+) lost\)", run.out).group(1))  # type: ignore[union-attr]
    assert 0 < got < tracks
    assert count(db, "tracks") == got
    assert count(db, "users") == len(USERS)
    kept = [p for p in data.iterdir() if p.name.startswith("damaged-")]
    assert len(kept) == 1 and (kept[0] / "musicd.db").exists()
    listing = musicd("user", "list", data_dir=data)
    assert listing.code == 0 and all(name in listing.out for name in USERS), listing.err
    # A scan brings the lost tracks back; the server starts and answers.
    assert musicd("scan", data_dir=data, library=built_library.root).code == 0
    assert count(db, "tracks") == tracks
    with serve(tmp_path, data, built_library.root, **QUIET) as server:
        assert httpx.get(f"{server.base}/health").status_code == 200
        assert server.client("bob").get("/v1/me").status_code == 200


@pytest.mark.slow
def test_db_recover_refuses_under_a_server_and_for_a_sound_database(
    template: Path, built_library: BuiltLibrary, tmp_path: Path
) -> None:
    data = copy_data(template, tmp_path / "data")
    run = musicd("db", "recover", data_dir=data)
    assert run.code != 0 and "passes the integrity check" in run.lines[0]
    with serve(tmp_path, data, built_library.root, **QUIET):
        run = musicd("db", "recover", "--force", data_dir=data)
        assert run.code != 0 and "in use by server" in run.lines[0]
