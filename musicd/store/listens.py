"""Listens from scrobblers and imports (table listens) and the users' ListenBrainz tokens.

Imports and rematches write their plays into listening_history here, in batches: one transaction stores
a batch of listens, skips those already stored (same user, time and identity), and appends a history row
and a play count for each new matched one, so a listen has its play exactly once, whatever is retried.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import msgspec

from musicd.store.db import Database, utc_now

__all__ = ["BatchResult", "ListenCounts", "ListenRepository", "ListenRow", "MatchRow", "TokenRecord", "TrackRow"]

# (user_id, listened_at, identity, artist, title, release, duration_ms, recording_mbid, isrc, source, client,
#  track_id, matched_by)
ListenRow = tuple[str, int, int, str, str, str | None, int | None, str | None, str | None, str, str | None,
                  str | None, str | None]
# (id, artist, title, release, duration_ms, recording_mbid, isrc) of a listen still unmatched
MatchRow = tuple[int, str, str, str | None, int | None, str | None, str | None]
# (id, title, artist_display, album name, duration s, isrc, mbid_recording, main artist names joined by \x1f)
TrackRow = tuple[str, str, str, str, float, str | None, str | None, str | None]

_LISTEN_COLS = ("user_id, listened_at, identity, artist, title, release, duration_ms, recording_mbid, isrc, source,"
                " client, track_id, matched_by, received_at")
# A history row for each matched listen of `listens AS l` picked by the WHERE that follows; the play lasted
# what the listen says, else the whole track.
_HISTORY_FROM_LISTENS = (
    "INSERT INTO listening_history (user_id, track_id, played_at, ms_played, context_uri, device_id)"
    " SELECT l.user_id, l.track_id, strftime('%Y-%m-%dT%H:%M:%S.000Z', l.listened_at, 'unixepoch'),"
    " coalesce(l.duration_ms, CAST(t.duration * 1000 AS INTEGER)), NULL,"
    " 'listenbrainz:' || coalesce(l.client, l.source)"
    " FROM listens l JOIN tracks t ON t.id = l.track_id WHERE "
)
_COUNTS_FROM_LISTENS = (
    "UPDATE tracks SET play_count = play_count + c.n, last_played_at = max(coalesce(last_played_at, ''), c.last)"
    " FROM (SELECT track_id, count(*) AS n,"
    " strftime('%Y-%m-%dT%H:%M:%S.000Z', max(listened_at), 'unixepoch') AS last"
    " FROM listens WHERE track_id IS NOT NULL AND {where} GROUP BY track_id) AS c WHERE tracks.id = c.track_id"
)


class TokenRecord(msgspec.Struct, frozen=True):
    user_id: str
    sealed: bytes
    created_at: str
    last_used_at: str | None


class BatchResult(msgspec.Struct, frozen=True):
    """Of a batch offered: how many were new, and how many of the new ones were matched."""

    inserted: int
    matched: int


class ListenCounts(msgspec.Struct, frozen=True):
    total: int
    matched: int
    unmatched: int
    last_listened_at: int | None


class ListenRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- tokens ----

    async def token_owner(self, token_hash: bytes) -> str | None:
        row = await self.db.fetchone("SELECT user_id FROM listenbrainz_tokens WHERE token_hash = ?", (token_hash,))
        return str(row[0]) if row else None

    async def token(self, user_id: str) -> TokenRecord | None:
        row = await self.db.fetchone(
            "SELECT user_id, token_sealed, created_at, last_used_at FROM listenbrainz_tokens WHERE user_id = ?",
            (user_id,),
        )
        return TokenRecord(row[0], bytes(row[1]), row[2], row[3]) if row else None

    async def set_token(self, user_id: str, token_hash: bytes, sealed: bytes) -> str:
        """Store the user's token, replacing the one they had (it stops working at once); its creation time."""
        now = utc_now()
        await self.db.execute(
            "INSERT INTO listenbrainz_tokens (user_id, token_hash, token_sealed, created_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (user_id) DO UPDATE SET token_hash = excluded.token_hash,"
            " token_sealed = excluded.token_sealed, created_at = excluded.created_at, last_used_at = NULL",
            (user_id, token_hash, sealed, now),
        )
        return now

    async def touch_token(self, user_id: str) -> None:
        await self.db.execute("UPDATE listenbrainz_tokens SET last_used_at = ? WHERE user_id = ?", (utc_now(), user_id))

    # ---- listens ----

    async def add(self, rows: Sequence[ListenRow], *, with_history: bool) -> BatchResult:
        """Store the listens not stored yet, in one transaction; with `with_history`, also the plays of the
        new matched ones (history rows and track play counts)."""
        if not rows:
            return BatchResult(0, 0)
        now = utc_now()
        async with self.db.transaction() as conn:
            # Rowids only grow inside this transaction (the write lock is held): the new rows are those past
            # the largest id before the insert, and rows already stored (ON CONFLICT) are not among them.
            async with conn.execute("SELECT coalesce(max(id), 0) FROM listens") as cur:
                before = (await cur.fetchone())[0]  # type: ignore[index]
            await conn.executemany(
                f"INSERT INTO listens ({_LISTEN_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (user_id, listened_at, identity) DO NOTHING",
                [(*r, now) for r in rows],
            )
            async with conn.execute("SELECT count(*), count(track_id) FROM listens WHERE id > ?", (before,)) as cur:
                inserted, matched = await cur.fetchone()  # type: ignore[misc]
            if with_history and matched:
                await conn.execute(_HISTORY_FROM_LISTENS + "l.id > ? ORDER BY l.id", (before,))
                await conn.execute(_COUNTS_FROM_LISTENS.format(where="id > ?"), (before,))
        return BatchResult(int(inserted), int(matched))

    async def unmatched(self, after_id: int, limit: int) -> list[MatchRow]:
        """Unmatched listens (of every user) with ids past `after_id`, in id order."""
        rows = await self.db.fetchall(
            "SELECT id, artist, title, release, duration_ms, recording_mbid, isrc FROM listens"
            " WHERE track_id IS NULL AND id > ? ORDER BY id LIMIT ?", (after_id, limit),
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]

    async def set_matches(self, matches: Sequence[tuple[int, str, str]]) -> int:
        """Record (listen id, track id, how) for listens still unmatched, and append their plays; how many."""
        if not matches:
            return 0
        payload = json.dumps([list(m) for m in matches])
        async with self.db.transaction() as conn:
            async with conn.execute(
                "UPDATE listens SET track_id = m.value ->> 1, matched_by = m.value ->> 2 FROM json_each(?) AS m"
                " WHERE listens.id = m.value ->> 0 AND listens.track_id IS NULL"
                " AND EXISTS (SELECT 1 FROM tracks WHERE tracks.id = m.value ->> 1) RETURNING listens.id",
                (payload,),
            ) as cur:
                ids = [r[0] for r in await cur.fetchall()]
            if ids:
                where = "id IN (SELECT value FROM json_each(?))"
                await conn.execute(_HISTORY_FROM_LISTENS + "l." + where + " ORDER BY l.id", (json.dumps(ids),))
                await conn.execute(_COUNTS_FROM_LISTENS.format(where=where), (json.dumps(ids),))
        return len(ids)

    async def counts(self, user_id: str) -> ListenCounts:
        row = await self.db.fetchone(
            "SELECT count(*), count(track_id), max(listened_at) FROM listens WHERE user_id = ?", (user_id,)
        )
        assert row is not None
        return ListenCounts(int(row[0]), int(row[1]), int(row[0]) - int(row[1]), row[2])

    async def unmatched_count(self) -> int:
        row = await self.db.fetchone("SELECT count(*) FROM listens WHERE track_id IS NULL")
        return int(row[0]) if row else 0

    # ---- the library, for matching ----

    async def tracks(self) -> list[TrackRow]:
        """Every track with what a listen may name it by."""
        rows = await self.db.fetchall(
            "SELECT t.id, t.title, t.artist_display, a.name, t.duration, t.isrc, t.mbid_recording,"
            " (SELECT group_concat(ar.name, char(31)) FROM track_artists ta JOIN artists ar ON ar.id = ta.artist_id"
            "  WHERE ta.track_id = t.id AND ta.role = 'main')"
            " FROM tracks t JOIN albums a ON a.id = t.album_id"
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]
