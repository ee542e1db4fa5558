"""A full scan of the real test library, checked field by field against the builder's ground truth."""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pytest

from musicd.devtools.library_builder import BuiltLibrary, ExpectedTrack
from musicd.domain.lyrics import plain_text
from musicd.library.scanner import ScanSummary
from musicd.services.registry import open_services
from tests.live import make_config


@dataclass
class Scanned:
    lib: BuiltLibrary
    summary: ScanSummary
    data_dir: Path

    def db(self) -> sqlite3.Connection:
        conn = sqlite3.connect(f"file:{self.data_dir / 'musicd.db'}?mode=ro", uri=True)
        conn.row_factory = sqlite3.Row
        return conn


@pytest.fixture(scope="module")
def scanned(built_library: BuiltLibrary, tmp_path_factory: pytest.TempPathFactory) -> Scanned:
    data_dir = tmp_path_factory.mktemp("scan-data")

    async def go() -> ScanSummary:
        services = await open_services(make_config(data_dir, built_library.root))
        try:
            return await services.library.scan()
        finally:
            await services.close()

    return Scanned(built_library, asyncio.run(go()), data_dir)


def _abs(lib: BuiltLibrary, rel: str) -> str:
    return str(lib.root / rel)


def _track_row(conn: sqlite3.Connection, lib: BuiltLibrary, t: ExpectedTrack) -> sqlite3.Row:
    row = conn.execute("SELECT * FROM tracks WHERE path = ?", (_abs(lib, t.path),)).fetchone()
    if row is None:  # the file system may hand back another normal form
        for r in conn.execute("SELECT * FROM tracks"):
            if unicodedata.normalize("NFC", r["path"]) == unicodedata.normalize("NFC", _abs(lib, t.path)):
                return r
    assert row is not None, f"track not in catalogue: {t.path}"
    return row


def _check_track(conn: sqlite3.Connection, lib: BuiltLibrary, t: ExpectedTrack) -> list[str]:
    errors: list[str] = []

    def eq(field: str, got: object, want: object) -> None:
        if got != want:
            errors.append(f"{t.path}: {field}: got {got!r}, want {want!r}")

    row = _track_row(conn, lib, t)
    tid = row["id"]
    eq("title", row["title"], t.title)
    eq("artist_display", row["artist_display"], t.artist)
    credits = conn.execute(
        "SELECT a.name, ta.role FROM track_artists ta JOIN artists a ON a.id = ta.artist_id"
        " WHERE ta.track_id = ? ORDER BY ta.position", (tid,),
    ).fetchall()
    want_credits = [(name, "main" if i == 0 else "featured") for i, name in enumerate(t.artists)]
    eq("artists", [tuple(c) for c in credits], want_credits)
    album = conn.execute(
        "SELECT al.*, ar.name AS artist_name FROM albums al JOIN artists ar ON ar.id = al.album_artist_id"
        " WHERE al.id = ?", (row["album_id"],),
    ).fetchone()
    eq("album", album["name"], t.album)
    eq("album artist", album["artist_name"], t.album_key[0])
    if t.compilation:
        eq("album artist (compilation)", album["artist_name"], "Various Artists")
        eq("album compilation flag", album["compilation"], 1)
    eq("track_number", row["track_number"], t.track)
    eq("track_total", row["track_total"], t.track_total)
    eq("disc_number", row["disc_number"], t.disc)
    eq("disc_total", row["disc_total"], t.disc_total)
    eq("year", row["year"], t.year)
    genres = [r[0] for r in conn.execute(
        "SELECT g.name FROM track_genres tg JOIN genres g ON g.id = tg.genre_id WHERE tg.track_id = ?"
        " ORDER BY tg.position", (tid,),
    )]
    eq("genres", genres, list(t.genres))
    if abs(row["duration"] - t.duration) > 0.1:
        errors.append(f"{t.path}: duration {row['duration']} vs {t.duration}")
    eq("format", row["format"], t.format)
    eq("mbid_recording", row["mbid_recording"], t.mbid_recording)
    eq("isrc", row["isrc"], t.isrc)
    for col, want in (("rg_track_gain", t.replaygain_track_gain), ("rg_album_gain", t.replaygain_album_gain)):
        got = row[col]
        if (got is None) != (want is None) or (want is not None and abs(got - want) > 0.01):
            errors.append(f"{t.path}: {col}: got {got!r}, want {want!r}")

    lyr = conn.execute("SELECT source, synced, text FROM lyrics WHERE track_id = ?", (tid,)).fetchone()
    eq("has_lyrics", row["has_lyrics"], int(t.lyrics is not None))
    if t.lyrics is None:
        eq("lyrics row", lyr, None)
    elif lyr is None:
        errors.append(f"{t.path}: lyrics missing (want {t.lyrics})")
    else:
        want_source, want_synced = {
            "lrc": ("lrc", 1), "embedded_synced": ("embedded", 1), "embedded_unsynced": ("embedded", 0),
        }[t.lyrics]
        eq("lyrics source", lyr["source"], want_source)
        eq("lyrics synced", lyr["synced"], want_synced)
        first = plain_text(lyr["text"]).splitlines()[0].strip() if plain_text(lyr["text"]) else None
        eq("lyrics first line", first, t.lyrics_first_line)

    if t.cover is None:
        eq("cover", row["cover_id"], None)
    else:
        cover = conn.execute("SELECT source FROM covers WHERE id = ?", (row["cover_id"],)).fetchone()
        if cover is None:
            errors.append(f"{t.path}: no cover (want {t.cover})")
        else:
            eq("cover source", cover["source"], t.cover)
    return errors


