"""Repository of offline devices, their marked sources and what they hold (migration 0035)."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from musicd.store.db import Database, utc_now

__all__ = ["OfflineDeviceRecord", "OfflineMarkRecord", "OfflineRepository"]


class OfflineDeviceRecord(msgspec.Struct, frozen=True):
    id: str
    user_id: str
    name: str
    kind: str
    key_version: int
    licence_seq: int
    revoked_at: str | None
    revoked_by: str | None
    created_at: str
    last_heartbeat_at: str | None
    username: str = ""
    held: int = 0


class OfflineMarkRecord(msgspec.Struct, frozen=True):
    device_id: str
    source_type: str
    source_id: str
    quality: str
    created_at: str


_COLS = ("d.id, d.user_id, d.name, d.kind, d.key_version, d.licence_seq, d.revoked_at, d.revoked_by, d.created_at,"
         " d.last_heartbeat_at, u.username, (SELECT COUNT(*) FROM offline_held h WHERE h.device_id = d.id)")
_FROM = "FROM offline_devices d JOIN users u ON u.id = d.user_id"
_CHUNK = 500


class OfflineRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- devices ----

    async def insert_device(self, device_id: str, user_id: str, name: str, kind: str, limit: int) -> bool:
        """Register a device unless the user already has `limit` active ones (checked in the same transaction)."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "SELECT COUNT(*) FROM offline_devices WHERE user_id = ? AND revoked_at IS NULL", (user_id,))
            row = await cur.fetchone()
            if row is not None and row[0] >= limit:
                return False
            await conn.execute(
                "INSERT INTO offline_devices (id, user_id, name, kind, created_at) VALUES (?, ?, ?, ?, ?)",
                (device_id, user_id, name, kind, utc_now()))
        return True

    async def device(self, device_id: str) -> OfflineDeviceRecord | None:
        r = await self.db.fetchone(f"SELECT {_COLS} {_FROM} WHERE d.id = ?", (device_id,))
        return OfflineDeviceRecord(*r) if r else None

    async def devices(self, user_id: str | None = None) -> list[OfflineDeviceRecord]:
        """A user's devices (or everyone's), oldest first."""
        where, args = ("WHERE d.user_id = ?", (user_id,)) if user_id else ("", ())
        rows = await self.db.fetchall(f"SELECT {_COLS} {_FROM} {where} ORDER BY d.created_at, d.id", args)
        return [OfflineDeviceRecord(*r) for r in rows]

    async def rename(self, device_id: str, name: str) -> None:
        await self.db.execute("UPDATE offline_devices SET name = ? WHERE id = ?", (name, device_id))

    async def revoke(self, device_id: str, by: str) -> bool:
        """Mark revoked and raise the key version; False when it already was."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "UPDATE offline_devices SET revoked_at = ?, revoked_by = ?, key_version = key_version + 1"
                " WHERE id = ? AND revoked_at IS NULL", (utc_now(), by, device_id))
            if cur.rowcount == 0:
                return False
            await conn.execute("DELETE FROM offline_marks WHERE device_id = ?", (device_id,))
            await conn.execute("DELETE FROM offline_held WHERE device_id = ?", (device_id,))
        return True

    async def next_licence(self, device_id: str, held: Sequence[str] | None) -> int:
        """The next licence number of a device (and its heartbeat time; its holdings when reported)."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE offline_devices SET licence_seq = licence_seq + 1, last_heartbeat_at = ? WHERE id = ?",
                (utc_now(), device_id))
            cur = await conn.execute("SELECT licence_seq FROM offline_devices WHERE id = ?", (device_id,))
            row = await cur.fetchone()
            if held is not None:
                await conn.execute("DELETE FROM offline_held WHERE device_id = ?", (device_id,))
                await conn.executemany("INSERT OR IGNORE INTO offline_held (device_id, track_id) VALUES (?, ?)",
                                       [(device_id, t) for t in held])
        return int(row[0]) if row else 0

    async def held(self, device_id: str) -> set[str]:
        rows = await self.db.fetchall("SELECT track_id FROM offline_held WHERE device_id = ?", (device_id,))
        return {r[0] for r in rows}

    # ---- marks ----

    async def marks(self, device_id: str) -> list[OfflineMarkRecord]:
        rows = await self.db.fetchall(
            "SELECT device_id, source_type, source_id, quality, created_at FROM offline_marks WHERE device_id = ?"
            " ORDER BY created_at, source_type, source_id", (device_id,))
        return [OfflineMarkRecord(*r) for r in rows]

    async def put_mark(self, device_id: str, source_type: str, source_id: str, quality: str) -> None:
        await self.db.execute(
            "INSERT INTO offline_marks (device_id, source_type, source_id, quality, created_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (device_id, source_type, source_id) DO UPDATE SET quality = excluded.quality",
            (device_id, source_type, source_id, quality, utc_now()))

    async def delete_mark(self, device_id: str, source_type: str, source_id: str) -> bool:
        return await self.db.execute(
            "DELETE FROM offline_marks WHERE device_id = ? AND source_type = ? AND source_id = ?",
            (device_id, source_type, source_id)) > 0

    # ---- the library ----

    async def existing_tracks(self, track_ids: Sequence[str]) -> set[str]:
        """Which of these tracks are in the library now."""
        found: set[str] = set()
        ids = list(dict.fromkeys(track_ids))
        for i in range(0, len(ids), _CHUNK):
            part = ids[i : i + _CHUNK]
            rows = await self.db.fetchall(
                f"SELECT id FROM tracks WHERE id IN ({','.join('?' * len(part))})", part)
            found.update(r[0] for r in rows)
        return found

    async def album_tracks(self, album_id: str) -> list[str] | None:
        """An album's track ids by disc and number; None for an unknown album."""
        if await self.db.fetchone("SELECT 1 FROM albums WHERE id = ?", (album_id,)) is None:
            return None
        rows = await self.db.fetchall(
            "SELECT id FROM tracks WHERE album_id = ? ORDER BY disc_number, track_number, title, id", (album_id,))
        return [r[0] for r in rows]

    async def liked_tracks(self, user_id: str, limit: int) -> list[str]:
        rows = await self.db.fetchall(
            "SELECT item_id FROM saved_items WHERE user_id = ? AND item_type = 'track'"
            " ORDER BY created_at DESC LIMIT ?",
            (user_id, limit))
        return [r[0] for r in rows]
