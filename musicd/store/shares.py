"""Repository of shares: public links to tracks, albums, artists or playlists."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from musicd.store.db import Database, utc_now

__all__ = ["ShareRecord", "ShareRepository"]


class ShareRecord(msgspec.Struct, frozen=True):
    id: str
    user_id: str
    username: str
    description: str | None
    created_at: str
    expires_at: str | None
    last_visited_at: str | None
    visit_count: int
    items: list[tuple[str, str]]  # (item_type, item_id) in order


_SELECT = (
    "SELECT s.id, s.user_id, u.username, s.description, s.created_at, s.expires_at, s.last_visited_at,"
    " s.visit_count FROM shares s JOIN users u ON u.id = s.user_id"
)


class ShareRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def insert(
        self, share_id: str, user_id: str, description: str | None, expires_at: str | None,
        items: Sequence[tuple[str, str]],
    ) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO shares (id, user_id, description, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                (share_id, user_id, description, utc_now(), expires_at),
            )
            await conn.executemany(
                "INSERT INTO share_items (share_id, position, item_type, item_id) VALUES (?, ?, ?, ?)",
                [(share_id, i, kind, item_id) for i, (kind, item_id) in enumerate(items)],
            )

    async def _items(self, share_ids: Sequence[str]) -> dict[str, list[tuple[str, str]]]:
        rows = await self.db.fetchall(
            "SELECT share_id, item_type, item_id FROM share_items"
            " WHERE share_id IN (SELECT value FROM json_each(?)) ORDER BY share_id, position",
            (msgspec.json.encode(list(share_ids)).decode(),),
        )
        out: dict[str, list[tuple[str, str]]] = {}
        for r in rows:
            out.setdefault(r[0], []).append((r[1], r[2]))
        return out

    async def get(self, share_id: str) -> ShareRecord | None:
        r = await self.db.fetchone(f"{_SELECT} WHERE s.id = ?", (share_id,))
        if r is None:
            return None
        items = (await self._items([share_id])).get(share_id, [])
        return ShareRecord(*r, items=items)

    async def for_user(self, user_id: str) -> list[ShareRecord]:
        rows = await self.db.fetchall(f"{_SELECT} WHERE s.user_id = ? ORDER BY s.created_at, s.id", (user_id,))
        items = await self._items([r[0] for r in rows])
        return [ShareRecord(*r, items=items.get(r[0], [])) for r in rows]

    async def update(self, share_id: str, description: str | None, expires_at: str | None) -> None:
        await self.db.execute(
            "UPDATE shares SET description = ?, expires_at = ? WHERE id = ?", (description, expires_at, share_id)
        )

    async def delete(self, share_id: str) -> bool:
        return await self.db.execute("DELETE FROM shares WHERE id = ?", (share_id,)) > 0

    async def visited(self, share_id: str) -> None:
        await self.db.execute(
            "UPDATE shares SET visit_count = visit_count + 1, last_visited_at = ? WHERE id = ?",
            (utc_now(), share_id),
        )