def test_summary_counts(scanned: Scanned) -> None:
    s = scanned.summary
    assert s.added == len(scanned.lib.tracks)
    assert (s.updated, s.moved, s.removed, s.unchanged) == (0, 0, 0, 0)
    assert s.failed == len(scanned.lib.broken)


def test_every_track_field_by_field(scanned: Scanned) -> None:
    with scanned.db() as conn:
        assert conn.execute("SELECT count(*) FROM tracks").fetchone()[0] == len(scanned.lib.tracks)
        errors = [e for t in scanned.lib.tracks for e in _check_track(conn, scanned.lib, t)]
    assert not errors, "\n".join(errors)


def test_feat_split_without_artists_tag(scanned: Scanned) -> None:
    t = next(t for t in scanned.lib.tracks if t.artist == "Nova feat. Stella")
    with scanned.db() as conn:
        row = _track_row(conn, scanned.lib, t)
        credits = conn.execute(
            "SELECT a.name, ta.role FROM track_artists ta JOIN artists a ON a.id = ta.artist_id"
            " WHERE ta.track_id = ? ORDER BY ta.position", (row["id"],),
        ).fetchall()
    assert [tuple(c) for c in credits] == [("Nova", "main"), ("Stella", "featured")]


def test_albums(scanned: Scanned) -> None:
    expected = scanned.lib.albums()
    with scanned.db() as conn:
        rows = conn.execute(
            "SELECT al.id, al.name, ar.name AS artist, al.track_count, al.disc_total, al.cover_id"
            " FROM albums al JOIN artists ar ON ar.id = al.album_artist_id"
        ).fetchall()
        assert len(rows) == len(expected)
        got = {(r["artist"], r["name"]): r for r in rows}
        assert set(got) == set(expected)
        for key, tracks in expected.items():
            assert got[key]["track_count"] == len(tracks), key
            want_discs = max([t.disc_total or t.disc or 1 for t in tracks])
            assert got[key]["disc_total"] == want_discs, key
            if any(t.cover for t in tracks):
                assert got[key]["cover_id"] is not None, key
        # Same name, different artists: two albums.
        greatest = [k for k in got if k[1] == "Greatest Hits"]
        assert len(greatest) == 2
        assert len({got[k]["id"] for k in greatest}) == 2
        # Multi-disc albums: one album each, whatever the folder layout.
        multi = {k: ts for k, ts in expected.items() if any((t.disc_total or 0) > 1 for t in ts)}
        assert len(multi) >= 2
        layouts = {any("/Disc " in t.path for t in ts) for ts in multi.values()}
        assert layouts == {True, False}, "want one Disc-N-folder album and one flat multi-disc album"
        for key, ts in multi.items():
            ids = {_track_row(conn, scanned.lib, t)["album_id"] for t in ts}
            assert ids == {got[key]["id"]}
            assert got[key]["disc_total"] == 2


