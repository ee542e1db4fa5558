"""Repository of shares: public links to tracks, albums, artists or playlists, found by a hash of their token."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from musicd.store.db import Database, utc_now

__all__ = ["ShareRecord", "ShareRepository"]


class ShareRecord(msgspec.Struct, frozen=True):
    id: str
    token_hash: str
    user_id: str
    username: str
    description: str | None
    created_at: str
    expires_at: str | None
    revoked_at: str | None
    last_visited_at: str | None
    visit_count: int
    items: list[tuple[str, str]]  # (item_type, item_id) in order


_SELECT = (
    "SELECT s.id, s.token_hash, s.user_id, u.username, s.description, s.created_at, s.expires_at, s.revoked_at,"
    " s.last_visited_at, s.visit_count FROM shares s JOIN users u ON u.id = s.user_id"
)
# Shares of exactly one playlist (what /v1 calls a playlist's share links).
_OF_PLAYLIST = (
    " WHERE s.id IN (SELECT share_id FROM share_items WHERE item_type = 'playlist' AND item_id = ?)"
    " AND (SELECT count(*) FROM share_items i WHERE i.share_id = s.id) = 1"
)


class ShareRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def insert(
        self, share_id: str, token_hash: str, user_id: str, description: str | None, expires_at: str | None,
        items: Sequence[tuple[str, str]],
    ) -> str:
        """Store a new share; its creation time."""
        now = utc_now()
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO shares (id, token_hash, user_id, description, created_at, expires_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (share_id, token_hash, user_id, description, now, expires_at),
            )
            await conn.executemany(
                "INSERT INTO share_items (share_id, position, item_type, item_id) VALUES (?, ?, ?, ?)",
                [(share_id, i, kind, item_id) for i, (kind, item_id) in enumerate(items)],
            )
        return now

    async def _with_items(self, rows: Sequence[Sequence[object]]) -> list[ShareRecord]:
        ids = [str(r[0]) for r in rows]
        found = await self.db.fetchall(
            "SELECT share_id, item_type, item_id FROM share_items"
            " WHERE share_id IN (SELECT value FROM json_each(?)) ORDER BY share_id, position",
            (msgspec.json.encode(ids).decode(),),
        ) if ids else []
        items: dict[str, list[tuple[str, str]]] = {}
        for r in found:
            items.setdefault(r[0], []).append((r[1], r[2]))
        return [ShareRecord(*r, items=items.get(str(r[0]), [])) for r in rows]  # type: ignore[arg-type]

    async def by_hash(self, token_hash: str) -> ShareRecord | None:
        rows = await self.db.fetchall(f"{_SELECT} WHERE s.token_hash = ?", (token_hash,))
        return (await self._with_items(rows))[0] if rows else None

    async def get(self, share_id: str) -> ShareRecord | None:
        rows = await self.db.fetchall(f"{_SELECT} WHERE s.id = ?", (share_id,))
        return (await self._with_items(rows))[0] if rows else None

    async def for_user(self, user_id: str) -> list[ShareRecord]:
        """The user's shares that were not revoked, oldest first."""
        rows = await self.db.fetchall(
            f"{_SELECT} WHERE s.user_id = ? AND s.revoked_at IS NULL ORDER BY s.created_at, s.id", (user_id,))
        return await self._with_items(rows)

    async def for_playlist(self, playlist_id: str) -> list[ShareRecord]:
        """The shares of exactly this one playlist, revoked ones included, oldest first."""
        rows = await self.db.fetchall(f"{_SELECT}{_OF_PLAYLIST} ORDER BY s.created_at, s.id", (playlist_id,))
        return await self._with_items(rows)

    async def update(self, share_id: str, description: str | None, expires_at: str | None) -> None:
        await self.db.execute(
            "UPDATE shares SET description = ?, expires_at = ? WHERE id = ?", (description, expires_at, share_id)
        )

    async def delete(self, share_id: str) -> bool:
        return await self.db.execute("DELETE FROM shares WHERE id = ?", (share_id,)) > 0

    async def revoke(self, share_ids: Sequence[str]) -> int:
        """Revoke shares that were live; how many."""
        return await self.db.execute(
            "UPDATE shares SET revoked_at = ? WHERE revoked_at IS NULL AND id IN (SELECT value FROM json_each(?))",
            (utc_now(), msgspec.json.encode(list(share_ids)).decode()),
        )

    async def visited(self, share_id: str) -> None:
        await self.db.execute(
            "UPDATE shares SET visit_count = visit_count + 1, last_visited_at = ? WHERE id = ?",
            (utc_now(), share_id),
        )
