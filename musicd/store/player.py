"""Repositories of the server-held playback state (one JSON document per user) and of devices."""

from __future__ import annotations

from datetime import datetime

import msgspec

from musicd.domain.player import Device, PlayerState
from musicd.domain.stamps import epoch_iso
from musicd.store.db import Database, utc_now

__all__ = ["DeviceRepository", "PlayerStateRepository"]

_encode = msgspec.json.Encoder()
_decode = msgspec.json.Decoder(PlayerState)


class PlayerStateRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, user_id: str) -> PlayerState | None:
        r = await self.db.fetchone("SELECT state FROM player_states WHERE user_id = ?", (user_id,))
        return _decode.decode(r[0]) if r else None

    async def save(self, state: PlayerState) -> bool:
        """Store `state` unless a newer version is stored already (False then)."""
        n = await self.db.execute(
            "INSERT INTO player_states (user_id, version, state, updated_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (user_id) DO UPDATE SET version = excluded.version, state = excluded.state,"
            " updated_at = excluded.updated_at WHERE excluded.version > player_states.version",
            (state.user_id, state.version, _encode.encode(state).decode(), utc_now()),
        )
        return n > 0


class DeviceRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def upsert(self, d: Device) -> None:
        await self.db.execute(
            "INSERT INTO devices (id, user_id, name, kind, type, supports_volume, created_at, last_seen)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET name = excluded.name,"
            " kind = excluded.kind, type = excluded.type, supports_volume = excluded.supports_volume,"
            " last_seen = excluded.last_seen WHERE devices.user_id = excluded.user_id",
            (d.id, d.user_id, d.name, d.kind, d.type, int(d.supports_volume), utc_now(), epoch_iso(d.last_seen)),
        )

    async def get(self, device_id: str) -> Device | None:
        r = await self.db.fetchone(
            "SELECT id, user_id, name, kind, type, supports_volume, last_seen FROM devices WHERE id = ?",
            (device_id,),
        )
        return _device(r) if r else None

    async def of_user(self, user_id: str, limit: int = 50) -> list[Device]:
        rows = await self.db.fetchall(
            "SELECT id, user_id, name, kind, type, supports_volume, last_seen FROM devices WHERE user_id = ?"
            " ORDER BY last_seen DESC LIMIT ?",
            (user_id, limit),
        )
        return [_device(r) for r in rows]

    async def rename(self, user_id: str, device_id: str, name: str) -> bool:
        n = await self.db.execute("UPDATE devices SET name = ? WHERE id = ? AND user_id = ?",
                                  (name, device_id, user_id))
        return n > 0

    async def delete(self, user_id: str, device_id: str) -> bool:
        return await self.db.execute("DELETE FROM devices WHERE id = ? AND user_id = ?", (device_id, user_id)) > 0


def _device(r: tuple) -> Device:  # type: ignore[type-arg]
    seen = datetime.fromisoformat(str(r[6]).replace("Z", "+00:00")).timestamp()
    return Device(id=r[0], user_id=r[1], name=r[2], kind=r[3], type=r[4], supports_volume=bool(r[5]),
                  last_seen=seen)