def test_compilation_without_album_artist_is_various_artists(scanned: Scanned) -> None:
    comps = [t for t in scanned.lib.tracks if t.compilation and not t.album_artist]
    assert comps, "the test library should hold a compilation without an album-artist tag"
    with scanned.db() as conn:
        for t in comps:
            row = _track_row(conn, scanned.lib, t)
            name = conn.execute(
                "SELECT ar.name FROM albums al JOIN artists ar ON ar.id = al.album_artist_id WHERE al.id = ?",
                (row["album_id"],),
            ).fetchone()[0]
            assert name == "Various Artists"


def test_covers_deduplicated_and_on_disk(scanned: Scanned) -> None:
    covers_dir = scanned.data_dir / "covers"
    with scanned.db() as conn:
        covers = conn.execute("SELECT id, size, source FROM covers").fetchall()
        embedded_tracks = conn.execute(
            "SELECT count(*) FROM tracks t JOIN covers c ON c.id = t.cover_id WHERE c.source = 'embedded'"
        ).fetchone()[0]
    n_embedded = sum(1 for c in covers if c["source"] == "embedded")
    assert embedded_tracks == sum(1 for t in scanned.lib.tracks if t.cover == "embedded")
    assert 0 < n_embedded < embedded_tracks, "identical embedded covers must be stored once"
    files = [p for p in covers_dir.rglob("*") if p.is_file() and not p.name.startswith(".")]
    assert len(files) == len(covers)
    digests = set()
    by_id = {c["id"]: c for c in covers}
    for f in files:
        data = f.read_bytes()
        digest = hashlib.blake2b(data, digest_size=16).hexdigest()
        assert f.stem == digest and digest in by_id
        assert by_id[digest]["size"] == len(data)
        digests.add(digest)
    assert len(digests) == len(files)


def test_folder_cover_above_disc_folders(scanned: Scanned) -> None:
    disc_tracks = [t for t in scanned.lib.tracks if "/Disc " in t.path]
    assert disc_tracks
    with scanned.db() as conn:
        for t in disc_tracks:
            assert t.cover == "folder"
            row = _track_row(conn, scanned.lib, t)
            src = conn.execute("SELECT source FROM covers WHERE id = ?", (row["cover_id"],)).fetchone()
            assert src is not None and src[0] == "folder", t.path
            album_cover = conn.execute("SELECT cover_id FROM albums WHERE id = ?", (row["album_id"],)).fetchone()[0]
            assert album_cover == row["cover_id"]


def test_broken_files_reported(scanned: Scanned) -> None:
    failures = {p: reason for p, reason in scanned.summary.failures}
    assert scanned.summary.failed == len(scanned.lib.broken)
    for rel in scanned.lib.broken:
        assert _abs(scanned.lib, rel) in failures, rel
        assert failures[_abs(scanned.lib, rel)].strip(), rel
    with scanned.db() as conn:
        recorded = {r[0] for r in conn.execute("SELECT path FROM scan_failures")}
    assert recorded == {_abs(scanned.lib, rel) for rel in scanned.lib.broken}


def test_ignored_files_are_neither_tracks_nor_failures(scanned: Scanned) -> None:
    failed = {p for p, _ in scanned.summary.failures}
    with scanned.db() as conn:
        paths = {r[0] for r in conn.execute("SELECT path FROM tracks")}
    for rel in scanned.lib.ignored:
        assert _abs(scanned.lib, rel) not in paths, rel
        assert _abs(scanned.lib, rel) not in failed, rel
    assert not any("/.hidden/" in p for p in paths | failed)


def test_unicode_paths(scanned: Scanned) -> None:
    non_ascii = [t for t in scanned.lib.tracks if not t.path.isascii()]
    assert len(non_ascii) >= 5
    with scanned.db() as conn:
        for t in non_ascii:
            row = _track_row(conn, scanned.lib, t)
            assert Path(row["path"]).is_file()
            assert row["title"] == t.title
