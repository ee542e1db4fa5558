"""Repository of saved play queues: one per user, its track ids kept as a JSON array."""

from __future__ import annotations

import json

import msgspec

from musicd.store.db import Database, utc_now

__all__ = ["PlayQueueRecord", "PlayQueueRepository"]


class PlayQueueRecord(msgspec.Struct, frozen=True):
    track_ids: list[str]
    current_index: int | None
    position_ms: int
    changed_at: str
    changed_by: str


class PlayQueueRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def save(
        self, user_id: str, track_ids: list[str], current_index: int | None, position_ms: int, changed_by: str
    ) -> None:
        await self.db.execute(
            "INSERT INTO play_queues (user_id, track_ids, current_index, position_ms, changed_at, changed_by)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET track_ids = excluded.track_ids,"
            " current_index = excluded.current_index, position_ms = excluded.position_ms,"
            " changed_at = excluded.changed_at, changed_by = excluded.changed_by",
            (user_id, json.dumps(track_ids), current_index, position_ms, utc_now(), changed_by),
        )

    async def get(self, user_id: str) -> PlayQueueRecord | None:
        r = await self.db.fetchone(
            "SELECT track_ids, current_index, position_ms, changed_at, changed_by FROM play_queues WHERE user_id = ?",
            (user_id,),
        )
        if r is None:
            return None
        return PlayQueueRecord(json.loads(r[0]), r[1], r[2], r[3], r[4])

    async def clear(self, user_id: str) -> None:
        await self.db.execute("DELETE FROM play_queues WHERE user_id = ?", (user_id,))
