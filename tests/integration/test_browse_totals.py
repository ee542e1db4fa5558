"""Aggregates stored for browsing (migration 0044: artist counts and cover, albums' folded names) stay what
the live queries they replace computed, after a first scan and after rescans that add, retag and remove
tracks; random album and track picks are uniform draws of rows that exist."""

from __future__ import annotations

import shutil
import sqlite3
from collections import Counter
from dataclasses import replace
from pathlib import Path

from musicd.devtools.library_builder import BuiltLibrary, ExpectedTrack, write_tags
from musicd.domain.catalog import ArtistView, fold_name
from musicd.domain.grouping import artist_key
from musicd.services.registry import Services
from musicd.store.artist_totals import ARTIST_TOTALS
from musicd.store.sampling import random_ids


def _derived(services: Services) -> dict[str, tuple[int, int, str | None]]:
    """Every artist's (album count, track count, cover) computed from albums and tracks now, as the
    artist list computed them before they were stored."""
    conn = sqlite3.connect(services.config.data_dir / "musicd.db")
    try:
        rows = conn.execute(f"SELECT a.id, {ARTIST_TOTALS}, a.cover_id FROM artists a").fetchall()
    finally:
        conn.close()
    return {r[0]: (r[1], r[2], r[4] or r[3]) for r in rows}


def _fields(a: ArtistView) -> tuple[object, ...]:
    return a.id, a.name, a.sort_name, a.album_count, a.track_count, a.cover_id, a.mbid, a.state


async def _check_artists(s: Services, tracks: list[ExpectedTrack]) -> None:
    artists = await s.catalog.all_artists()
    listed = {a.id: (a.album_count, a.track_count, a.cover_id) for a in artists}
    assert listed == _derived(s)
    # And against the library's own truth: albums per album artist, tracks per credited artist.
    album_keys = {(artist_key(t.album_key[0]), t.album_key[1].casefold()) for t in tracks}
    want_albums = Counter(k for k, _ in album_keys)
    want_tracks = Counter(k for t in tracks for k in {artist_key(n) for n in t.artists})
    got = {artist_key(a.name): a for a in artists}
    assert set(got) == set(want_albums) | set(want_tracks)
    for key, a in got.items():
        assert (a.album_count, a.track_count) == (want_albums[key], want_tracks[key]), a.name
    index = await s.catalog.all_artists(album_artists_only=True)
    assert {artist_key(a.name) for a in index} == set(want_albums)
    # The Subsonic index (no play counts, kept between scans) is the same list with the same fields.
    lean = await s.catalog.all_artists(album_artists_only=True, plays=False)
    assert [_fields(a) for a in lean] == [_fields(a) for a in index]
    covered = [a for a in artists if a.album_count and a.cover_id]
    assert covered  # the test library has album artists with covers


async def _check_albums_by_name(s: Services) -> None:
    page = await s.catalog.album_list("alphabeticalByName", None, 500, 0)
    assert page.total == len(page.items) > 0
    want = sorted(page.items, key=lambda a: (fold_name(a.name), a.name, a.id))
    assert [a.id for a in page.items] == [a.id for a in want]


