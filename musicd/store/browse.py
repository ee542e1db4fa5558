"""Catalogue reads: tracks, albums and artists hydrated into read models with the asking user's state.

Every list is two queries at most: one picks the page of ids (and the total), one hydrates them.
Per-user state comes from saved_items, ratings and user_track_plays (kept by a trigger on
listening_history, see migrations/0006_catalog.sql).
"""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Sequence
from typing import Any

from musicd.domain.catalog import AlbumView, ArtistRef, ArtistView, GenreCount, ItemState, TrackView
from musicd.store.browse_lists import IdPage, ListQueries

__all__ = ["BrowseRepository", "IdPage"]

_IDS = "SELECT value FROM json_each(:ids)"

_TRACK_SELECT = """
SELECT t.id, t.title, t.artist_display,
 (SELECT json_group_array(json_array(id, name)) FROM (SELECT a.id, a.name FROM track_artists ta
   JOIN artists a ON a.id = ta.artist_id WHERE ta.track_id = t.id ORDER BY ta.position)) AS artists_js,
 t.album_id, al.name AS album_name, aa.id AS aa_id, aa.name AS aa_name, al.compilation,
 t.track_number, t.track_total, t.disc_number, coalesce(t.disc_total, al.disc_total) AS disc_total,
 t.disc_subtitle, coalesce(t.year, al.year) AS year,
 (SELECT json_group_array(name) FROM (SELECT g.name FROM track_genres tg JOIN genres g ON g.id = tg.genre_id
   WHERE tg.track_id = t.id ORDER BY tg.position)) AS genres_js,
 t.duration, t.format, t.size, t.bitrate, t.sample_rate, t.channels, t.bit_depth,
 substr(t.path, length(f.path) + 2) AS rel_path, coalesce(t.cover_id, al.cover_id) AS cover_id,
 (t.has_lyrics OR EXISTS (SELECT 1 FROM lyrics_user lu WHERE lu.track_id = t.id)) AS has_lyrics,
 t.isrc, t.mbid_recording, t.rg_track_gain, t.rg_track_peak, t.rg_album_gain, t.rg_album_peak,
 t.bpm, t.comment, t.play_count, t.created_at,
 s.created_at AS saved_at, r.rating, p.play_count AS user_plays, p.last_played_at
FROM tracks t
 JOIN albums al ON al.id = t.album_id
 JOIN artists aa ON aa.id = al.album_artist_id
 JOIN library_folders f ON f.id = t.folder_id
 LEFT JOIN saved_items s ON s.user_id = :uid AND s.item_type = 'track' AND s.item_id = t.id
 LEFT JOIN ratings r ON r.user_id = :uid AND r.item_type = 'track' AND r.item_id = t.id
 LEFT JOIN user_track_plays p ON p.user_id = :uid AND p.track_id = t.id
"""

# The other artists of an album's tracks and its plays by everyone, which no search result shows: `brief` leaves
# them out (they were most of the cost of hydrating albums at 100k tracks).
_ALBUM_TOTALS = """(SELECT json_group_array(json_array(id, name)) FROM (SELECT a.id, a.name FROM tracks t
   JOIN track_artists ta ON ta.track_id = t.id JOIN artists a ON a.id = ta.artist_id
   WHERE t.album_id = al.id AND a.id <> al.album_artist_id
   GROUP BY a.id ORDER BY count(*) DESC, min(coalesce(t.disc_number, 0) * 10000 + coalesce(t.track_number, 0))))
   AS artists_js,
 (SELECT coalesce(sum(t.play_count), 0) FROM tracks t WHERE t.album_id = al.id) AS play_count,"""
_ALBUM_SELECT_TEMPLATE = """
SELECT al.id, al.name, aa.id AS aa_id, aa.name AS aa_name, al.compilation, al.year, al.release_date,
 al.cover_id, al.track_count, al.duration, al.disc_total, al.mbid, al.created_at,
 (SELECT json_group_array(name) FROM (SELECT g.name FROM album_genres ag JOIN genres g ON g.id = ag.genre_id
   WHERE ag.album_id = al.id ORDER BY ag.position)) AS genres_js,
 {_ALBUM_TOTALS}
 s.created_at AS saved_at, r.rating,
 CASE WHEN :uid IS NOT NULL THEN (SELECT json_array(sum(p.play_count), max(p.last_played_at)) FROM tracks t
   CROSS JOIN user_track_plays p ON p.user_id = :uid AND p.track_id = t.id WHERE t.album_id = al.id) END AS plays_js
FROM albums al
 JOIN artists aa ON aa.id = al.album_artist_id
 LEFT JOIN saved_items s ON s.user_id = :uid AND s.item_type = 'album' AND s.item_id = al.id
 LEFT JOIN ratings r ON r.user_id = :uid AND r.item_type = 'album' AND r.item_id = al.id
"""
_ALBUM_SELECT = _ALBUM_SELECT_TEMPLATE.replace("{_ALBUM_TOTALS}", _ALBUM_TOTALS)
_ALBUM_SELECT_BRIEF = _ALBUM_SELECT_TEMPLATE.replace("{_ALBUM_TOTALS}", "NULL AS artists_js, 0 AS play_count,")


