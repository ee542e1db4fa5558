"""The web player's whole-library grids: album ids sorted and filtered (artist, year, genre, recently added)
and every track of the library in an order, a page at a time. Names sort folded (`fold()`, see db.py)."""

from __future__ import annotations

from typing import Any

from musicd.store.db import Database

__all__ = ["ALBUM_SORTS", "TRACK_SORTS", "LibraryGridRepository"]

_ARTIST = "(SELECT coalesce(sort_name, name) FROM artists WHERE id = al.album_artist_id)"
ALBUM_SORTS = {
    "name": "fold(al.name), al.name, al.id",
    "artist": f"fold({_ARTIST}), al.year, fold(al.name), al.id",
    "year": "al.year IS NULL, al.year DESC, fold(al.name), al.id",
    "added": "al.created_at DESC, al.id",
}
TRACK_SORTS = {
    "title": "fold(t.title), t.title, t.id",
    "artist": "fold(t.artist_display), fold(al.name), coalesce(t.disc_number, 0), coalesce(t.track_number, 0), t.id",
    "album": "fold(al.name), al.id, coalesce(t.disc_number, 0), coalesce(t.track_number, 0), t.id",
    "added": "t.created_at DESC, t.id",
}


class LibraryGridRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def _page(self, frm: str, where: str, order: str, params: dict[str, Any], select: str
                    ) -> tuple[list[str], int]:
        rows = await self.db.fetchall(
            f"SELECT {select}, count(*) OVER () FROM {frm} {where} ORDER BY {order} LIMIT :limit OFFSET :offset",
            params)
        if rows:
            return [r[0] for r in rows], int(rows[0][1])
        row = await self.db.fetchone(f"SELECT count(*) FROM {frm} {where}", params)
        return [], int(row[0]) if row else 0

    async def album_page(self, sort: str, genre: str | None, year_from: int | None, year_to: int | None,
                         limit: int, offset: int) -> tuple[list[str], int]:
        """Album ids of one page in `sort` (a key of ALBUM_SORTS), of a genre and a span of years if given."""
        where, params = [], {"limit": limit, "offset": offset, "genre": genre, "lo": year_from, "hi": year_to}
        if genre:
            where.append("al.id IN (SELECT ag.album_id FROM album_genres ag JOIN genres g ON g.id = ag.genre_id"
                         " WHERE g.name = :genre COLLATE NOCASE)")
        if year_from is not None:
            where.append("al.year >= :lo")
        if year_to is not None:
            where.append("al.year <= :hi")
        cond = f"WHERE {' AND '.join(where)}" if where else ""
        return await self._page("albums al", cond, ALBUM_SORTS[sort], params, "al.id")

    async def track_page(self, sort: str, limit: int, offset: int) -> tuple[list[str], int]:
        """Track ids of one page of the whole library in `sort` (a key of TRACK_SORTS)."""
        return await self._page("tracks t JOIN albums al ON al.id = t.album_id", "", TRACK_SORTS[sort],
                                {"limit": limit, "offset": offset}, "t.id")

    async def years(self) -> list[int]:
        """The years albums of the library are from, newest first."""
        rows = await self.db.fetchall("SELECT DISTINCT year FROM albums WHERE year IS NOT NULL ORDER BY year DESC")
        return [int(r[0]) for r in rows]