async def test_stored_totals_follow_rescans(library_copy: BuiltLibrary, services_for) -> None:
    lib = library_copy
    tracks = list(lib.tracks)
    async with services_for(lib.root) as s:
        await s.library.scan()
        await _check_artists(s, tracks)
        await _check_albums_by_name(s)

        # Remove one album whole, retag a track of another to credit an artist new to the library, and
        # add a copy of a track under a new album name (its first letter sorts it elsewhere).
        albums = lib.albums()
        gone_key = next(k for k, v in albums.items() if k[0] == "R.E.M.")
        for t in albums[gone_key]:
            (lib.root / t.path).unlink()
        kept = [t for t in tracks if t.album_key != gone_key]
        retag = next(t for t in kept if t.format == "mp3" and t.album_artist and "/Disc " not in t.path)
        new = replace(retag, artist="Zed Newcomer", artists=("Zed Newcomer",))
        write_tags(lib.root / retag.path, new)
        source = next(t for t in kept if t.format == "flac" and t is not retag)
        copy_path = str(Path(source.path).with_name("added copy.flac"))
        shutil.copy(lib.root / source.path, lib.root / copy_path)
        added = replace(source, path=copy_path, album="Ångström Additions", album_artist="Zed Newcomer")
        write_tags(lib.root / copy_path, added)
        tracks = [new if t is retag else t for t in kept] + [added]

        summary = await s.library.scan()
        assert (summary.added, summary.removed) == (1, len(albums[gone_key]))
        await _check_artists(s, tracks)
        await _check_albums_by_name(s)
        zed = {a.name: a for a in await s.catalog.all_artists()}["Zed Newcomer"]
        assert (zed.album_count, zed.track_count) == (1, 1)
        assert "R.E.M." not in {a.name for a in await s.catalog.all_artists()}


async def test_random_picks_are_rows_that_exist(library_copy: BuiltLibrary, services_for) -> None:
    lib = library_copy
    async with services_for(lib.root) as s:
        await s.library.scan()
        first = await s.db.fetchone("SELECT min(rowid) FROM albums")
        # An album removed from the middle of the rowids: the gap it leaves is never drawn.
        gone = next(v for v in lib.albums().values() if len(v) == 2)
        for t in gone:
            (lib.root / t.path).unlink()
        assert (await s.library.scan()).removed == 2
        assert first == await s.db.fetchone("SELECT min(rowid) FROM albums")
        all_albums = {r[0] for r in await s.db.fetchall("SELECT id FROM albums")}
        assert len(all_albums) > 8  # more than 4 x the draw: the rowid path, not the full sort
        seen: Counter[str] = Counter()
        for _ in range(200):
            ids, total = await random_ids(s.db, "albums", 2)
            assert total == len(all_albums) and len(ids) == 2 and len(set(ids)) == 2
            assert set(ids) <= all_albums
            seen.update(ids)
        assert set(seen) == all_albums  # every album comes up
        tracks, total = await random_ids(s.db, "tracks", 3)
        assert len(set(tracks)) == 3 and total == len(lib.tracks) - 2
        page = await s.catalog.album_list("random", None, 2, 0)
        assert len(page.items) == 2 and page.total == len(all_albums)


_STORED = ("SELECT id, album_count, track_count, fallback_cover_id FROM artists ORDER BY id",
           "SELECT id, name_fold FROM albums ORDER BY id")


async def test_migration_fills_what_the_scan_keeps(library_copy: BuiltLibrary, services_for, tmp_path: Path) -> None:
    """A database from before migration 0044 gets the same stored values as a scan computes."""
    data = tmp_path / "data"
    async with services_for(library_copy.root, data_dir=data) as s:
        await s.library.scan()
    db = data / "musicd.db"
    with sqlite3.connect(db) as conn:
        scanned = [conn.execute(q).fetchall() for q in _STORED]
        assert any(r[3] for r in scanned[0]) and all(r[1] for r in scanned[1])
        # Back to the schema before 0044 (and 0045, which only rebuilds an index), keeping the catalogue.
        conn.executescript(
            "DROP INDEX albums_name_fold; ALTER TABLE albums DROP COLUMN name_fold;"
            " ALTER TABLE artists DROP COLUMN album_count; ALTER TABLE artists DROP COLUMN track_count;"
            " ALTER TABLE artists DROP COLUMN fallback_cover_id; DROP TABLE catalogue_version;"
            " DROP INDEX tracks_album; CREATE INDEX tracks_album ON tracks (album_id, disc_number, track_number);"
            " DELETE FROM schema_version WHERE version >= 44;")
    conn.close()
    async with services_for(library_copy.root, data_dir=data):
        pass
    with sqlite3.connect(db) as conn:
        assert [conn.execute(q).fetchall() for q in _STORED] == scanned
    conn.close()
