"""Repository of what users do with podcasts: subscriptions, their place in episodes, gPodder devices and actions."""

from __future__ import annotations

import json
from collections.abc import Sequence

import msgspec

from musicd.store.db import Database, utc_now

__all__ = ["GpodderAction", "PodcastUserRepository", "ProgressChange"]

_IDS = "SELECT value FROM json_each(?)"


class ProgressChange(msgspec.Struct, frozen=True, array_like=True):
    """A user's place in an episode, with what names it for gPodder (feed and enclosure URLs)."""

    episode_id: str
    feed_url: str
    enclosure_url: str
    guid: str
    position_ms: int
    played: bool
    duration_s: float | None
    device: str | None
    updated_ms: int


class GpodderAction(msgspec.Struct, frozen=True, array_like=True):
    podcast: str
    episode: str
    action: str
    device: str | None
    started: int | None
    position: int | None
    total: int | None
    at_ms: int


class PodcastUserRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- subscriptions ----

    async def subscribe(self, user_id: str, channel_ids: Sequence[str], now_ms: int) -> None:
        now = utc_now()
        await self.db.executemany(
            "INSERT INTO podcast_subscriptions (user_id, channel_id, added_at, changed_ms) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (user_id, channel_id) DO UPDATE SET added_at = excluded.added_at, removed_at = NULL,"
            " changed_ms = excluded.changed_ms WHERE removed_at IS NOT NULL",
            [(user_id, c, now, now_ms) for c in dict.fromkeys(channel_ids)])

    async def unsubscribe(self, user_id: str, channel_ids: Sequence[str], now_ms: int) -> None:
        await self.db.execute(
            f"UPDATE podcast_subscriptions SET removed_at = ?, changed_ms = ? WHERE user_id = ?"
            f" AND removed_at IS NULL AND channel_id IN ({_IDS})",
            (utc_now(), now_ms, user_id, json.dumps(list(channel_ids))))

    async def subscribed_among(self, user_id: str, channel_ids: Sequence[str]) -> set[str]:
        rows = await self.db.fetchall(
            f"SELECT channel_id FROM podcast_subscriptions WHERE user_id = ? AND removed_at IS NULL"
            f" AND channel_id IN ({_IDS})", (user_id, json.dumps(list(channel_ids))))
        return {r[0] for r in rows}

    async def subscribed_page(self, user_id: str, limit: int, offset: int) -> tuple[list[tuple[str, str]], int]:
        """(channel id, added_at) of the user's subscriptions, newest first, and how many there are."""
        rows = await self.db.fetchall(
            "SELECT channel_id, added_at FROM podcast_subscriptions WHERE user_id = ? AND removed_at IS NULL"
            " ORDER BY added_at DESC, channel_id LIMIT ? OFFSET ?", (user_id, limit, offset))
        total = await self.db.fetchone(
            "SELECT count(*) FROM podcast_subscriptions WHERE user_id = ? AND removed_at IS NULL", (user_id,))
        return [(r[0], r[1]) for r in rows], int(total[0]) if total else 0

    async def subscription_changes(self, user_id: str, since_ms: int) -> tuple[list[str], list[str]]:
        """Feed URLs subscribed and unsubscribed at or after `since_ms`."""
        rows = await self.db.fetchall(
            "SELECT c.feed_url, s.removed_at IS NULL FROM podcast_subscriptions s"
            " JOIN podcast_channels c ON c.id = s.channel_id WHERE s.user_id = ? AND s.changed_ms >= ?"
            " ORDER BY s.changed_ms", (user_id, since_ms))
        return [r[0] for r in rows if r[1]], [r[0] for r in rows if not r[1]]

    async def subscribers(self, channel_id: str) -> int:
        row = await self.db.fetchone(
            "SELECT count(*) FROM podcast_subscriptions WHERE channel_id = ? AND removed_at IS NULL", (channel_id,))
        return int(row[0]) if row else 0

    # ---- progress ----

    async def set_progress(self, user_id: str, episode_id: str, position_ms: int, played: bool | None,
                           device: str | None, updated_ms: int, stored_ms: int) -> bool:
        """Record a place unless a newer one is stored (the newest report wins, from whatever client);
        `played` None keeps the stored flag. True when it was stored."""
        n = await self.db.execute(
            "INSERT INTO episode_progress (user_id, episode_id, position_ms, played, device, updated_ms, stored_ms)"
            " VALUES (?, ?, ?, coalesce(?, 0), ?, ?, ?) ON CONFLICT (user_id, episode_id) DO UPDATE SET"
            " position_ms = excluded.position_ms, played = coalesce(?, played), device = excluded.device,"
            " updated_ms = excluded.updated_ms, stored_ms = excluded.stored_ms"
            " WHERE excluded.updated_ms >= episode_progress.updated_ms",
            (user_id, episode_id, position_ms, played, device, updated_ms, stored_ms, played))
        return n > 0

    async def clear_progress(self, user_id: str, episode_id: str) -> bool:
        n = await self.db.execute("DELETE FROM episode_progress WHERE user_id = ? AND episode_id = ?",
                                  (user_id, episode_id))
        return n > 0

    async def progress_changes(self, user_id: str, since_ms: int, feed_url: str | None = None
                               ) -> list[ProgressChange]:
        """Places stored at or after `since_ms` (optionally of one feed), oldest first."""
        where = " AND c.feed_url = ?" if feed_url else ""
        rows = await self.db.fetchall(
            "SELECT p.episode_id, c.feed_url, e.enclosure_url, e.guid, p.position_ms, p.played, e.duration_s,"
            " p.device, p.updated_ms FROM episode_progress p JOIN podcast_episodes e ON e.id = p.episode_id"
            f" JOIN podcast_channels c ON c.id = e.channel_id WHERE p.user_id = ? AND p.stored_ms >= ?{where}"
            " ORDER BY p.stored_ms", (user_id, since_ms, *([feed_url] if feed_url else [])))
        return [ProgressChange(r[0], r[1], r[2], r[3], r[4], bool(r[5]), r[6], r[7], r[8]) for r in rows]

    # ---- gPodder devices and kept actions ----

    async def devices(self, user_id: str) -> list[tuple[str, str, str]]:
        rows = await self.db.fetchall(
            "SELECT id, caption, type FROM gpodder_devices WHERE user_id = ? ORDER BY id", (user_id,))
        return [(r[0], r[1], r[2]) for r in rows]

    async def save_device(self, user_id: str, device_id: str, caption: str | None, kind: str | None) -> None:
        await self.db.execute(
            "INSERT INTO gpodder_devices (user_id, id, caption, type, updated_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (user_id, id) DO UPDATE SET caption = coalesce(?, caption), type = coalesce(?, type),"
            " updated_at = excluded.updated_at",
            (user_id, device_id, caption or "", kind or "other", utc_now(), caption, kind))

    async def add_actions(self, user_id: str, actions: Sequence[GpodderAction], stored_ms: int) -> None:
        await self.db.executemany(
            "INSERT INTO gpodder_actions (user_id, podcast, episode, action, device, started, position, total,"
            " at_ms, stored_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(user_id, *msgspec.structs.astuple(a), stored_ms) for a in actions])

    async def actions_since(self, user_id: str, since_ms: int, podcast: str | None = None,
                            device: str | None = None) -> list[GpodderAction]:
        where, params = "", []
        if podcast:
            where, params = " AND podcast = ?", [podcast]
        elif device:
            where, params = " AND device = ?", [device]
        rows = await self.db.fetchall(
            "SELECT podcast, episode, action, device, started, position, total, at_ms FROM gpodder_actions"
            f" WHERE user_id = ? AND stored_ms >= ?{where} ORDER BY seq", (user_id, since_ms, *params))
        return [GpodderAction(*r) for r in rows]
