"""Incremental rescans: unchanged files are not re-read, edits update in place, moves keep track ids."""

from __future__ import annotations

import os
import shutil
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from musicd.devtools.library_builder import BuiltLibrary, ExpectedTrack, write_tags
from musicd.errors import LibraryError
from musicd.library.read_ahead import ReadAhead
from musicd.services.registry import Services


def _abs(lib: BuiltLibrary, rel: str) -> str:
    return str(lib.root.resolve() / rel)


def _db(services: Services) -> sqlite3.Connection:
    conn = sqlite3.connect(services.config.data_dir / "musicd.db")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def _track_id(services: Services, path: str) -> str | None:
    with _db(services) as conn:
        row = conn.execute("SELECT id FROM tracks WHERE path = ?", (path,)).fetchone()
    return row[0] if row else None


def _count(services: Services) -> int:
    with _db(services) as conn:
        return conn.execute("SELECT count(*) FROM tracks").fetchone()[0]


def _plain_track(lib: BuiltLibrary, fmt: str = "mp3") -> ExpectedTrack:
    """A good track without sidecar lyrics, in a folder of its own album."""
    return next(t for t in lib.tracks if t.format == fmt and t.lyrics != "lrc" and "/Disc " not in t.path)


def _bump_mtime(path: Path, seconds: int = 5) -> None:
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + seconds * 1_000_000_000))


async def test_rescan_without_changes_reads_nothing(library_copy: BuiltLibrary, services_for) -> None:
    lib = library_copy
    async with services_for(lib.root) as s:
        first = await s.library.scan()
        assert first.added == len(lib.tracks)
        again = await s.library.scan()
    assert (again.added, again.updated, again.moved, again.removed) == (0, 0, 0, 0)
    assert again.unchanged == len(lib.tracks)
    assert again.failed == len(lib.broken)
    assert {p for p, _ in again.failures} == {_abs(lib, b) for b in lib.broken}
    assert again.changed_track_ids == []


async def test_retagged_file_is_updated_in_place(library_copy: BuiltLibrary, services_for) -> None:
    lib = library_copy
    t = _plain_track(lib)
    path = lib.root / t.path
    async with services_for(lib.root) as s:
        await s.library.scan()
        tid = _track_id(s, _abs(lib, t.path))
        assert tid is not None
        write_tags(path, replace(t, title="A Brand New Title"))
        _bump_mtime(path)
        summary = await s.library.scan()
        assert (summary.added, summary.updated, summary.moved, summary.removed) == (0, 1, 0, 0)
        assert summary.unchanged == len(lib.tracks) - 1
        assert summary.changed_track_ids == [tid]
        with _db(s) as conn:
            title, = conn.execute("SELECT title FROM tracks WHERE id = ?", (tid,)).fetchone()
            n_artists, = conn.execute("SELECT count(*) FROM track_artists WHERE track_id = ?", (tid,)).fetchone()
        assert title == "A Brand New Title"
        assert n_artists == len(t.artists)
        assert _count(s) == len(lib.tracks)


async def test_moved_file_keeps_its_id_and_removal_reports_references(
    library_copy: BuiltLibrary, services_for
) -> None:
    lib = library_copy
    t = _plain_track(lib, "flac")
    old = lib.root / t.path
    new = lib.root / "Moved Elsewhere" / f"renamed {old.name}"
    async with services_for(lib.root) as s:
        await s.library.scan()
        tid = _track_id(s, _abs(lib, t.path))
        assert tid is not None
        new.parent.mkdir()
        shutil.move(old, new)
        summary = await s.library.scan()
        assert (summary.added, summary.updated, summary.moved, summary.removed) == (0, 0, 1, 0)
        assert _track_id(s, str(new.resolve())) == tid
        assert _track_id(s, _abs(lib, t.path)) is None

        user = await s.accounts.create("carol", "correct horse battery")
        with _db(s) as conn:
            conn.execute(
                "INSERT INTO playlists (id, owner_id, name, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                ("pl1", user.id, "Road Trip", "2024-01-01T00:00:00Z", "2024-01-01T00:00:00Z"),
            )
            conn.execute(
                "INSERT INTO playlist_entries (playlist_id, order_key, track_id, added_by, added_at)"
                " VALUES (?, ?, ?, ?, ?)", ("pl1", "a0", tid, user.id, "2024-01-01T00:00:00Z"),
            )
            conn.execute(
                "INSERT INTO saved_items (user_id, item_type, item_id, created_at) VALUES (?, 'track', ?, ?)",
                (user.id, tid, "2024-01-01T00:00:00Z"),
            )
        new.unlink()
        summary = await s.library.scan()
        assert (summary.added, summary.updated, summary.moved, summary.removed) == (0, 0, 0, 1)
        assert summary.removed_track_ids == [tid]
        refs = summary.report["removed_references"]
        assert [p["playlist"] for r in refs for p in r["playlist_entries"]] == ["Road Trip"]
        assert [p["owner"] for r in refs for p in r["playlist_entries"]] == ["carol"]
        assert {u for r in refs for u in r["saved_by"]} == {"carol"}
        with _db(s) as conn:
            assert conn.execute("SELECT count(*) FROM playlist_entries").fetchone()[0] == 0
            assert conn.execute("SELECT count(*) FROM saved_items").fetchone()[0] == 0
            assert conn.execute("SELECT version FROM playlists WHERE id = 'pl1'").fetchone()[0] == 2
            assert conn.execute("SELECT report FROM scan_runs ORDER BY id DESC LIMIT 1").fetchone()[0] != "{}"
        assert _count(s) == len(lib.tracks) - 1


