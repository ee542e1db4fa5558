"""Album aggregates, derived from the album's tracks: what a scan's finalize step recomputes."""

from __future__ import annotations

import aiosqlite

from musicd.store.artist_totals import recompute_artist_totals

__all__ = ["MARKED_ALBUMS", "recompute_marked_albums"]

# Albums changed since the last complete scan (see CatalogRepository).
MARKED_ALBUMS = "SELECT album_id FROM scan_dirty_albums"


async def recompute_marked_albums(conn: aiosqlite.Connection, now: str) -> int:
    """Recompute the aggregates of every marked album (counts, discs, year, genres, cover), drop empty
    albums and orphan artists and genres, recompute the artists' aggregates (`recompute_artist_totals`),
    inside the caller's transaction; return how many were marked.

    Every value is a function of the tracks alone (ties broken by name or path, never by the order
    rows were written in), so an album comes out the same whichever scan, or how many, wrote it.
    """
    async with conn.execute(f"SELECT count(*) FROM ({MARKED_ALBUMS})") as cur:
        row = await cur.fetchone()
    done = int(row[0]) if row else 0
    if not done:
        return 0
    await conn.execute(
        "UPDATE albums SET"
        " track_count = (SELECT count(*) FROM tracks t WHERE t.album_id = albums.id),"
        # Summed in a fixed order: float addition is not associative.
        " duration = (SELECT total(d) FROM (SELECT t.duration AS d FROM tracks t"
        "   WHERE t.album_id = albums.id ORDER BY d)),"
        " disc_total = (SELECT max(max(coalesce(disc_number, 1)), max(coalesce(disc_total, 1)))"
        "   FROM tracks t WHERE t.album_id = albums.id),"
        " year = (SELECT year FROM tracks t WHERE t.album_id = albums.id AND year IS NOT NULL"
        "   GROUP BY year ORDER BY count(*) DESC, year DESC LIMIT 1),"
        " release_date = (SELECT min(release_date) FROM tracks t WHERE t.album_id = albums.id),"
        " cover_id = (SELECT t.cover_id FROM tracks t JOIN covers c ON c.id = t.cover_id"
        "   WHERE t.album_id = albums.id"
        "   ORDER BY c.source = 'embedded' DESC, t.disc_number, t.track_number, t.path LIMIT 1),"
        " name_fold = fold(name), updated_at = ?"
        f" WHERE id IN ({MARKED_ALBUMS})",
        (now,),
    )
    await conn.execute(f"DELETE FROM album_genres WHERE album_id IN ({MARKED_ALBUMS})")
    # Most tracks first, then the genre tagged first on any track, then the name.
    await conn.execute(
        "INSERT INTO album_genres (album_id, genre_id, position)"
        " SELECT t.album_id, tg.genre_id,"
        "  row_number() OVER (PARTITION BY t.album_id"
        "   ORDER BY count(*) DESC, min(tg.position), g.name COLLATE NOCASE, g.name)"
        " FROM tracks t JOIN track_genres tg ON tg.track_id = t.id JOIN genres g ON g.id = tg.genre_id"
        f" WHERE t.album_id IN ({MARKED_ALBUMS}) GROUP BY t.album_id, tg.genre_id",
    )
    await conn.execute(f"DELETE FROM albums WHERE id IN ({MARKED_ALBUMS}) AND track_count = 0")
    await conn.execute(
        "DELETE FROM artists WHERE NOT EXISTS (SELECT 1 FROM track_artists ta WHERE ta.artist_id = artists.id)"
        " AND NOT EXISTS (SELECT 1 FROM albums a WHERE a.album_artist_id = artists.id)"
    )
    await recompute_artist_totals(conn)
    await conn.execute(
        "DELETE FROM genres WHERE NOT EXISTS (SELECT 1 FROM track_genres tg WHERE tg.genre_id = genres.id)"
    )
    return done
