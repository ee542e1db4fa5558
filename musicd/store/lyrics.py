"""Repository of lyrics as shown: the files' (several languages) with users' additions and fixes on top."""

from __future__ import annotations

import msgspec

from musicd.store.db import Database, utc_now

__all__ = ["LyricsRepository", "LyricsRow"]


class LyricsRow(msgspec.Struct, frozen=True, array_like=True):
    lang: str  # 'und' when unknown
    source: str  # lrc | embedded | user
    synced: bool
    text: str
    user_id: str | None
    updated_at: str | None


class LyricsRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def shown(self, track_id: str) -> list[LyricsRow]:
        """A track's lyrics per language, the main ones first (a user's text replaces the file's)."""
        rows = await self.db.fetchall(
            "SELECT lang, source, synced, text, user_id, updated_at FROM lyrics_shown WHERE track_id = ?"
            " ORDER BY position, lang", (track_id,))
        return [LyricsRow(r[0], r[1], bool(r[2]), r[3], r[4], r[5]) for r in rows]

    async def save_user(self, track_id: str, lang: str, synced: bool, text: str, user_id: str) -> None:
        await self.db.execute(
            "INSERT INTO lyrics_user (track_id, lang, synced, text, user_id, updated_at) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (track_id, lang) DO UPDATE SET synced = excluded.synced, text = excluded.text,"
            " user_id = excluded.user_id, updated_at = excluded.updated_at",
            (track_id, lang, int(synced), text, user_id, utc_now()))

    async def delete_user(self, track_id: str, lang: str) -> bool:
        return await self.db.execute("DELETE FROM lyrics_user WHERE track_id = ? AND lang = ?", (track_id, lang)) > 0
