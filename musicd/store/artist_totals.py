"""Artist aggregates stored on the artist (album and track counts, the cover shown when it has none):
derived from albums and tracks, recomputed by the scan's finalize step with the album aggregates.

Reading them per artist in every artist list cost getArtists about 35 ms of CPU at 100k tracks.
"""

from __future__ import annotations

import aiosqlite

__all__ = ["ARTIST_TOTALS", "recompute_artist_totals"]

# The aggregates of one artist `a` (the same subqueries migrations/0044_browse_totals.sql filled them with).
ARTIST_TOTALS = """
 (SELECT count(*) FROM albums al WHERE al.album_artist_id = a.id) AS album_count,
 (SELECT count(*) FROM track_artists ta WHERE ta.artist_id = a.id) AS track_count,
 coalesce(
   (SELECT al.cover_id FROM albums al WHERE al.album_artist_id = a.id AND al.cover_id IS NOT NULL
     ORDER BY al.year DESC, al.name, al.id LIMIT 1),
   (SELECT t.cover_id FROM track_artists ta JOIN tracks t ON t.id = ta.track_id
     WHERE ta.artist_id = a.id AND t.cover_id IS NOT NULL ORDER BY t.path LIMIT 1)) AS fallback_cover_id
"""


async def recompute_artist_totals(conn: aiosqlite.Connection) -> int:
    """Recompute every artist's stored aggregates inside the caller's transaction, writing only the rows
    whose values changed, and bump the catalogue version (what caches of catalogue lists follow); return
    how many artists changed.

    Every artist, not only those of the albums a scan touched: a retagged track leaves no trace of the
    artist it credited before, and the whole pass costs tens of milliseconds at 100k tracks.
    """
    cur = await conn.execute(
        "UPDATE artists SET album_count = c.album_count, track_count = c.track_count,"
        " fallback_cover_id = c.fallback_cover_id"
        f" FROM (SELECT a.id, {ARTIST_TOTALS} FROM artists a) AS c"
        " WHERE c.id = artists.id AND (artists.album_count IS NOT c.album_count"
        "  OR artists.track_count IS NOT c.track_count OR artists.fallback_cover_id IS NOT c.fallback_cover_id)"
    )
    await conn.execute("UPDATE catalogue_version SET version = version + 1")
    return cur.rowcount
