"""Repository of OpenSubsonic API keys, stored as SHA-256 hashes."""

from __future__ import annotations

import msgspec

from musicd.store.db import Database, utc_now

__all__ = ["ApiKeyRecord", "ApiKeyRepository"]


class ApiKeyRecord(msgspec.Struct, frozen=True):
    id: str
    user_id: str
    name: str
    prefix: str
    created_at: str
    last_used_at: str | None


_COLS = "id, user_id, name, prefix, created_at, last_used_at"


class ApiKeyRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def insert(self, rec: ApiKeyRecord, key_hash: bytes) -> None:
        await self.db.execute(
            f"INSERT INTO api_keys ({_COLS}, key_hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (rec.id, rec.user_id, rec.name, rec.prefix, rec.created_at, rec.last_used_at, key_hash),
        )

    async def by_hash(self, key_hash: bytes) -> ApiKeyRecord | None:
        r = await self.db.fetchone(f"SELECT {_COLS} FROM api_keys WHERE key_hash = ?", (key_hash,))
        return ApiKeyRecord(*r) if r else None

    async def for_user(self, user_id: str) -> list[ApiKeyRecord]:
        rows = await self.db.fetchall(
            f"SELECT {_COLS} FROM api_keys WHERE user_id = ? ORDER BY created_at, id", (user_id,)
        )
        return [ApiKeyRecord(*r) for r in rows]

    async def delete(self, user_id: str, key_id: str) -> bool:
        return await self.db.execute("DELETE FROM api_keys WHERE id = ? AND user_id = ?", (key_id, user_id)) > 0

    async def touch(self, key_id: str) -> None:
        """Record that a key was used (called at most once a minute per key)."""
        await self.db.execute("UPDATE api_keys SET last_used_at = ? WHERE id = ?", (utc_now(), key_id))
