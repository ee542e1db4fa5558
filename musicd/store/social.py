"""Reads and writes the live features need: who a change concerns (playlist audiences, followers of a
user), friend activity rows, and what a scan did to albums."""

from __future__ import annotations

import json
from collections.abc import Sequence

import msgspec

from musicd.store.db import Database

__all__ = ["ActivityRow", "PlaylistAudience", "SocialRepository"]

_IDS = "SELECT value FROM json_each(?)"
_UPSERT = (
    "INSERT INTO friend_activity (user_id, track_id, context_uri, started_at, ended_at) SELECT ?, ?, ?, ?, ?"
    " WHERE EXISTS (SELECT 1 FROM tracks WHERE id = ?) AND EXISTS (SELECT 1 FROM users WHERE id = ?)"
    " ON CONFLICT (user_id) DO UPDATE SET context_uri = coalesce(excluded.context_uri, CASE WHEN"
    " friend_activity.track_id = excluded.track_id THEN friend_activity.context_uri END),"
    " track_id = excluded.track_id,"
)


class PlaylistAudience(msgspec.Struct, frozen=True):
    """Who a playlist concerns: its owner, flags, invited collaborators and followers."""

    owner_id: str
    public: bool
    collaborative: bool
    collaborators: frozenset[str]
    followers: frozenset[str]


class ActivityRow(msgspec.Struct, frozen=True):
    user_id: str
    track_id: str
    context_uri: str | None
    started_at: str
    ended_at: str | None


class SocialRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def playlist_audience(self, playlist_id: str) -> PlaylistAudience | None:
        row = await self.db.fetchone(
            "SELECT owner_id, public, collaborative,"
            " (SELECT json_group_array(user_id) FROM playlist_collaborators WHERE playlist_id = p.id),"
            " (SELECT json_group_array(user_id) FROM playlist_follows WHERE playlist_id = p.id)"
            " FROM playlists p WHERE id = ?", (playlist_id,),
        )
        if row is None:
            return None
        return PlaylistAudience(row[0], bool(row[1]), bool(row[2]), frozenset(json.loads(row[3])),
                                frozenset(json.loads(row[4])))

    async def followers_of(self, user_id: str) -> list[str]:
        """Ids of the users who follow `user_id`."""
        rows = await self.db.fetchall("SELECT user_id FROM user_follows WHERE followee_id = ?", (user_id,))
        return [r[0] for r in rows]

    async def following(self, user_id: str) -> list[str]:
        """Ids of the users `user_id` follows."""
        rows = await self.db.fetchall("SELECT followee_id FROM user_follows WHERE user_id = ?", (user_id,))
        return [r[0] for r in rows]

    # ---- friend activity ----

    async def activity(self, user_ids: Sequence[str]) -> dict[str, ActivityRow]:
        if not user_ids:
            return {}
        rows = await self.db.fetchall(
            f"SELECT user_id, track_id, context_uri, started_at, ended_at FROM friend_activity"
            f" WHERE user_id IN ({_IDS})", (json.dumps(list(user_ids)),),
        )
        return {r[0]: ActivityRow(*r) for r in rows}

    async def record_start(self, user_id: str, track_id: str, context_uri: str | None, started_at: str) -> None:
        """A shared play started (unknown users and tracks are ignored)."""
        await self.db.execute(
            f"{_UPSERT} started_at = excluded.started_at, ended_at = NULL",
            (user_id, track_id, context_uri, started_at, None, track_id, user_id),
        )

    async def record_end(self, user_id: str, track_id: str, context_uri: str | None, ended_at: str) -> None:
        """A shared play ended (or was scrobbled): the start stays when it is the same track."""
        await self.db.execute(
            f"{_UPSERT} started_at = CASE WHEN friend_activity.track_id = excluded.track_id"
            " AND friend_activity.ended_at IS NULL THEN friend_activity.started_at ELSE excluded.started_at END,"
            " ended_at = excluded.ended_at",
            (user_id, track_id, context_uri, ended_at, ended_at, track_id, user_id),
        )

    # ---- scans ----

    async def album_created(self, album_ids: Sequence[str]) -> dict[str, str]:
        """created_at of each of these albums that exists."""
        if not album_ids:
            return {}
        rows = await self.db.fetchall(f"SELECT id, created_at FROM albums WHERE id IN ({_IDS})",
                                      (json.dumps(list(album_ids)),))
        return {r[0]: r[1] for r in rows}
