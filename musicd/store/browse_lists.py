"""List queries of the catalogue: each picks one page of ids (and the total) for the hydration in browse.py."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from musicd.store.db import Database
from musicd.store.sampling import random_ids

__all__ = ["IdPage", "ListQueries"]

IdPage = tuple[list[str], int]  # ids of one page, in order, and the size of the whole list


class ListQueries:
    """Pages of track, album and artist ids; BrowseRepository turns them into read models."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def _id_page(self, sql: str, params: Mapping[str, Any], count_sql: str) -> IdPage:
        """Ids of one page (`sql` selects `id`, ordered and limited) with the total from `count_sql`, one query."""
        rows = await self.db.fetchall(f"SELECT id, ({count_sql}) FROM ({sql})", params)
        if rows:
            return [r[0] for r in rows], int(rows[0][1])
        row = await self.db.fetchone(count_sql, params)
        return [], int(row[0]) if row else 0

    async def _ids(self, sql: str, params: Mapping[str, Any]) -> list[str]:
        return [r[0] for r in await self.db.fetchall(sql, params)]

    async def _scalar(self, sql: str, params: Mapping[str, Any] | Sequence[Any] = ()) -> Any:
        row = await self.db.fetchone(sql, params)
        return row[0] if row else None

    async def album_page(
        self, kind: str, user_id: str | None, limit: int, offset: int,
        from_year: int | None = None, to_year: int | None = None, genre: str | None = None,
    ) -> IdPage:
        """Album ids of one page of a Subsonic-style album list (`kind` as in getAlbumList2)."""
        p: dict[str, Any] = {"uid": user_id, "limit": limit, "offset": offset, "genre": genre}
        lim = "LIMIT :limit OFFSET :offset"
        count_all = "SELECT count(*) FROM albums"
        if kind == "random":
            return await random_ids(self.db, "albums", limit)
        if kind == "newest":
            return await self._id_page(f"SELECT id FROM albums ORDER BY created_at DESC, id {lim}", p, count_all)
        if kind == "alphabeticalByName":
            return await self._id_page(
                f"SELECT id FROM albums ORDER BY name_fold, name, id {lim}", p, count_all)
        if kind == "alphabeticalByArtist":
            return await self._id_page(
                "SELECT al.id AS id FROM albums al JOIN artists aa ON aa.id = al.album_artist_id"
                " ORDER BY fold(coalesce(aa.sort_name, aa.name)), coalesce(aa.sort_name, aa.name), al.year,"
                f" fold(al.name), al.name, al.id {lim}",
                p, count_all)
        if kind == "byYear":
            lo, hi = from_year or 0, to_year or 9999
            p.update(lo=min(lo, hi), hi=max(lo, hi))
            order = "DESC" if lo > hi else "ASC"
            where = "WHERE year BETWEEN :lo AND :hi"
            return await self._id_page(
                f"SELECT id FROM albums {where} ORDER BY year {order}, fold(name), name, id {lim}", p,
                f"SELECT count(*) FROM albums {where}")
        if kind == "byGenre":
            frm = "FROM album_genres ag JOIN genres g ON g.id = ag.genre_id JOIN albums al ON al.id = ag.album_id" \
                  " WHERE g.name = :genre"
            return await self._id_page(f"SELECT al.id AS id {frm} ORDER BY fold(al.name), al.name, al.id {lim}", p,
                                       f"SELECT count(*) {frm}")
        if kind == "starred":
            frm = "FROM saved_items WHERE user_id = :uid AND item_type = 'album'"
            return await self._id_page(
                f"SELECT item_id AS id {frm} ORDER BY created_at DESC, item_id {lim}", p, f"SELECT count(*) {frm}")
        if kind == "highest":
            frm = "FROM ratings r JOIN albums al ON al.id = r.item_id WHERE r.user_id = :uid AND r.item_type = 'album'"
            return await self._id_page(
                f"SELECT al.id AS id {frm} ORDER BY r.rating DESC, fold(al.name), al.name, al.id {lim}", p,
                f"SELECT count(*) {frm}")
        if kind in ("frequent", "recent"):
            if user_id is None:  # nobody asking: everyone's plays
                plays = "SELECT album_id AS id, sum(play_count) AS n, max(last_played_at) AS last FROM tracks" \
                        " WHERE play_count > 0 GROUP BY album_id"
            else:
                plays = "SELECT t.album_id AS id, sum(p.play_count) AS n, max(p.last_played_at) AS last" \
                        " FROM user_track_plays p JOIN tracks t ON t.id = p.track_id WHERE p.user_id = :uid" \
                        " GROUP BY t.album_id"
            order = "n DESC, last DESC" if kind == "frequent" else "last DESC"
            return await self._id_page(f"SELECT id FROM ({plays}) ORDER BY {order}, id {lim}", p,
                                       f"SELECT count(*) FROM ({plays})")
        raise ValueError(f"unknown album list kind {kind!r}")

    async def album_track_ids(self, album_id: str) -> list[str]:
        """The album's tracks in play order: disc, track number, then path."""
        return await self._ids(
            "SELECT id FROM tracks WHERE album_id = :id ORDER BY coalesce(disc_number, 0), coalesce(track_number, 0),"
            " path", {"id": album_id})

    async def albums_track_ids(self, album_ids: Sequence[str]) -> dict[str, list[str]]:
        """Each album's tracks in play order (as `album_track_ids`), for several albums in one query."""
        rows = await self.db.fetchall(
            "SELECT album_id, id FROM tracks WHERE album_id IN (SELECT value FROM json_each(:ids))"
            " ORDER BY album_id, coalesce(disc_number, 0), coalesce(track_number, 0), path",
            {"ids": json.dumps(list(album_ids))})
        out: dict[str, list[str]] = {}
        for album_id, track_id in rows:
            out.setdefault(album_id, []).append(track_id)
        return out

    async def all_track_page(self, limit: int, offset: int) -> IdPage:
        """Every track, album by album (albums by name), in play order: for clients that sync everything."""
        return await self._id_page(
            "SELECT t.id AS id FROM tracks t JOIN albums al ON al.id = t.album_id"
            " ORDER BY fold(al.name), al.name, al.id, coalesce(t.disc_number, 0), coalesce(t.track_number, 0),"
            " t.path LIMIT :limit OFFSET :offset",
            {"limit": limit, "offset": offset}, "SELECT count(*) FROM tracks")

    async def artist_album_page(self, artist_id: str, groups: Sequence[str], limit: int, offset: int) -> IdPage:
        """Albums of an artist: "album" (they are the album artist) first, then "appears_on" (credited on tracks)."""
        parts = []
        if "album" in groups:
            parts.append("SELECT id, 0 AS grp, year, name FROM albums WHERE album_artist_id = :id")
        if "appears_on" in groups:
            parts.append(
                "SELECT al.id, 1 AS grp, al.year, al.name FROM albums al WHERE al.album_artist_id <> :id AND al.id IN"
                " (SELECT t.album_id FROM track_artists ta JOIN tracks t ON t.id = ta.track_id"
                " WHERE ta.artist_id = :id)")
        if not parts:
            return [], 0
        union = " UNION ALL ".join(parts)
        return await self._id_page(
            f"SELECT id FROM ({union}) ORDER BY grp, year DESC, fold(name), name, id LIMIT :limit OFFSET :offset",
            {"id": artist_id, "limit": limit, "offset": offset}, f"SELECT count(*) FROM ({union})")

    async def artist_top_track_ids(self, artist_id: str, limit: int) -> list[str]:
        """Tracks the artist is credited on, most played first, then the newest albums."""
        return await self._ids(
            "SELECT t.id FROM track_artists ta JOIN tracks t ON t.id = ta.track_id JOIN albums al ON al.id = t.album_id"
            " WHERE ta.artist_id = :id ORDER BY t.play_count DESC, al.year DESC, ta.role = 'featured',"
            " coalesce(t.disc_number, 0), coalesce(t.track_number, 0), t.id LIMIT :limit",
            {"id": artist_id, "limit": limit})

    async def related_artist_ids(self, artist_id: str, limit: int) -> list[str]:
        """Artists credited on the same tracks (strongly), then album artists sharing genres with their albums."""
        # Genres are compared album by album (album_genres is small), so a big genre costs little.
        return await self._ids(
            "WITH mine AS (SELECT track_id FROM track_artists WHERE artist_id = :id),"
            " my_albums AS (SELECT DISTINCT t.album_id FROM tracks t JOIN mine ON mine.track_id = t.id"
            "   UNION SELECT id FROM albums WHERE album_artist_id = :id),"
            " my_genres AS (SELECT ag.genre_id, count(*) AS w FROM album_genres ag JOIN my_albums m"
            "   ON m.album_id = ag.album_id GROUP BY ag.genre_id),"
            " scored AS ("
            "   SELECT ta.artist_id, 50 AS w FROM track_artists ta JOIN mine USING (track_id)"
            "   UNION ALL SELECT al.album_artist_id, g.w FROM my_genres g JOIN album_genres ag"
            "   ON ag.genre_id = g.genre_id JOIN albums al ON al.id = ag.album_id)"
            " SELECT s.artist_id FROM scored s JOIN artists a ON a.id = s.artist_id WHERE s.artist_id <> :id"
            " AND a.name_key <> 'various artists' GROUP BY s.artist_id ORDER BY sum(s.w) DESC, s.artist_id"
            " LIMIT :limit",
            {"id": artist_id, "limit": limit})

    async def random_track_ids(
        self, size: int, genre: str | None = None, from_year: int | None = None, to_year: int | None = None,
    ) -> list[str]:
        """Random tracks, optionally of a genre and within years (inclusive, either bound may be missing)."""
        if genre is None and from_year is None and to_year is None:
            return (await random_ids(self.db, "tracks", size))[0]
        where, p = ["1"], {"size": size, "genre": genre, "lo": from_year, "hi": to_year}
        if genre is not None:
            where.append("t.id IN (SELECT tg.track_id FROM track_genres tg JOIN genres g ON g.id = tg.genre_id"
                         " WHERE g.name = :genre)")
        if from_year is not None:
            where.append("t.year >= :lo")
        if to_year is not None:
            where.append("t.year <= :hi")
        sql = f"SELECT t.id FROM tracks t WHERE {' AND '.join(where)} ORDER BY random() LIMIT :size"
        return await self._ids(sql, p)

    async def genre_track_page(self, genre: str, limit: int, offset: int) -> IdPage:
        """Tracks of a genre, by album then play order."""
        frm = "FROM track_genres tg JOIN genres g ON g.id = tg.genre_id JOIN tracks t ON t.id = tg.track_id" \
              " WHERE g.name = :genre"
        return await self._id_page(
            f"SELECT t.id AS id {frm} ORDER BY t.album_id, coalesce(t.disc_number, 0), coalesce(t.track_number, 0),"
            " t.id LIMIT :limit OFFSET :offset", {"genre": genre, "limit": limit, "offset": offset},
            f"SELECT count(*) {frm}")

    async def similar_track_ids(self, seed_kind: str, seed_id: str, size: int) -> list[str]:
        """Tracks sharing artists (strongly) or genres (weakly) with a track, album or artist; never the seed's own."""
        seed = {
            "track": "SELECT :id AS track_id",
            "album": "SELECT id AS track_id FROM tracks WHERE album_id = :id",
            "artist": "SELECT track_id FROM track_artists WHERE artist_id = :id",
        }[seed_kind]
        return await self._ids(
            f"WITH seed AS ({seed}),"
            " seed_artists AS (SELECT DISTINCT ta.artist_id FROM track_artists ta JOIN seed USING (track_id)),"
            " seed_genres AS (SELECT DISTINCT tg.genre_id FROM track_genres tg JOIN seed USING (track_id)),"
            " scored AS ("
            "   SELECT ta.track_id, 4 AS w FROM track_artists ta JOIN seed_artists USING (artist_id)"
            "   UNION ALL SELECT tg.track_id, 1 FROM track_genres tg JOIN seed_genres USING (genre_id))"
            " SELECT track_id FROM scored WHERE track_id NOT IN (SELECT track_id FROM seed)"
            " GROUP BY track_id ORDER BY sum(w) DESC, random() LIMIT :size",
            {"id": seed_id, "size": size})

    async def new_release_page(self, limit: int, offset: int) -> IdPage:
        """Albums most recently added to the library, newest release first among those added together."""
        return await self._id_page(
            "SELECT id FROM albums ORDER BY substr(created_at, 1, 16) DESC, coalesce(release_date, year) DESC, id"
            " LIMIT :limit OFFSET :offset", {"limit": limit, "offset": offset}, "SELECT count(*) FROM albums")

    async def genre_cover(self, genre: str) -> str | None:
        """A cover of one of the genre's albums, the most played with a cover first."""
        return await self._scalar(
            "SELECT al.cover_id FROM album_genres ag JOIN genres g ON g.id = ag.genre_id JOIN albums al"
            " ON al.id = ag.album_id WHERE g.name = ? AND al.cover_id IS NOT NULL ORDER BY ag.position, al.id LIMIT 1",
            (genre,))

    async def genre_categories(self) -> list[tuple[str, int, int, str | None]]:
        """(genre, track count, album count, a cover of one of its albums) for every genre, by name."""
        rows = await self.db.fetchall(
            "SELECT g.name, (SELECT count(*) FROM track_genres tg WHERE tg.genre_id = g.id),"
            " (SELECT count(*) FROM album_genres ag WHERE ag.genre_id = g.id),"
            " (SELECT al.cover_id FROM album_genres ag JOIN albums al ON al.id = ag.album_id"
            "   WHERE ag.genre_id = g.id AND al.cover_id IS NOT NULL ORDER BY ag.position, al.id LIMIT 1)"
            " FROM genres g ORDER BY fold(g.name), g.name"
        )
        return [(r[0], r[1], r[2], r[3]) for r in rows]

    async def most_played_track_ids(self, user_id: str | None, limit: int) -> list[str]:
        """The user's most played tracks (everyone's when `user_id` is None), the last played first among equals."""
        if user_id is None:
            return await self._ids(
                "SELECT id FROM tracks WHERE play_count > 0 ORDER BY play_count DESC, last_played_at DESC, id"
                " LIMIT :limit", {"limit": limit})
        return await self._ids(
            "SELECT p.track_id FROM user_track_plays p JOIN tracks t ON t.id = p.track_id WHERE p.user_id = :uid"
            " ORDER BY p.play_count DESC, p.last_played_at DESC, p.track_id LIMIT :limit",
            {"uid": user_id, "limit": limit})

    async def recently_added_track_ids(self, limit: int) -> list[str]:
        """The tracks added last, album by album in play order."""
        return await self._ids(
            "SELECT id FROM tracks ORDER BY substr(created_at, 1, 16) DESC, album_id, coalesce(disc_number, 0),"
            " coalesce(track_number, 0), id LIMIT :limit", {"limit": limit})

    async def genre_mix_track_ids(self, genre: str, limit: int, seed: int) -> list[str]:
        """A shuffle of the genre's tracks, the same for the same `seed` (2 .. 1000002)."""
        return await self._ids(
            "SELECT t.id FROM track_genres tg JOIN genres g ON g.id = tg.genre_id JOIN tracks t ON t.id = tg.track_id"
            " WHERE g.name = :genre ORDER BY (t.rowid * :seed) % 1000003, t.id LIMIT :limit",
            {"genre": genre, "limit": limit, "seed": seed})
