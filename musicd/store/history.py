"""Listening history writes: one transaction per batch of play events (the seed's Cassandra table)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from musicd.store.db import Database

__all__ = ["HistoryRepository", "NewPlay", "PlayUpdate", "TrackPlays"]

# (user_id, track_id, played_at, ms_played, context_uri, device_id)
NewPlay = tuple[str, str, str, int, str | None, str | None]
# (ms_played, user_id, played_at, track_id): a later event of a play already stored
PlayUpdate = tuple[int, str, str, str]
# (plays to add, last played_at, track_id)
TrackPlays = tuple[int, str, str]


class HistoryRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def durations(self, track_ids: Sequence[str]) -> dict[str, float]:
        """Track durations in seconds (unknown ids are absent)."""
        rows = await self.db.fetchall(
            "SELECT id, duration FROM tracks WHERE id IN (SELECT value FROM json_each(?))",
            (json.dumps(list(track_ids)),),
        )
        return {r[0]: float(r[1]) for r in rows}

    async def write_batch(
        self, new: Sequence[NewPlay], updates: Sequence[PlayUpdate], counts: Sequence[TrackPlays]
    ) -> None:
        """Store a batch in one transaction: new plays (a trigger keeps per-user counts), longer
        listening times of stored plays, and the tracks' global play counts and last-played times."""
        if not (new or updates or counts):
            return
        async with self.db.transaction() as conn:
            if new:
                await conn.executemany(
                    "INSERT INTO listening_history (user_id, track_id, played_at, ms_played, context_uri, device_id)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    new,
                )
            if updates:
                await conn.executemany(
                    "UPDATE listening_history SET ms_played = max(ms_played, ?)"
                    " WHERE user_id = ? AND played_at = ? AND track_id = ?",
                    updates,
                )
            if counts:
                await conn.executemany(
                    "UPDATE tracks SET play_count = play_count + ?,"
                    " last_played_at = max(coalesce(last_played_at, ''), ?) WHERE id = ?",
                    counts,
                )

    async def play_count(self, track_id: str) -> int:
        row = await self.db.fetchone("SELECT play_count FROM tracks WHERE id = ?", (track_id,))
        return int(row[0]) if row else 0
