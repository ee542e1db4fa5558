"""Repository of /v1 refresh tokens (hashed) and the per-user token generation."""

from __future__ import annotations

import json

import msgspec

from musicd.store.db import Database, utc_now

__all__ = ["RefreshRecord", "TokenRepository"]


class RefreshRecord(msgspec.Struct, frozen=True):
    id: str
    user_id: str
    family_id: str
    expires_at: str
    used_at: str | None
    revoked_at: str | None


class TokenRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def insert(self, rec: RefreshRecord, token_hash: bytes, user_agent: str | None) -> None:
        await self.db.execute(
            "INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, created_at, expires_at, user_agent)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (rec.id, rec.user_id, rec.family_id, token_hash, utc_now(), rec.expires_at, user_agent),
        )

    async def by_hash(self, token_hash: bytes) -> RefreshRecord | None:
        r = await self.db.fetchone(
            "SELECT id, user_id, family_id, expires_at, used_at, revoked_at FROM refresh_tokens WHERE token_hash = ?",
            (token_hash,),
        )
        return RefreshRecord(*r) if r else None

    async def rotate(self, old_id: str, new: RefreshRecord, new_hash: bytes, user_agent: str | None) -> bool:
        """Mark `old_id` used and store its successor, atomically; False if it was already used or revoked."""
        now = utc_now()
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "UPDATE refresh_tokens SET used_at = ? WHERE id = ? AND used_at IS NULL AND revoked_at IS NULL",
                (now, old_id),
            )
            if cur.rowcount != 1:
                return False
            await conn.execute(
                "INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, created_at, expires_at, user_agent)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (new.id, new.user_id, new.family_id, new_hash, now, new.expires_at, user_agent),
            )
        return True

    async def revoke_family(self, family_id: str) -> int:
        return await self.db.execute(
            "UPDATE refresh_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL",
            (utc_now(), family_id),
        )

    async def revoke_user(self, user_id: str) -> int:
        """Revoke every refresh token of a user and end their access tokens (generation bump)."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "UPDATE refresh_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
                (utc_now(), user_id),
            )
            await conn.execute(
                "UPDATE users SET token_generation = token_generation + 1 WHERE id = ?", (user_id,)
            )
            return cur.rowcount

    async def generation(self, user_id: str) -> int | None:
        r = await self.db.fetchone("SELECT token_generation FROM users WHERE id = ?", (user_id,))
        return int(r[0]) if r else None

    async def generations(self, user_ids: list[str]) -> dict[str, tuple[int, bool]]:
        """(token generation, disabled) of each of these users that still exists."""
        if not user_ids:
            return {}
        rows = await self.db.fetchall(
            "SELECT id, token_generation, disabled FROM users WHERE id IN (SELECT value FROM json_each(?))",
            (json.dumps(user_ids),),
        )
        return {r[0]: (int(r[1]), bool(r[2])) for r in rows}

    async def purge_expired(self) -> int:
        return await self.db.execute("DELETE FROM refresh_tokens WHERE expires_at < ?", (utc_now(),))
