"""The mirror of peers' catalogues: written by the sync in batches, read like the local catalogue.

Rows are tracks (denormalised: album and artist names travel with each track); albums and artists of
a peer are what its tracks name, aggregated when read. Ids are local F-ids (musicd.domain.ids).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

from musicd.store.db import Database

__all__ = ["FedMirrorRepository", "MirrorRow"]

_IDS = "SELECT value FROM json_each(?)"

_COLS = ("id", "peer_id", "remote_id", "album_id", "title", "artist_display", "artists", "album_name",
         "album_artist_id", "album_artist", "compilation", "track_number", "track_total", "disc_number", "disc_total",
         "year", "genres", "duration", "format", "size", "bitrate", "sample_rate", "channels", "bit_depth", "isrc",
         "mbid_recording", "album_mbid", "version")
_SELECT = "SELECT " + ", ".join(f"t.{c}" for c in _COLS) + ", t.local_track_id"
_WRITTEN = (*_COLS, "local_track_id")
_UPSERT = (f"INSERT INTO fed_tracks ({', '.join(_WRITTEN)}) VALUES ({', '.join('?' for _ in _WRITTEN)})"
           " ON CONFLICT (id) DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in _WRITTEN[3:]))


class MirrorRow:
    """One mirrored track as stored (attribute access by column name)."""

    __slots__ = (*_COLS, "local_track_id")

    id: str
    peer_id: str
    remote_id: str
    album_id: str
    title: str
    artist_display: str
    artists: list[tuple[str, str]]
    album_name: str
    album_artist_id: str
    album_artist: str
    compilation: bool
    track_number: int | None
    track_total: int | None
    disc_number: int | None
    disc_total: int | None
    year: int | None
    genres: list[str]
    duration: float
    format: str
    size: int
    bitrate: int | None
    sample_rate: int | None
    channels: int | None
    bit_depth: int | None
    isrc: str | None
    mbid_recording: str | None
    album_mbid: str | None
    version: int
    local_track_id: str | None

    def __init__(self, r: Sequence[Any]) -> None:
        for name, value in zip(self.__slots__, r, strict=True):
            setattr(self, name, value)
        self.artists = [tuple(a) for a in json.loads(r[6])]  # type: ignore[misc]
        self.genres = json.loads(r[16])
        self.compilation = bool(r[10])

    def values(self) -> tuple[Any, ...]:
        """The column values, in the order of an upsert (the collapse into a local track included)."""
        out = [getattr(self, c) for c in _WRITTEN]
        out[6] = json.dumps(self.artists)
        out[16] = json.dumps(self.genres)
        out[10] = int(self.compilation)
        return tuple(out)


def _rows(rows: Iterable[sqlite3.Row]) -> list[MirrorRow]:
    return [MirrorRow(tuple(r)) for r in rows]


class FedMirrorRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- writes (the sync) ----

    async def apply(self, rows: Sequence[MirrorRow], deleted_ids: Sequence[str]) -> None:
        """Upsert tracks and their artist credits and delete tombstoned ones, in one transaction."""
        if not rows and not deleted_ids:
            return
        async with self.db.transaction() as conn:
            if deleted_ids:
                await conn.execute(f"DELETE FROM fed_tracks WHERE id IN ({_IDS})", (json.dumps(list(deleted_ids)),))
            if rows:
                await conn.executemany(_UPSERT, [r.values() for r in rows])
                await conn.execute(f"DELETE FROM fed_track_artists WHERE track_id IN ({_IDS})",
                                   (json.dumps([r.id for r in rows]),))
                await conn.executemany(
                    "INSERT OR IGNORE INTO fed_track_artists (track_id, artist_id, name, position) VALUES (?, ?, ?, ?)",
                    [(r.id, aid, name, i) for r in rows for i, (aid, name) in enumerate(r.artists)])

    async def ids_of_peer(self, peer_id: str) -> set[str]:
        rows = await self.db.fetchall("SELECT id FROM fed_tracks WHERE peer_id = ?", (peer_id,))
        return {r[0] for r in rows}

    async def visible_count(self) -> int:
        """Mirrored tracks no local copy hides (each is a document of the federated index)."""
        row = await self.db.fetchone("SELECT count(*) FROM fed_tracks WHERE local_track_id IS NULL")
        return int(row[0]) if row else 0

    async def has_rows(self) -> bool:
        return await self.db.fetchone("SELECT 1 FROM fed_tracks LIMIT 1") is not None

    async def count(self, peer_id: str) -> int:
        row = await self.db.fetchone("SELECT count(*) FROM fed_tracks WHERE peer_id = ?", (peer_id,))
        return int(row[0]) if row else 0

    async def purge(self, peer_id: str) -> list[str]:
        """Forget everything mirrored from a peer; returns the ids of the tracks, albums and artists removed."""
        rows = await self.db.fetchall(
            "SELECT id FROM fed_tracks WHERE peer_id = ? UNION SELECT album_id FROM fed_tracks WHERE peer_id = ?"
            " UNION SELECT fa.artist_id FROM fed_track_artists fa JOIN fed_tracks t ON t.id = fa.track_id"
            " WHERE t.peer_id = ? UNION SELECT album_artist_id FROM fed_tracks WHERE peer_id = ?",
            (peer_id, peer_id, peer_id, peer_id))
        async with self.db.transaction() as conn:
            await conn.execute("DELETE FROM fed_tracks WHERE peer_id = ?", (peer_id,))
            await conn.execute("DELETE FROM fed_playlists WHERE peer_id = ?", (peer_id,))
        return [r[0] for r in rows]

    async def set_matches(self, matches: Sequence[tuple[str | None, str]]) -> None:
        """Set `local_track_id` of mirrored tracks: pairs of (local track id or None, mirrored id)."""
        if matches:
            await self.db.executemany("UPDATE fed_tracks SET local_track_id = ? WHERE id = ?", matches)

    async def replace_playlists(self, peer_id: str, playlists: Sequence[tuple[str, str, str, str, str, list[str],
                                                                              str]]) -> None:
        """Replace a peer's shared playlists: (id, remote id, name, description, owner, track ids, updated_at)."""
        async with self.db.transaction() as conn:
            await conn.execute("DELETE FROM fed_playlists WHERE peer_id = ?", (peer_id,))
            await conn.executemany(
                "INSERT INTO fed_playlists (id, peer_id, remote_id, name, description, owner_name, track_ids,"
                " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(p[0], peer_id, p[1], p[2], p[3], p[4], json.dumps(p[5]), p[6]) for p in playlists])

    # ---- reads ----

    async def tracks(self, ids: Sequence[str]) -> dict[str, MirrorRow]:
        rows = await self.db.fetchall(f"{_SELECT} FROM fed_tracks t WHERE t.id IN ({_IDS})", (json.dumps(list(ids)),))
        return {r.id: r for r in _rows(rows)}

    async def tracks_with_state(self, ids: Sequence[str], user_id: str | None
                                ) -> dict[str, tuple[MirrorRow, str | None, int | None]]:
        """Mirrored tracks with the user's (saved at, rating), in one query (a search page needs it fast)."""
        rows = await self.db.fetchall(
            f"{_SELECT}, s.created_at, r.rating FROM fed_tracks t"
            " LEFT JOIN saved_items s ON s.user_id = ? AND s.item_type = 'track' AND s.item_id = t.id"
            " LEFT JOIN ratings r ON r.user_id = ? AND r.item_type = 'track' AND r.item_id = t.id"
            f" WHERE t.id IN ({_IDS})", (user_id, user_id, json.dumps(list(ids))))
        n = len(_COLS) + 1
        return {r[0]: (MirrorRow(tuple(r)[:n]), r[n], r[n + 1]) for r in rows}

    async def album_rows(self, album_ids: Sequence[str]) -> list[tuple[Any, ...]]:
        """Albums aggregated from their tracks in SQL: (id, name, album artist id, album artist, compilation,
        year, track count, duration, discs, mbid, peer id, genres JSON, other artists JSON)."""
        return [tuple(r) for r in await self.db.fetchall(
            """SELECT t.album_id, min(t.album_name), min(t.album_artist_id), min(t.album_artist), max(t.compilation),
                 max(t.year), count(*), total(t.duration), max(coalesce(t.disc_total, t.disc_number, 1)),
                 min(t.album_mbid), min(t.peer_id),
                 (SELECT json_group_array(value) FROM (SELECT DISTINCT g.value FROM fed_tracks t2,
                    json_each(t2.genres) g WHERE t2.album_id = t.album_id LIMIT 10)),
                 (SELECT json_group_array(json_array(artist_id, name)) FROM (SELECT DISTINCT fa.artist_id, fa.name
                    FROM fed_tracks t3 JOIN fed_track_artists fa ON fa.track_id = t3.id
                    WHERE t3.album_id = t.album_id AND fa.artist_id <> t.album_artist_id LIMIT 20))
               FROM fed_tracks t WHERE t.album_id IN (SELECT value FROM json_each(?)) GROUP BY t.album_id""",
            (json.dumps(list(album_ids)),))]

    async def track(self, track_id: str) -> MirrorRow | None:
        rows = await self.db.fetchall(f"{_SELECT} FROM fed_tracks t WHERE t.id = ?", (track_id,))
        return MirrorRow(tuple(rows[0])) if rows else None

    async def album_tracks(self, album_ids: Sequence[str]) -> list[MirrorRow]:
        rows = await self.db.fetchall(
            f"{_SELECT} FROM fed_tracks t WHERE t.album_id IN ({_IDS})"
            " ORDER BY t.album_id, coalesce(t.disc_number, 1), coalesce(t.track_number, 0), t.title",
            (json.dumps(list(album_ids)),))
        return _rows(rows)

    async def artist_rows(self, artist_ids: Sequence[str]) -> list[tuple[str, str, str, int, int]]:
        """(artist id, name, peer id, album count, track count) of these artists."""
        rows = await self.db.fetchall(
            """SELECT a.value,
                 coalesce((SELECT name FROM fed_track_artists WHERE artist_id = a.value LIMIT 1),
                          (SELECT album_artist FROM fed_tracks WHERE album_artist_id = a.value LIMIT 1)),
                 coalesce((SELECT t.peer_id FROM fed_track_artists fa JOIN fed_tracks t ON t.id = fa.track_id
                           WHERE fa.artist_id = a.value LIMIT 1),
                          (SELECT peer_id FROM fed_tracks WHERE album_artist_id = a.value LIMIT 1)),
                 (SELECT count(DISTINCT album_id) FROM fed_tracks WHERE album_artist_id = a.value),
                 (SELECT count(*) FROM fed_track_artists WHERE artist_id = a.value)
                FROM json_each(?) a""", (json.dumps(list(artist_ids)),))
        return [(r[0], r[1], r[2], int(r[3]), int(r[4])) for r in rows if r[1] is not None]

    async def artist_album_ids(self, artist_id: str) -> list[str]:
        """Albums the artist is the album artist of, then those they appear on."""
        rows = await self.db.fetchall(
            "SELECT album_id, max(album_artist_id = :a) AS own, max(year) FROM fed_tracks"
            " WHERE album_artist_id = :a OR id IN (SELECT track_id FROM fed_track_artists WHERE artist_id = :a)"
            " GROUP BY album_id ORDER BY own DESC, max(year) DESC, min(album_name)", {"a": artist_id})
        return [r[0] for r in rows]

    async def peer_artist_ids(self, peer_id: str) -> list[str]:
        """The album artists of a peer (its music folder's index)."""
        rows = await self.db.fetchall("SELECT DISTINCT album_artist_id FROM fed_tracks WHERE peer_id = ?", (peer_id,))
        return [r[0] for r in rows]

    async def peer_album_page(self, peer_id: str, order: str, limit: int, offset: int,
                              genre: str | None = None, years: tuple[int, int] | None = None) -> tuple[list[str], int]:
        """A page of a peer's album ids: order "name", "artist", "newest", "year" or "random"."""
        where, params = ["peer_id = ?"], [peer_id]
        if genre:
            where.append("EXISTS (SELECT 1 FROM json_each(genres) g WHERE g.value = ? COLLATE NOCASE)")
            params.append(genre)
        if years:
            lo, hi = min(years), max(years)
            where.append("year BETWEEN ? AND ?")
            params += [lo, hi]
        sort = {"name": "min(album_name) COLLATE NOCASE", "artist": "min(album_artist) COLLATE NOCASE,"
                " min(album_name) COLLATE NOCASE", "newest": "max(version) DESC", "year": "max(year), min(album_name)",
                "random": "random()"}[order]
        cond = " AND ".join(where)
        rows = await self.db.fetchall(f"SELECT album_id FROM fed_tracks WHERE {cond} GROUP BY album_id"
                                      f" ORDER BY {sort} LIMIT ? OFFSET ?", (*params, limit, offset))
        total = await self.db.fetchone(f"SELECT count(DISTINCT album_id) FROM fed_tracks WHERE {cond}", params)
        return [r[0] for r in rows], int(total[0]) if total else 0

    async def peer_of_album(self, album_id: str) -> str | None:
        row = await self.db.fetchone("SELECT peer_id FROM fed_tracks WHERE album_id = ? LIMIT 1", (album_id,))
        return row[0] if row else None

    async def match_rows(self, peer_id: str | None = None) -> list[tuple[str, str | None, str | None, str, str, float]]:
        """(id, mbid, isrc, artist, title, duration) of mirrored tracks: what collapsing compares."""
        sql = "SELECT id, mbid_recording, isrc, artist_display, title, duration FROM fed_tracks"
        rows = await self.db.fetchall(sql + (" WHERE peer_id = ?" if peer_id else ""), (peer_id,) if peer_id else ())
        return [(r[0], r[1], r[2], r[3], r[4], r[5]) for r in rows]

    async def local_match_rows(self) -> list[tuple[str, str | None, str | None, str, str, float]]:
        """The same of the local library."""
        rows = await self.db.fetchall("SELECT id, mbid_recording, isrc, artist_display, title, duration FROM tracks")
        return [(r[0], r[1], r[2], r[3], r[4], r[5]) for r in rows]

    async def current_matches(self) -> dict[str, str | None]:
        rows = await self.db.fetchall("SELECT id, local_track_id FROM fed_tracks")
        return {r[0]: r[1] for r in rows}

    async def search_rows(self, ids: Sequence[str] | None = None) -> list[MirrorRow]:
        """Mirrored tracks that no local copy hides (all, or these ids), for the federated search index."""
        if ids is None:
            rows = await self.db.fetchall(f"{_SELECT} FROM fed_tracks t WHERE t.local_track_id IS NULL")
        else:
            rows = await self.db.fetchall(f"{_SELECT} FROM fed_tracks t WHERE t.local_track_id IS NULL"
                                          f" AND t.id IN ({_IDS})", (json.dumps(list(ids)),))
        return _rows(rows)

    async def playlists(self, playlist_id: str | None = None) -> list[tuple[str, str, str, str, str, list[str], str]]:
        """(id, peer id, name, description, owner, track ids, updated_at) of playlists peers shared here."""
        sql = "SELECT id, peer_id, name, description, owner_name, track_ids, updated_at FROM fed_playlists"
        rows = await self.db.fetchall(sql + (" WHERE id = ?" if playlist_id else " ORDER BY name"),
                                      (playlist_id,) if playlist_id else ())
        return [(r[0], r[1], r[2], r[3], r[4], json.loads(r[5]), r[6]) for r in rows]

    async def user_states(self, user_id: str, ids: Sequence[str]) -> dict[str, tuple[str | None, int | None]]:
        """(saved at, rating) of mirrored tracks for a user."""
        rows = await self.db.fetchall(
            "SELECT i.value, s.created_at, r.rating FROM json_each(?) i"
            " LEFT JOIN saved_items s ON s.user_id = ? AND s.item_type = 'track' AND s.item_id = i.value"
            " LEFT JOIN ratings r ON r.user_id = ? AND r.item_type = 'track' AND r.item_id = i.value",
            (json.dumps(list(ids)), user_id, user_id))
        return {r[0]: (r[1], r[2]) for r in rows if r[1] is not None or r[2] is not None}