async def test_missing_folder_fails_and_keeps_catalogue(library_copy: BuiltLibrary, services_for) -> None:
    lib = library_copy
    async with services_for(lib.root) as s:
        await s.library.scan()
        lib.root.rename(lib.root.with_name("Unmounted"))
        with pytest.raises(LibraryError) as err:
            await s.library.scan()
        assert err.value.code == "library_missing"
        assert str(lib.root.resolve()) in err.value.message
        assert _count(s) == len(lib.tracks)
        assert not s.library.state.running


async def test_emptied_folder_refused_unless_allowed(library_copy: BuiltLibrary, services_for) -> None:
    lib = library_copy
    async with services_for(lib.root) as s:
        await s.library.scan()
        for child in lib.root.iterdir():
            if child.is_dir():
                shutil.rmtree(child)
            else:
                child.unlink()
        with pytest.raises(LibraryError) as err:
            await s.library.scan()
        assert err.value.code == "library_empty"
        assert _count(s) == len(lib.tracks)
        summary = await s.library.scan(allow_empty=True)
        assert summary.removed == len(lib.tracks)
        assert _count(s) == 0
        with _db(s) as conn:
            assert conn.execute("SELECT count(*) FROM albums").fetchone()[0] == 0
            assert conn.execute("SELECT count(*) FROM scan_failures").fetchone()[0] == 0


async def test_new_lrc_sidecar_rereads_track(library_copy: BuiltLibrary, services_for) -> None:
    lib = library_copy
    t = next(t for t in lib.tracks if t.lyrics is None and t.format == "ogg")
    path = lib.root / t.path
    async with services_for(lib.root) as s:
        await s.library.scan()
        tid = _track_id(s, _abs(lib, t.path))
        lrc = path.with_suffix(".lrc")
        lrc.write_text("[ti:x]\n[00:00.50]Hello sidecar\n[00:01.00]Second line\n", encoding="utf-8")
        _bump_mtime(lrc, 10)
        summary = await s.library.scan()
        assert (summary.added, summary.updated, summary.moved, summary.removed) == (0, 1, 0, 0)
        with _db(s) as conn:
            row = conn.execute("SELECT source, synced, text FROM lyrics WHERE track_id = ?", (tid,)).fetchone()
            has, = conn.execute("SELECT has_lyrics FROM tracks WHERE id = ?", (tid,)).fetchone()
        assert row is not None and row[0] == "lrc" and row[1] == 1
        assert "Hello sidecar" in row[2]
        assert has == 1


async def test_read_ahead_is_not_used_once_a_catalogue_exists(library_copy: BuiltLibrary, services_for) -> None:
    """Readers started ahead on every file are stopped, unused, when the catalogue already has the folder:
    the scan reads only what changed, as without them."""
    async with services_for(library_copy.root) as s:
        first = await s.library.scan()
        ahead = ReadAhead(library_copy.root, s.config.data_dir / "covers", 2)
        await ahead.start()
        readers = list(ahead.pool._procs)
        again = await s.library.scan(ahead=ahead)
        assert (again.added, again.updated, again.unchanged) == (0, 0, first.added)
        assert len(readers) == 2 and all(p.returncode is not None for p in readers)  # stopped, not left over
