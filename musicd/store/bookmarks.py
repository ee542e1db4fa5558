"""Repository of bookmarks: one resume position per user and track."""

from __future__ import annotations

import msgspec

from musicd.store.db import Database, utc_now

__all__ = ["BookmarkRecord", "BookmarkRepository"]


class BookmarkRecord(msgspec.Struct, frozen=True):
    track_id: str
    position_ms: int
    comment: str | None
    created_at: str
    updated_at: str


class BookmarkRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def upsert(self, user_id: str, track_id: str, position_ms: int, comment: str | None) -> None:
        now = utc_now()
        await self.db.execute(
            "INSERT INTO bookmarks (user_id, track_id, position_ms, comment, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (user_id, track_id) DO UPDATE SET"
            " position_ms = excluded.position_ms, comment = excluded.comment, updated_at = excluded.updated_at",
            (user_id, track_id, position_ms, comment, now, now),
        )

    async def for_user(self, user_id: str) -> list[BookmarkRecord]:
        rows = await self.db.fetchall(
            "SELECT track_id, position_ms, comment, created_at, updated_at FROM bookmarks"
            " WHERE user_id = ? ORDER BY updated_at DESC",
            (user_id,),
        )
        return [BookmarkRecord(*r) for r in rows]

    async def delete(self, user_id: str, track_id: str) -> bool:
        n = await self.db.execute("DELETE FROM bookmarks WHERE user_id = ? AND track_id = ?", (user_id, track_id))
        return n > 0
