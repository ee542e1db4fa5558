"""What this server offers its peers: its catalogue by keyset pages, the change log, shared playlists, plays.

Rows come out as plain dicts shaped like `musicd.domain.federation.TrackItem`, so the service converts
them without another mapping layer.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

from musicd.store.db import Database

__all__ = ["FedExportRepository"]

_IDS = "SELECT value FROM json_each(?)"

_ITEM = """
SELECT t.id, t.title, t.artist_display,
 (SELECT json_group_array(json_array(id, name)) FROM (SELECT a.id, a.name FROM track_artists ta
   JOIN artists a ON a.id = ta.artist_id WHERE ta.track_id = t.id ORDER BY ta.position)) AS artists_js,
 t.album_id, al.name, aa.id, aa.name, t.duration, t.format, t.size, al.compilation,
 t.track_number, t.track_total, t.disc_number, coalesce(t.disc_total, al.disc_total), coalesce(t.year, al.year),
 (SELECT json_group_array(name) FROM (SELECT g.name FROM track_genres tg JOIN genres g ON g.id = tg.genre_id
   WHERE tg.track_id = t.id ORDER BY tg.position)) AS genres_js,
 t.bitrate, t.sample_rate, t.channels, t.bit_depth, t.isrc, t.mbid_recording, al.mbid
FROM tracks t JOIN albums al ON al.id = t.album_id JOIN artists aa ON aa.id = al.album_artist_id
"""


def _item(r: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": r[0], "title": r[1], "artist": r[2], "artists": json.loads(r[3]) if r[3] else [], "album_id": r[4],
        "album": r[5], "album_artist_id": r[6], "album_artist": r[7], "duration": r[8], "format": r[9],
        "size": r[10], "compilation": bool(r[11]), "track_number": r[12], "track_total": r[13],
        "disc_number": r[14], "disc_total": r[15], "year": r[16], "genres": json.loads(r[17]) if r[17] else [],
        "bitrate": r[18], "sample_rate": r[19], "channels": r[20], "bit_depth": r[21], "isrc": r[22],
        "mbid": r[23], "album_mbid": r[24],
    }


class FedExportRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def head(self) -> int:
        """The newest change seq (0 before any change)."""
        row = await self.db.fetchone("SELECT coalesce(max(seq), 0) FROM fed_changes")
        return int(row[0]) if row else 0

    async def track_count(self) -> int:
        row = await self.db.fetchone("SELECT count(*) FROM tracks")
        return int(row[0]) if row else 0

    async def catalog_page(self, after: str, limit: int) -> list[dict[str, Any]]:
        """Tracks with an id greater than `after`, by id (a keyset page: stable while the catalogue changes)."""
        rows = await self.db.fetchall(f"{_ITEM} WHERE t.id > ? ORDER BY t.id LIMIT ?", (after, limit))
        return [_item(r) for r in rows]

    async def items(self, track_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        rows = await self.db.fetchall(f"{_ITEM} WHERE t.id IN ({_IDS})", (json.dumps(list(track_ids)),))
        return {r[0]: _item(r) for r in rows}

    async def changes(self, since: int, limit: int) -> list[tuple[int, str, bool]]:
        """(seq, track id, deleted) of the changes after `since`, oldest first."""
        rows = await self.db.fetchall("SELECT seq, track_id, deleted FROM fed_changes WHERE seq > ?"
                                      " ORDER BY seq LIMIT ?", (since, limit))
        return [(int(r[0]), r[1], bool(r[2])) for r in rows]

    async def playlist_tracks(self, playlist_ids: Sequence[str]) -> dict[str, list[str]]:
        """The track ids of these playlists, in order."""
        rows = await self.db.fetchall(
            f"SELECT playlist_id, track_id FROM playlist_entries WHERE playlist_id IN ({_IDS})"
            " ORDER BY playlist_id, order_key", (json.dumps(list(playlist_ids)),))
        out: dict[str, list[str]] = {p: [] for p in playlist_ids}
        for r in rows:
            out[r[0]].append(r[1])
        return out

    async def last_play(self, user_id: str) -> tuple[str, str] | None:
        """(track id, played at) of the user's last play, if any."""
        row = await self.db.fetchone("SELECT track_id, played_at FROM listening_history WHERE user_id = ?"
                                     " ORDER BY played_at DESC, id DESC LIMIT 1", (user_id,))
        return (row[0], row[1]) if row else None