# The CROSS JOINs keep SQLite's planner from walking all of the user's plays for each album or artist
# (it did: 2 s for a page of 50 albums once the user had played 20,000 tracks).
_ARTIST_COLUMNS = """
SELECT a.id, a.name, a.sort_name, a.mbid,
 coalesce(a.cover_id, a.fallback_cover_id) AS cover_id, a.album_count, a.track_count,
 s.created_at AS saved_at, r.rating,
 CASE WHEN :uid IS NOT NULL THEN (SELECT json_array(sum(p.play_count), max(p.last_played_at))
   FROM track_artists ta CROSS JOIN user_track_plays p ON p.user_id = :uid AND p.track_id = ta.track_id
   WHERE ta.artist_id = a.id) END AS plays_js
"""
_ARTIST_COLUMNS_NO_PLAYS = _ARTIST_COLUMNS[:_ARTIST_COLUMNS.index("CASE WHEN")] + "NULL AS plays_js\n"
_ARTIST_GENRES = """,
 (SELECT json_group_array(name) FROM (SELECT g.name FROM track_artists ta JOIN track_genres tg
   ON tg.track_id = ta.track_id JOIN genres g ON g.id = tg.genre_id WHERE ta.artist_id = a.id
   GROUP BY g.id ORDER BY count(*) DESC, g.name LIMIT 5)) AS genres_js
"""
_ARTIST_FROM = """
FROM artists a
 LEFT JOIN saved_items s ON s.user_id = :uid AND s.item_type = 'artist' AND s.item_id = a.id
 LEFT JOIN ratings r ON r.user_id = :uid AND r.item_type = 'artist' AND r.item_id = a.id
"""


def _state(saved_at: str | None, rating: int | None, plays: int | None, last: str | None) -> ItemState:
    return ItemState(saved_at=saved_at, rating=rating, play_count=plays or 0, last_played_at=last)


def _plays(js: str | None) -> tuple[int | None, str | None]:
    if not js:
        return None, None
    n, last = json.loads(js)
    return n, last


def _refs(js: str | None) -> list[ArtistRef]:
    return [ArtistRef(id=i, name=n) for i, n in json.loads(js)] if js else []


@functools.cache
def _positions(keys: tuple[str, ...]) -> dict[str, int]:
    return {k: i for i, k in enumerate(keys)}


def _positions_of(rows: Sequence[sqlite3.Row]) -> dict[str, int] | None:
    """The column positions shared by every row of one result."""
    return _positions(tuple(rows[0].keys())) if rows else None


class _ByName:
    """Column access by name at tuple speed: sqlite3.Row looks names up by a linear, case-insensitive scan
    (0.3 µs each, measured), which made building 100 TrackViews cost about 1 ms."""

    __slots__ = ("_pos", "_values")

    def __init__(self, r: sqlite3.Row, pos: dict[str, int] | None = None) -> None:
        # `pos` from `_positions_of`, once per result: row.keys() builds a new list for every row.
        self._pos = pos if pos is not None else _positions(tuple(r.keys()))
        self._values = tuple(r)

    def __getitem__(self, name: str) -> Any:
        return self._values[self._pos[name]]

    def __contains__(self, name: str) -> bool:
        return name in self._pos


