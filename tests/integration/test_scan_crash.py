"""A scan stopped part-way (kill -9, a full disk) heals: the next scan gives the catalogue one clean scan
gives, field by field; and two clean scans of one library give the same catalogue (album genre order
included)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from musicd.devtools.library_builder import BuiltLibrary, build_bulk_library
from musicd.services.registry import Services, open_services
from musicd.store.db import Database
from musicd.store.migrations import available_migrations, migrate
from tests.integration.catalogue_dump import catalogue, catalogue_diff, read_only
from tests.live import REPO_ROOT, make_config, server_env

# Enough files for two write batches of the scanner (1,000 tracks each), so a scan can be stopped
# with some batches committed and more to come; small enough to build and scan in a few seconds.
_ALBUMS, _TRACKS_PER_ALBUM = 100, 15


@dataclass(frozen=True)
class Reference:
    library: BuiltLibrary
    tables: dict[str, list[tuple[Any, ...]]]


async def _clean_scan(data_dir: Path, library: Path) -> None:
    services = await open_services(make_config(data_dir, library))
    try:
        await services.library.scan()
    finally:
        await services.close()


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory, template_cache: Path) -> Reference:
    """A generated library of a few thousand small files and the catalogue of one clean scan of it."""
    lib = build_bulk_library(tmp_path_factory.mktemp("bulk") / "Music", albums=_ALBUMS,
                             tracks_per_album=_TRACKS_PER_ALBUM, cache_dir=template_cache)
    data = tmp_path_factory.mktemp("clean") / "data"
    asyncio.run(_clean_scan(data, lib.root))
    return Reference(lib, catalogue(data / "musicd.db"))


def _assert_same_catalogue(reference: Reference, db: Path) -> None:
    diff = catalogue_diff(reference.tables, catalogue(db))
    assert not diff, "the catalogue differs from a clean scan's:\n" + diff


def _unfinished(db: Path) -> tuple[int, int]:
    """(tracks stored, albums whose track count disagrees with their tracks)."""
    with read_only(db) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM tracks), (SELECT count(*) FROM albums al"
            " WHERE al.track_count <> (SELECT count(*) FROM tracks t WHERE t.album_id = al.id))"
        ).fetchone()
    return int(row[0]), int(row[1])


@pytest.mark.slow
def test_two_clean_scans_give_one_catalogue_and_album_genres_follow_the_tags(
    reference: Reference, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    asyncio.run(_clean_scan(data, reference.library.root))
    _assert_same_catalogue(reference, data / "musicd.db")

    # An album's genres: most tracks first, then the genre tagged first on any track, then by name.
    root = str(reference.library.root.resolve())
    expected: dict[str, dict[str, list[int]]] = defaultdict(dict)
    with read_only(data / "musicd.db") as conn:
        album_of = dict(conn.execute("SELECT path, album_id FROM tracks"))
        stored: dict[str, list[str]] = defaultdict(list)
        for album_id, name in conn.execute(
            "SELECT ag.album_id, g.name FROM album_genres ag JOIN genres g ON g.id = ag.genre_id"
            " ORDER BY ag.album_id, ag.position"
        ):
            stored[album_id].append(name.lower())
    for t in reference.library.tracks:
        genres = expected[album_of[f"{root}/{t.path}"]]
        for pos, g in enumerate(t.genres):
            genres.setdefault(g.lower(), []).append(pos)
    want = {
        album: sorted(genres, key=lambda g: (-len(genres[g]), min(genres[g]), g))
        for album, genres in expected.items() if genres
    }
    wrong = {a: (stored[a], w) for a, w in want.items() if stored[a] != w}
    assert not wrong, f"{len(wrong)} albums list their genres out of order, e.g. {next(iter(wrong.items()))}"


async def test_scan_stopped_by_a_full_disk_heals_on_the_next_scan(reference: Reference, tmp_path: Path) -> None:
    services = await open_services(make_config(tmp_path / "data", reference.library.root))
    try:
        await _fill_the_disk_after_the_first_batch(services)
        with pytest.raises(sqlite3.OperationalError, match="full"):
            await services.library.scan()
        db = services.config.data_dir / "musicd.db"
        stored, _ = _unfinished(db)
        assert 0 < stored < len(reference.library.tracks), "the failure did not stop the scan part-way"
        assert await services.library.interrupted()
        left = await services.library.catalog.unfinished_albums()

        await services.db.writer.execute("PRAGMA max_page_count = 1073741823")  # space is back
        # A server starting now scans at once: the last scan did not finish.
        await services.scan_on_start()
        summary = services.library.state.last
        assert summary is not None and services.library.state.last_error is None
        assert summary.healed_albums == len(left)
        assert not await services.library.interrupted()
        # The search index saw the tracks the failed scan had stored, though this scan found them unchanged.
        hits = await services.search.search("song", {"track"}, 1)
        assert hits["track"].total == len(reference.library.tracks)
    finally:
        await services.close()
    _assert_same_catalogue(reference, db)


async def _fill_the_disk_after_the_first_batch(services: Services) -> None:
    """From the second write batch of the scan on, the database cannot grow: SQLite raises SQLITE_FULL."""
    repo = services.library.catalog
    apply = repo.apply
    batches = 0

    async def apply_then_fill(*args: Any, **kwargs: Any) -> Any:
        nonlocal batches
        batches += 1
        if batches == 2:
            async with services.db.writer.execute("PRAGMA page_count") as cur:
                row = await cur.fetchone()
            assert row is not None
            await services.db.writer.execute(f"PRAGMA max_page_count = {int(row[0])}")
        return await apply(*args, **kwargs)

    repo.apply = apply_then_fill  # type: ignore[method-assign]


def _musicd(*args: str) -> list[str]:
    return [sys.executable, "-m", "musicd", *args]


def _kill_scan_part_way(data: Path, library: Path) -> bool:
    """Start `musicd scan`, SIGKILL it (and its reader processes) once some tracks are committed;
    True if the kill landed before the scan finished."""
    env = server_env(data, library, MUSICD_LOG_LEVEL="error")
    proc = subprocess.Popen(_musicd("scan", "--json"), env=env, cwd=REPO_ROOT, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    db = data / "musicd.db"
    try:
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                if _unfinished(db)[0] > 0:
                    break
            except sqlite3.Error:  # not created or not migrated yet
                pass
            time.sleep(0.005)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)  # the process group this test started: musicd and its readers
        proc.wait()
    with read_only(db) as conn:
        scanned = conn.execute("SELECT count(*) FROM library_folders WHERE last_scan_at IS NOT NULL").fetchone()[0]
    return proc.returncode == -signal.SIGKILL and scanned == 0


def test_scan_killed_part_way_heals_on_the_next_scan(reference: Reference, tmp_path: Path) -> None:
    lib = reference.library
    for attempt in range(3):  # on a very busy box the scan may finish between the poll and the kill
        data = tmp_path / f"data-{attempt}"
        if _kill_scan_part_way(data, lib.root):
            break
    else:
        pytest.fail("the kill never landed before the scan finished")
    stored, broken = _unfinished(data / "musicd.db")
    assert 0 < stored < len(lib.tracks) and broken > 0  # what the issue saw: albums with tracks but no count

    env = server_env(data, lib.root, MUSICD_LOG_LEVEL="info", MUSICD_LOG_FORMAT="json")
    done = subprocess.run(_musicd("scan", "--json"), env=env, cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["healed_albums"] >= broken
    assert summary["added"] + summary["unchanged"] == len(lib.tracks)
    assert '"scan.healing"' in done.stderr, done.stderr[-2000:]
    _assert_same_catalogue(reference, data / "musicd.db")


def _migrations_up_to(version: int, folder: Path) -> Path:
    folder.mkdir()
    for m in available_migrations():
        if m.version <= version:
            (folder / f"{m.version:04d}_{m.name}.sql").write_text(m.sql)
    return folder


async def _upgrade_to(db_path: Path, version: int, folder: Path) -> None:
    """Apply the migrations up to `version` as the upgrade to it would."""
    folder = _migrations_up_to(version, folder)
    db = Database(db_path)
    await db.open()
    try:
        await migrate(db, folder)
    finally:
        await db.close()


async def test_albums_an_older_version_left_unfinished_heal_after_the_upgrade(
    built_library: BuiltLibrary, services_for: Any, tmp_path: Path
) -> None:
    async with services_for(built_library.root) as s:
        await s.library.scan()
    db = tmp_path / "data" / "musicd.db"
    clean = catalogue(db)
    # What a scan interrupted under a version without marks left behind: albums with tracks but no
    # count, duration, discs, cover or genres, which later scans never repaired.
    with sqlite3.connect(db) as conn:
        damaged = "SELECT id FROM albums ORDER BY id LIMIT 5"
        conn.execute(f"UPDATE albums SET track_count = 0, duration = 0, disc_total = NULL, cover_id = NULL"
                     f" WHERE id IN ({damaged})")
        conn.execute(f"DELETE FROM album_genres WHERE album_id IN ({damaged})")
        conn.execute("DROP TABLE scan_dirty_albums")
        # Migrations after 0007 stay applied: set them aside, or the runner (forward-only) refuses 0007.
        later = conn.execute("SELECT version, name, applied_at FROM schema_version WHERE version >= 7").fetchall()
        conn.execute("DELETE FROM schema_version WHERE version >= 7")
    await _upgrade_to(db, 7, tmp_path / "migrations-up-to-7")
    with sqlite3.connect(db) as conn:
        conn.executemany("INSERT OR IGNORE INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)", later)
    async with services_for(built_library.root) as s:  # nothing left to migrate: scans
        summary = await s.library.scan()
    assert summary.healed_albums == 5
    diff = catalogue_diff(clean, catalogue(db))
    assert not diff, diff


def test_first_scan_reads_while_the_command_starts_and_gives_the_clean_catalogue(
    reference: Reference, tmp_path: Path
) -> None:
    """`musicd scan` on a new data dir starts its readers before the application is up (a read-ahead);
    the catalogue is the clean scan's, field by field. The next scan has a catalogue: no read-ahead."""
    lib, data = reference.library, tmp_path / "data"
    env = server_env(data, lib.root, MUSICD_LOG_LEVEL="info", MUSICD_LOG_FORMAT="json")
    first = subprocess.run(_musicd("scan", "--json"), env=env, cwd=REPO_ROOT, capture_output=True, text=True,
                           timeout=120, check=False)
    assert first.returncode == 0, first.stderr
    assert '"scan.read_ahead"' in first.stderr, first.stderr[-2000:]
    assert json.loads(first.stdout)["added"] == len(lib.tracks)
    _assert_same_catalogue(reference, data / "musicd.db")

    again = subprocess.run(_musicd("scan", "--json"), env=env, cwd=REPO_ROOT, capture_output=True, text=True,
                           timeout=120, check=False)
    assert again.returncode == 0, again.stderr
    assert '"scan.read_ahead"' not in again.stderr
    assert json.loads(again.stdout)["unchanged"] == len(lib.tracks)
