"""Repository of speaker pairing codes (hashed), approved by a user and claimed once by the speaker."""

from __future__ import annotations

import time

import msgspec

from musicd.store.db import Database, utc_now

__all__ = ["PairingRecord", "PairingRepository"]


class PairingRecord(msgspec.Struct, frozen=True):
    id: str
    name: str
    expires_at: float
    user_id: str | None
    claimed: bool
    secret_hash: bytes


_COLS = "id, name, expires_at, user_id, claimed_at IS NOT NULL, secret_hash"


class PairingRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def insert(self, pairing_id: str, code_hash: bytes, secret_hash: bytes, name: str, expires_at: float
                     ) -> None:
        async with self.db.transaction() as conn:
            await conn.execute("DELETE FROM speaker_pairings WHERE expires_at < ?", (time.time() - 3600,))
            await conn.execute(
                "INSERT INTO speaker_pairings (id, code_hash, secret_hash, name, created_at, expires_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (pairing_id, code_hash, secret_hash, name, utc_now(), expires_at),
            )

    async def approve(self, code_hash: bytes, user_id: str) -> PairingRecord | None:
        """Give an unexpired, unapproved code to `user_id`; the pairing, or None."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "UPDATE speaker_pairings SET user_id = ?, approved_at = ? WHERE code_hash = ? AND user_id IS NULL"
                " AND expires_at > ?", (user_id, utc_now(), code_hash, time.time()))
            if cur.rowcount != 1:
                return None
            cur = await conn.execute(f"SELECT {_COLS} FROM speaker_pairings WHERE code_hash = ?", (code_hash,))
            r = await cur.fetchone()
        return _rec(r) if r else None

    async def get(self, pairing_id: str) -> PairingRecord | None:
        r = await self.db.fetchone(f"SELECT {_COLS} FROM speaker_pairings WHERE id = ?", (pairing_id,))
        return _rec(r) if r else None

    async def claim(self, pairing_id: str) -> bool:
        """Mark an approved pairing claimed; False when it was claimed already."""
        n = await self.db.execute(
            "UPDATE speaker_pairings SET claimed_at = ? WHERE id = ? AND claimed_at IS NULL AND user_id IS NOT NULL",
            (utc_now(), pairing_id))
        return n == 1


def _rec(r: tuple) -> PairingRecord:  # type: ignore[type-arg]
    return PairingRecord(r[0], r[1], float(r[2]), r[3], bool(r[4]), bytes(r[5]))