def track_from_row(row: sqlite3.Row, pos: dict[str, int] | None = None) -> TrackView:
    """A TrackView from a row of the track select."""
    r = _ByName(row, pos)
    return TrackView(
        id=r["id"], title=r["title"], artist_display=r["artist_display"], artists=_refs(r["artists_js"]),
        album_id=r["album_id"], album_name=r["album_name"], album_artist=ArtistRef(id=r["aa_id"], name=r["aa_name"]),
        compilation=bool(r["compilation"]), track_number=r["track_number"], track_total=r["track_total"],
        disc_number=r["disc_number"], disc_total=r["disc_total"], disc_subtitle=r["disc_subtitle"], year=r["year"],
        genres=json.loads(r["genres_js"]), duration=r["duration"], format=r["format"], size=r["size"],
        bitrate=r["bitrate"], sample_rate=r["sample_rate"], channels=r["channels"], bit_depth=r["bit_depth"],
        rel_path=r["rel_path"], cover_id=r["cover_id"], has_lyrics=bool(r["has_lyrics"]), isrc=r["isrc"],
        mbid_recording=r["mbid_recording"], rg_track_gain=r["rg_track_gain"], rg_track_peak=r["rg_track_peak"],
        rg_album_gain=r["rg_album_gain"], rg_album_peak=r["rg_album_peak"], bpm=r["bpm"], comment=r["comment"],
        play_count=r["play_count"], created_at=r["created_at"],
        state=_state(r["saved_at"], r["rating"], r["user_plays"], r["last_played_at"]),
    )


def album_from_row(row: sqlite3.Row, pos: dict[str, int] | None = None) -> AlbumView:
    """An AlbumView from a row of the album select."""
    r = _ByName(row, pos)
    artist = ArtistRef(id=r["aa_id"], name=r["aa_name"])
    return AlbumView(
        id=r["id"], name=r["name"], artist=artist, artists=[artist, *_refs(r["artists_js"])],
        compilation=bool(r["compilation"]), year=r["year"], genres=json.loads(r["genres_js"]),
        cover_id=r["cover_id"], track_count=r["track_count"], duration=r["duration"], disc_total=r["disc_total"],
        mbid=r["mbid"], play_count=r["play_count"], created_at=r["created_at"],
        state=_state(r["saved_at"], r["rating"], *_plays(r["plays_js"])), release_date=r["release_date"],
    )


def artist_from_row(row: sqlite3.Row, pos: dict[str, int] | None = None) -> ArtistView:
    """An ArtistView from a row of the artist select (genres only when the row has them)."""
    r = _ByName(row, pos)
    return ArtistView(
        id=r["id"], name=r["name"], sort_name=r["sort_name"], album_count=r["album_count"],
        track_count=r["track_count"], cover_id=r["cover_id"], mbid=r["mbid"],
        state=_state(r["saved_at"], r["rating"], *_plays(r["plays_js"])),
        genres=json.loads(r["genres_js"]) if "genres_js" in r else [],
    )


