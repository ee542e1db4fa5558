"""A user's own library: saved items (starred), ratings, followed artists and users, and history reads."""

from __future__ import annotations

import json
from collections.abc import Sequence

from musicd.store.browse_lists import IdPage
from musicd.store.db import Database, utc_now

__all__ = ["UserLibraryRepository"]

_IDS = "SELECT value FROM json_each(?)"


class UserLibraryRepository:
    """Rows keyed by user: saved_items, ratings, artist_follows, user_follows; listening_history read-only."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- saved items ----

    async def save(self, user_id: str, kind: str, ids: Sequence[str]) -> None:
        """Save items; an item saved already keeps its first saved time."""
        now = utc_now()
        await self.db.executemany(
            "INSERT OR IGNORE INTO saved_items (user_id, item_type, item_id, created_at) VALUES (?, ?, ?, ?)",
            [(user_id, kind, i, now) for i in ids],
        )

    async def unsave(self, user_id: str, kind: str, ids: Sequence[str]) -> None:
        await self.db.execute(
            f"DELETE FROM saved_items WHERE user_id = ? AND item_type = ? AND item_id IN ({_IDS})",
            (user_id, kind, json.dumps(list(ids))),
        )

    async def saved_among(self, user_id: str, kind: str, ids: Sequence[str]) -> set[str]:
        """Which of `ids` the user saved."""
        rows = await self.db.fetchall(
            f"SELECT item_id FROM saved_items WHERE user_id = ? AND item_type = ? AND item_id IN ({_IDS})",
            (user_id, kind, json.dumps(list(ids))),
        )
        return {r[0] for r in rows}

    async def saved_page(self, user_id: str, kind: str, limit: int, offset: int) -> IdPage:
        """Saved item ids, the most recently saved first."""
        rows = await self.db.fetchall(
            "SELECT item_id, count(*) OVER () FROM saved_items WHERE user_id = ? AND item_type = ?"
            " ORDER BY created_at DESC, item_id LIMIT ? OFFSET ?",
            (user_id, kind, limit, offset),
        )
        if rows:
            return [r[0] for r in rows], int(rows[0][1])
        row = await self.db.fetchone(
            "SELECT count(*) FROM saved_items WHERE user_id = ? AND item_type = ?", (user_id, kind)
        )
        return [], int(row[0]) if row else 0

    # ---- ratings ----

    async def set_rating(self, user_id: str, kind: str, item_id: str, rating: int) -> None:
        """Rate 1..5, or remove the rating with 0."""
        if rating == 0:
            await self.db.execute(
                "DELETE FROM ratings WHERE user_id = ? AND item_type = ? AND item_id = ?", (user_id, kind, item_id)
            )
            return
        await self.db.execute(
            "INSERT INTO ratings (user_id, item_type, item_id, rating) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (user_id, item_type, item_id) DO UPDATE SET rating = excluded.rating",
            (user_id, kind, item_id, rating),
        )

    # ---- follows ----

    async def follow(self, user_id: str, kind: str, ids: Sequence[str]) -> None:
        """Follow artists (`kind` "artist") or users ("user")."""
        table, col = _FOLLOWS[kind]
        now = utc_now()
        await self.db.executemany(
            f"INSERT OR IGNORE INTO {table} (user_id, {col}, created_at) VALUES (?, ?, ?)",
            [(user_id, i, now) for i in ids if i != user_id or kind != "user"],
        )

    async def unfollow(self, user_id: str, kind: str, ids: Sequence[str]) -> None:
        table, col = _FOLLOWS[kind]
        await self.db.execute(
            f"DELETE FROM {table} WHERE user_id = ? AND {col} IN ({_IDS})", (user_id, json.dumps(list(ids)))
        )

    async def following_among(self, user_id: str, kind: str, ids: Sequence[str]) -> set[str]:
        table, col = _FOLLOWS[kind]
        rows = await self.db.fetchall(
            f"SELECT {col} FROM {table} WHERE user_id = ? AND {col} IN ({_IDS})", (user_id, json.dumps(list(ids)))
        )
        return {r[0] for r in rows}

    async def followed_artists_page(self, user_id: str, limit: int, after: str | None) -> IdPage:
        """Followed artist ids by name, starting after the artist id `after`; the total counts them all."""
        rows = await self.db.fetchall(
            "WITH f AS (SELECT a.id, a.name FROM artist_follows af JOIN artists a ON a.id = af.artist_id"
            "   WHERE af.user_id = :uid),"
            " cur AS (SELECT name, id FROM artists WHERE id = :after)"
            " SELECT f.id, (SELECT count(*) FROM f) FROM f WHERE :after IS NULL OR NOT EXISTS (SELECT 1 FROM cur)"
            "  OR (fold(f.name), f.name, f.id) > (SELECT fold(name), name, id FROM cur)"
            " ORDER BY fold(f.name), f.name, f.id LIMIT :limit",
            {"uid": user_id, "after": after, "limit": limit},
        )
        if rows:
            return [r[0] for r in rows], int(rows[0][1])
        row = await self.db.fetchone("SELECT count(*) FROM artist_follows WHERE user_id = ?", (user_id,))
        return [], int(row[0]) if row else 0

    async def followed_users(self, user_id: str) -> list[str]:
        rows = await self.db.fetchall(
            "SELECT followee_id FROM user_follows WHERE user_id = ? ORDER BY created_at", (user_id,)
        )
        return [r[0] for r in rows]

    # ---- listening history ----

    async def history(
        self, user_id: str, limit: int, before: str | None = None, after: str | None = None
    ) -> list[tuple[str, str, str | None]]:
        """(track id, played at, context uri) of plays of tracks still in the library, newest first.

        `before`/`after` are exclusive ISO time bounds; with `after` the plays right after it are returned.
        """
        if after is not None:
            rows = await self.db.fetchall(
                "SELECT * FROM (SELECT h.track_id, h.played_at, h.context_uri, h.id FROM listening_history h"
                " JOIN tracks t ON t.id = h.track_id WHERE h.user_id = ? AND h.played_at > ?"
                " ORDER BY h.played_at, h.id LIMIT ?) ORDER BY played_at DESC, id DESC",
                (user_id, after, limit),
            )
        else:
            rows = await self.db.fetchall(
                "SELECT h.track_id, h.played_at, h.context_uri FROM listening_history h JOIN tracks t"
                " ON t.id = h.track_id WHERE h.user_id = ? AND (? IS NULL OR h.played_at < ?)"
                " ORDER BY h.played_at DESC, h.id DESC LIMIT ?",
                (user_id, before, before, limit),
            )
        return [(r[0], r[1], r[2]) for r in rows]

    async def top_track_page(self, user_id: str, since: str | None, limit: int, offset: int) -> IdPage:
        """Tracks the user played most since `since` (all time when None), the most recent first among equals."""
        rows = await self.db.fetchall(
            "SELECT h.track_id, count(*) OVER () FROM listening_history h JOIN tracks t ON t.id = h.track_id"
            " WHERE h.user_id = ? AND h.played_at >= coalesce(?, '')"
            " GROUP BY h.track_id ORDER BY count(*) DESC, max(h.played_at) DESC, h.track_id LIMIT ? OFFSET ?",
            (user_id, since, limit, offset),
        )
        return await self._page(rows, "SELECT count(DISTINCT h.track_id) FROM listening_history h JOIN tracks t"
                                " ON t.id = h.track_id WHERE h.user_id = ? AND h.played_at >= coalesce(?, '')",
                                (user_id, since))

    async def top_artist_page(self, user_id: str, since: str | None, limit: int, offset: int) -> IdPage:
        """Artists credited on the tracks the user played most since `since`."""
        frm = (" FROM listening_history h JOIN track_artists ta ON ta.track_id = h.track_id"
               " WHERE h.user_id = ? AND h.played_at >= coalesce(?, '')")
        rows = await self.db.fetchall(
            f"SELECT ta.artist_id, count(*) OVER () {frm} GROUP BY ta.artist_id"
            " ORDER BY count(*) DESC, max(h.played_at) DESC, ta.artist_id LIMIT ? OFFSET ?",
            (user_id, since, limit, offset),
        )
        return await self._page(rows, f"SELECT count(DISTINCT ta.artist_id) {frm}", (user_id, since))

    async def _page(self, rows: list, count_sql: str, params: tuple) -> IdPage:  # type: ignore[type-arg]
        if rows:
            return [r[0] for r in rows], int(rows[0][1])
        row = await self.db.fetchone(count_sql, params)
        return [], int(row[0]) if row else 0


_FOLLOWS = {"artist": ("artist_follows", "artist_id"), "user": ("user_follows", "followee_id")}
