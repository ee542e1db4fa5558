"""Repository of invite links: one-use, expiring links to create an account, found by a hash of their token."""

from __future__ import annotations

import msgspec

from musicd.store.db import Database, utc_now

__all__ = ["InviteRecord", "InviteRepository"]


class InviteRecord(msgspec.Struct, frozen=True):
    id: str
    role: str
    note: str | None
    created_by: str | None
    created_at: str
    expires_at: str
    used_at: str | None
    used_by: str | None
    used_by_name: str | None
    revoked_at: str | None


_SELECT = (
    "SELECT i.id, i.role, i.note, i.created_by, i.created_at, i.expires_at, i.used_at, i.used_by, u.username,"
    " i.revoked_at FROM invites i LEFT JOIN users u ON u.id = i.used_by"
)


class InviteRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def insert(self, invite_id: str, token_hash: str, role: str, note: str | None, created_by: str,
                     expires_at: str) -> InviteRecord:
        now = utc_now()
        await self.db.execute(
            "INSERT INTO invites (id, token_hash, role, note, created_by, created_at, expires_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)", (invite_id, token_hash, role, note, created_by, now, expires_at))
        return InviteRecord(invite_id, role, note, created_by, now, expires_at, None, None, None, None)

    async def by_hash(self, token_hash: str) -> InviteRecord | None:
        rows = await self.db.fetchall(f"{_SELECT} WHERE i.token_hash = ?", (token_hash,))
        return InviteRecord(*rows[0]) if rows else None

    async def recent(self, since: str) -> list[InviteRecord]:
        """Invites made since `since`, or still open, newest first."""
        rows = await self.db.fetchall(
            f"{_SELECT} WHERE i.created_at >= ? OR (i.used_at IS NULL AND i.revoked_at IS NULL)"
            " ORDER BY i.created_at DESC, i.id", (since,))
        return [InviteRecord(*r) for r in rows]

    async def claim(self, invite_id: str, now: str) -> bool:
        """Mark a live invite used (at most once, whoever asks first); False when it was not live."""
        return await self.db.execute(
            "UPDATE invites SET used_at = ? WHERE id = ? AND used_at IS NULL AND revoked_at IS NULL"
            " AND expires_at > ?", (now, invite_id, now)) > 0

    async def release(self, invite_id: str) -> None:
        """Undo a claim whose account could not be made (the name was taken): the link works again."""
        await self.db.execute("UPDATE invites SET used_at = NULL WHERE id = ? AND used_by IS NULL", (invite_id,))

    async def used_by(self, invite_id: str, user_id: str) -> None:
        await self.db.execute("UPDATE invites SET used_by = ? WHERE id = ?", (user_id, invite_id))

    async def revoke(self, invite_id: str) -> bool:
        """Revoke an invite not used yet; False when there is none such."""
        return await self.db.execute(
            "UPDATE invites SET revoked_at = ? WHERE id = ? AND used_at IS NULL AND revoked_at IS NULL",
            (utc_now(), invite_id)) > 0