class BrowseRepository(ListQueries):
    """Read queries of the catalogue; nothing here writes."""

    # ---- hydration by ids: one query each, results in the order asked, None for unknown ids ----

    async def tracks(self, ids: Sequence[str], user_id: str | None) -> list[TrackView | None]:
        """Tracks by id, in the order given; None where an id is unknown."""
        if not ids:
            return []
        rows = await self.db.fetchall(f"{_TRACK_SELECT} WHERE t.id IN ({_IDS})", {"uid": user_id,
                                                                                  "ids": json.dumps(list(ids))})
        pos = _positions_of(rows)
        found = {r["id"]: track_from_row(r, pos) for r in rows}
        return [found.get(i) for i in ids]

    async def albums(self, ids: Sequence[str], user_id: str | None, *, brief: bool = False
                     ) -> list[AlbumView | None]:
        """Albums by id, in the order given; None where an id is unknown. `brief`: without the other artists of
        their tracks (`artists` holds the album artist alone) and their plays by everyone (`play_count` 0)."""
        if not ids:
            return []
        select = _ALBUM_SELECT_BRIEF if brief else _ALBUM_SELECT
        rows = await self.db.fetchall(f"{select} WHERE al.id IN ({_IDS})", {"uid": user_id,
                                                                            "ids": json.dumps(list(ids))})
        pos = _positions_of(rows)
        found = {r["id"]: album_from_row(r, pos) for r in rows}
        return [found.get(i) for i in ids]

    async def artists(self, ids: Sequence[str], user_id: str | None, *, brief: bool = False
                      ) -> list[ArtistView | None]:
        """Artists by id, in the order given; None where an id is unknown. `brief`: without their genres and the
        user's plays of them (summed over every track of the artist: most of the query for a prolific one)."""
        if not ids:
            return []
        columns = _ARTIST_COLUMNS_NO_PLAYS if brief else _ARTIST_COLUMNS + _ARTIST_GENRES
        rows = await self.db.fetchall(
            f"{columns}{_ARTIST_FROM} WHERE a.id IN ({_IDS})",
            {"uid": user_id, "ids": json.dumps(list(ids))},
        )
        pos = _positions_of(rows)
        found = {r["id"]: artist_from_row(r, pos) for r in rows}
        return [found.get(i) for i in ids]

    async def all_artists(self, user_id: str | None, album_artists_only: bool = False,
                          plays: bool = True) -> list[ArtistView]:
        """Every artist (or only those with albums of their own), unsorted; without `plays`, play counts
        stay 0 (summing every artist's plays over all their tracks is most of the query at 100k tracks)."""
        where = " WHERE a.album_count > 0" if album_artists_only else ""
        columns = _ARTIST_COLUMNS if plays else _ARTIST_COLUMNS_NO_PLAYS
        rows = await self.db.fetchall(f"{columns}{_ARTIST_FROM}{where}", {"uid": user_id})
        pos = _positions_of(rows)
        return [artist_from_row(r, pos) for r in rows]

    async def catalogue_version(self) -> int:
        """A number that changes whenever a scan has changed the catalogue (artists, albums, tracks)."""
        return int(await self._scalar("SELECT version FROM catalogue_version") or 0)

    async def artist_states(self, user_id: str) -> dict[str, ItemState]:
        """The user's stars and ratings of artists, by artist id (play counts left at 0)."""
        rows = await self.db.fetchall(
            "SELECT item_id, max(saved_at), max(rating) FROM ("
            " SELECT item_id, created_at AS saved_at, NULL AS rating FROM saved_items"
            "  WHERE user_id = :uid AND item_type = 'artist'"
            " UNION ALL SELECT item_id, NULL, rating FROM ratings WHERE user_id = :uid AND item_type = 'artist')"
            " GROUP BY item_id", {"uid": user_id})
        return {r[0]: _state(r[1], r[2], None, None) for r in rows}

    # ---- small lookups ----

    async def track_file(self, track_id: str) -> tuple[str, str, int, int] | None:
        row = await self.db.fetchone("SELECT path, format, size, mtime_ns FROM tracks WHERE id = ?", (track_id,))
        return (row[0], row[1], row[2], row[3]) if row else None

    async def cover(self, cover_id: str) -> str | None:
        """The mime type of a stored cover, None when there is no such cover."""
        return await self._scalar("SELECT mime FROM covers WHERE id = ?", (cover_id,))

    async def kind_of(self, item_id: str) -> str | None:
        """Whether an id names a track, an album or an artist."""
        return await self._scalar(
            "SELECT 'track' FROM tracks WHERE id = :id UNION ALL SELECT 'album' FROM albums WHERE id = :id"
            " UNION ALL SELECT 'artist' FROM artists WHERE id = :id LIMIT 1", {"id": item_id},
        )

    async def existing(self, kind: str, ids: Sequence[str]) -> set[str]:
        """Which of `ids` exist as `kind` ("track", "album", "artist", "user")."""
        table = {"track": "tracks", "album": "albums", "artist": "artists", "user": "users"}[kind]
        rows = await self.db.fetchall(f"SELECT id FROM {table} WHERE id IN ({_IDS})", {"ids": json.dumps(list(ids))})
        return {r[0] for r in rows}

    async def genres(self) -> list[GenreCount]:
        rows = await self.db.fetchall(
            "SELECT g.name, (SELECT count(*) FROM track_genres tg WHERE tg.genre_id = g.id),"
            " (SELECT count(*) FROM album_genres ag WHERE ag.genre_id = g.id) FROM genres g"
            " ORDER BY fold(g.name), g.name"
        )
        return [GenreCount(name=r[0], track_count=r[1], album_count=r[2]) for r in rows]

    async def genre_id(self, name: str) -> int | None:
        return await self._scalar("SELECT id FROM genres WHERE name = ?", (name,))

    async def counts(self) -> dict[str, Any]:
        row = await self.db.fetchone(
            "SELECT (SELECT count(*) FROM tracks), (SELECT count(*) FROM albums), (SELECT count(*) FROM artists),"
            " (SELECT count(*) FROM genres), (SELECT coalesce(sum(duration), 0) FROM tracks),"
            " (SELECT coalesce(sum(size), 0) FROM tracks)"
        )
        assert row is not None
        return dict(zip(("tracks", "albums", "artists", "genres", "duration", "size"), row, strict=True))
