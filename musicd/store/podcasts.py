"""Repository of podcast channels and episodes: refresh results, downloads, read models with a user's progress."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

import msgspec

from musicd.domain.ids import derived_id
from musicd.domain.models import CoverRef
from musicd.domain.podcasts import Chapter, Episode, EpisodeProgress, FeedInfo, Show, Transcript
from musicd.domain.stamps import epoch_iso
from musicd.store.db import Database, utc_now

__all__ = ["ChannelState", "EpisodeFile", "PodcastRepository", "episode_id", "show_id"]

_IDS = "SELECT value FROM json_each(?)"
_SHOW_COLS = ("c.id, c.feed_url, c.title, c.author, c.description, c.link, c.image_url, c.language, c.status,"
              " c.error, c.last_refresh_at, (SELECT count(*) FROM podcast_episodes e WHERE e.channel_id = c.id),"
              " c.created_at, c.cover_id")
_EP_COLS = ("e.id, e.channel_id, c.title, e.guid, e.title, e.description, e.published_at, e.duration_s, e.link,"
            " e.enclosure_url, e.enclosure_type, e.enclosure_length, e.status, e.error, e.size, e.format,"
            " e.chapters, e.transcripts, e.image_url, e.created_at, p.position_ms, p.played, p.updated_ms, c.cover_id")
_EP_FROM = ("podcast_episodes e JOIN podcast_channels c ON c.id = e.channel_id"
            " LEFT JOIN episode_progress p ON p.episode_id = e.id AND p.user_id = ?")
_NEWEST = "coalesce(e.published_at, e.created_at) DESC, e.id"
_CHAPTERS = msgspec.json.Decoder(list[Chapter])
_TRANSCRIPTS = msgspec.json.Decoder(list[Transcript])


def show_id(feed_url: str) -> str:
    """A show's id: derived from its feed URL, so re-adding a feed gives the same id."""
    return derived_id("show", feed_url)


def episode_id(channel_id: str, guid: str) -> str:
    return derived_id("episode", f"{channel_id}\x1f{guid}")


def _iso_ms(ms: int | None) -> str | None:
    if ms is None:
        return None
    return epoch_iso(ms / 1000)


def _show(r: sqlite3.Row, saved: bool = False) -> Show:
    return Show(*tuple(r)[:14], saved=saved)


def _episode(r: sqlite3.Row) -> Episode:
    progress = EpisodeProgress(r[20] or 0, bool(r[21]), _iso_ms(r[22])) if r[22] is not None else EpisodeProgress()
    return Episode(
        id=r[0], show_id=r[1], show_title=r[2], guid=r[3], title=r[4], description=r[5], published_at=r[6],
        duration_s=r[7], link=r[8], enclosure_url=r[9], enclosure_type=r[10], enclosure_length=r[11], status=r[12],
        error=r[13], size=r[14], format=r[15], chapters=_CHAPTERS.decode(r[16]),
        transcripts=_TRANSCRIPTS.decode(r[17]), image_url=r[18], created_at=r[19], cover_id=r[23], progress=progress,
    )


class ChannelState(msgspec.Struct, frozen=True, array_like=True):
    """What a refresh needs of a channel."""

    id: str
    feed_url: str
    etag: str | None
    last_modified: str | None
    failures: int


class EpisodeFile(msgspec.Struct, frozen=True, array_like=True):
    """Where an episode's audio is and what it is (the playback path's view)."""

    id: str
    channel_id: str
    title: str
    enclosure_url: str
    enclosure_type: str | None
    enclosure_length: int | None
    status: str
    path: str | None
    format: str | None
    size: int | None
    bitrate: int | None
    duration_s: float | None


_FILE_COLS = ("id, channel_id, title, enclosure_url, enclosure_type, enclosure_length, status, path, format, size,"
              " bitrate, duration_s")


class PodcastRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- channels ----

    async def add_channel(self, feed_url: str, added_by: str | None, due: str) -> tuple[str, bool]:
        """The channel of a feed URL, created when new (first scheduled refresh at `due`): (id, created)."""
        cid, now = show_id(feed_url), utc_now()
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "INSERT INTO podcast_channels (id, feed_url, added_by, next_refresh_at, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (feed_url) DO NOTHING",
                (cid, feed_url, added_by, due, now, now))
            return cid, cur.rowcount > 0

    async def channel_for_url(self, feed_url: str) -> str | None:
        row = await self.db.fetchone("SELECT id FROM podcast_channels WHERE feed_url = ?", (feed_url,))
        return row[0] if row else None

    async def shows(self, ids: Sequence[str]) -> list[Show | None]:
        """Shows in the order of `ids`; None where unknown."""
        rows = await self.db.fetchall(f"SELECT {_SHOW_COLS} FROM podcast_channels c WHERE c.id IN ({_IDS})",
                                      (json.dumps(list(ids)),))
        found = {r[0]: _show(r) for r in rows}
        return [found.get(i) for i in ids]

    async def all_shows(self) -> list[Show]:
        rows = await self.db.fetchall(f"SELECT {_SHOW_COLS} FROM podcast_channels c ORDER BY fold(c.title), c.title")
        return [_show(r) for r in rows]

    async def channel_state(self, channel_id: str) -> ChannelState | None:
        row = await self.db.fetchone(
            "SELECT id, feed_url, etag, last_modified, failures FROM podcast_channels WHERE id = ?", (channel_id,))
        return ChannelState(*row) if row else None

    async def due(self, now: str) -> list[ChannelState]:
        rows = await self.db.fetchall(
            "SELECT id, feed_url, etag, last_modified, failures FROM podcast_channels WHERE next_refresh_at <= ?"
            " ORDER BY next_refresh_at", (now,))
        return [ChannelState(*r) for r in rows]

    async def delete_channel(self, channel_id: str) -> list[str]:
        """Remove a channel with its episodes and progress; the paths of its downloaded files."""
        async with self.db.transaction() as conn:
            rows = await (await conn.execute(
                "SELECT path FROM podcast_episodes WHERE channel_id = ? AND path IS NOT NULL", (channel_id,)
            )).fetchall()
            await conn.execute("DELETE FROM podcast_channels WHERE id = ?", (channel_id,))
        return [r[0] for r in rows]

    async def refreshed(self, channel_id: str, info: FeedInfo, etag: str | None, last_modified: str | None,
                        next_refresh: str) -> list[str]:
        """Store a successful refresh: the channel's fields and every item (new ones added, known ones
        updated, downloads untouched) in one transaction; the ids of the new episodes."""
        now = utc_now()
        new: list[str] = []
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE podcast_channels SET title = ?, author = ?, description = ?, link = ?, image_url = ?,"
                " language = ?, categories = ?, status = 'ok', error = ?, failures = 0, etag = ?, last_modified = ?,"
                " last_refresh_at = ?, next_refresh_at = ?, updated_at = ? WHERE id = ?",
                (info.title, info.author, info.description, info.link, info.image_url, info.language,
                 json.dumps(info.categories), "; ".join(info.problems)[:2000] or None, etag, last_modified, now,
                 next_refresh, now, channel_id))
            for it in info.items:
                eid = episode_id(channel_id, it.guid)
                cur = await conn.execute(
                    "INSERT INTO podcast_episodes (id, channel_id, guid, title, description, published_at, duration_s,"
                    " link, enclosure_url, enclosure_type, enclosure_length, image_url, chapters_url, chapters,"
                    " transcripts, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (channel_id, guid) DO UPDATE SET title = excluded.title,"
                    " description = excluded.description, published_at = excluded.published_at,"
                    " duration_s = coalesce(excluded.duration_s, duration_s), link = excluded.link,"
                    " enclosure_url = excluded.enclosure_url, enclosure_type = excluded.enclosure_type,"
                    " enclosure_length = excluded.enclosure_length, image_url = excluded.image_url,"
                    " chapters_url = excluded.chapters_url,"
                    " chapters = CASE WHEN excluded.chapters = '[]' THEN chapters ELSE excluded.chapters END,"
                    " transcripts = excluded.transcripts, updated_at = excluded.updated_at"
                    " RETURNING created_at",
                    (eid, channel_id, it.guid, it.title, it.description, it.published_at, it.duration_s, it.link,
                     it.enclosure_url, it.enclosure_type, it.enclosure_length, it.image_url, it.chapters_url,
                     msgspec.json.encode(it.chapters).decode(), msgspec.json.encode(it.transcripts).decode(), now,
                     now))
                row = await cur.fetchone()
                if row is not None and row[0] == now:
                    new.append(eid)
        return new

    async def cover_wanted(self, channel_id: str) -> str | None:
        """The channel's image URL when its cover is missing or was fetched from another URL."""
        row = await self.db.fetchone(
            "SELECT image_url FROM podcast_channels WHERE id = ? AND image_url IS NOT NULL"
            " AND (cover_id IS NULL OR cover_url IS NOT image_url)", (channel_id,))
        return row[0] if row else None

    async def set_cover(self, channel_id: str, cover: CoverRef, url: str) -> None:
        """Store a fetched image in the covers table and name it the channel's cover."""
        now = utc_now()
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT OR IGNORE INTO covers (id, mime, width, height, size, source, created_at)"
                " VALUES (?, ?, ?, ?, ?, 'podcast', ?)",
                (cover.id, cover.mime, cover.width, cover.height, cover.size, now))
            await conn.execute("UPDATE podcast_channels SET cover_id = ?, cover_url = ? WHERE id = ?",
                               (cover.id, url, channel_id))

    async def not_modified(self, channel_id: str, next_refresh: str) -> None:
        now = utc_now()
        await self.db.execute(
            "UPDATE podcast_channels SET status = 'ok', failures = 0, last_refresh_at = ?, next_refresh_at = ?,"
            " updated_at = ? WHERE id = ?", (now, next_refresh, now, channel_id))

    async def failed(self, channel_id: str, error: str, failures: int, next_refresh: str) -> None:
        """A failed refresh: the error and the backoff; the channel's episodes stay as they were."""
        now = utc_now()
        await self.db.execute(
            "UPDATE podcast_channels SET status = 'error', error = ?, failures = ?, last_refresh_at = ?,"
            " next_refresh_at = ?, updated_at = ? WHERE id = ?",
            (error[:2000], failures, now, next_refresh, now, channel_id))

    async def request_refresh(self, channel_ids: Sequence[str] | None = None) -> None:
        """Make channels due now (all when None)."""
        now = utc_now()
        if channel_ids is None:
            await self.db.execute("UPDATE podcast_channels SET next_refresh_at = ?", (now,))
        else:
            await self.db.execute(f"UPDATE podcast_channels SET next_refresh_at = ? WHERE id IN ({_IDS})",
                                  (now, json.dumps(list(channel_ids))))

    # ---- episodes ----

    async def episodes(self, ids: Sequence[str], user_id: str | None) -> list[Episode | None]:
        rows = await self.db.fetchall(f"SELECT {_EP_COLS} FROM {_EP_FROM} WHERE e.id IN ({_IDS})",
                                      (user_id, json.dumps(list(ids))))
        found = {r[0]: _episode(r) for r in rows}
        return [found.get(i) for i in ids]

    async def show_episodes(self, channel_id: str, user_id: str | None, limit: int, offset: int
                            ) -> tuple[list[Episode], int]:
        """A show's episodes, newest first, and how many it has."""
        rows = await self.db.fetchall(
            f"SELECT {_EP_COLS} FROM {_EP_FROM} WHERE e.channel_id = ? ORDER BY {_NEWEST} LIMIT ? OFFSET ?",
            (user_id, channel_id, limit, offset))
        total = await self.db.fetchone("SELECT count(*) FROM podcast_episodes WHERE channel_id = ?", (channel_id,))
        return [_episode(r) for r in rows], int(total[0]) if total else 0

    async def newest(self, user_id: str | None, limit: int) -> list[Episode]:
        rows = await self.db.fetchall(f"SELECT {_EP_COLS} FROM {_EP_FROM} ORDER BY {_NEWEST} LIMIT ?",
                                      (user_id, limit))
        return [_episode(r) for r in rows]

    async def in_progress(self, user_id: str, limit: int) -> list[Episode]:
        """Episodes the user started and has not finished, the most recently heard first."""
        rows = await self.db.fetchall(
            f"SELECT {_EP_COLS} FROM {_EP_FROM} WHERE p.played = 0 AND p.position_ms > 0"
            " ORDER BY p.updated_ms DESC LIMIT ?", (user_id, limit))
        return [_episode(r) for r in rows]

    async def file(self, episode_id: str) -> EpisodeFile | None:
        row = await self.db.fetchone(f"SELECT {_FILE_COLS} FROM podcast_episodes WHERE id = ?", (episode_id,))
        return EpisodeFile(*row) if row else None

    async def newest_per_channel(self, channel_id: str, n: int) -> list[EpisodeFile]:
        rows = await self.db.fetchall(
            f"SELECT {_FILE_COLS} FROM podcast_episodes e WHERE channel_id = ? ORDER BY {_NEWEST} LIMIT ?",
            (channel_id, n))
        return [EpisodeFile(*r) for r in rows]

    async def downloaded_beyond(self, channel_id: str, keep: int) -> list[EpisodeFile]:
        """Downloaded episodes of a channel past the newest `keep` downloads, or past the most an active offline
        device keeps of the show (offline_marks.episodes), when that is more."""
        rows = await self.db.fetchall(
            f"SELECT {_FILE_COLS} FROM podcast_episodes e WHERE channel_id = ? AND status = 'completed'"
            f" ORDER BY {_NEWEST} LIMIT -1 OFFSET max(?, (SELECT coalesce(max(m.episodes), 0) FROM offline_marks m"
            " JOIN offline_devices d ON d.id = m.device_id WHERE m.source_type = 'show' AND m.source_id = ?"
            " AND d.revoked_at IS NULL))", (channel_id, keep, channel_id))
        return [EpisodeFile(*r) for r in rows]

    async def set_download(self, episode_id: str, status: str, *, path: str | None = None, fmt: str | None = None,
                           size: int | None = None, bitrate: int | None = None, duration_s: float | None = None,
                           error: str | None = None) -> None:
        await self.db.execute(
            "UPDATE podcast_episodes SET status = ?, path = ?, format = ?, size = ?, bitrate = ?,"
            " duration_s = coalesce(?, duration_s), error = ?, updated_at = ? WHERE id = ?",
            (status, path, fmt, size, bitrate, duration_s, error and error[:2000], utc_now(), episode_id))

    async def set_chapters(self, episode_id: str, chapters: list[Chapter]) -> None:
        await self.db.execute("UPDATE podcast_episodes SET chapters = ? WHERE id = ?",
                              (msgspec.json.encode(chapters).decode(), episode_id))

    async def chapter_urls(self, episode_ids: Sequence[str]) -> list[tuple[str, str]]:
        rows = await self.db.fetchall(
            f"SELECT id, chapters_url FROM podcast_episodes WHERE id IN ({_IDS}) AND chapters_url IS NOT NULL"
            " AND chapters = '[]'", (json.dumps(list(episode_ids)),))
        return [(r[0], r[1]) for r in rows]

    async def stale_downloads(self) -> list[EpisodeFile]:
        """Episodes left 'downloading' by a stopped server."""
        rows = await self.db.fetchall(f"SELECT {_FILE_COLS} FROM podcast_episodes WHERE status = 'downloading'")
        return [EpisodeFile(*r) for r in rows]

    async def find_episode(self, feed_url: str, episode_url: str, guid: str | None = None) -> str | None:
        """An episode by its feed's URL and its enclosure URL (or guid), as gPodder clients name episodes."""
        row = await self.db.fetchone(
            "SELECT e.id FROM podcast_episodes e JOIN podcast_channels c ON c.id = e.channel_id"
            " WHERE c.feed_url = ? AND (e.enclosure_url = ? OR e.guid = ?) LIMIT 1",
            (feed_url, episode_url, guid or episode_url))
        return row[0] if row else None

    # ---- search ----

    async def search_rows(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Shows and episodes as the search index wants them (name, artists, album, genres, text)."""
        shows = await self.db.fetchall("SELECT id, title, author, categories, description FROM podcast_channels")
        eps = await self.db.fetchall(
            "SELECT e.id, e.title, c.author, c.title, e.description, e.published_at FROM podcast_episodes e"
            " JOIN podcast_channels c ON c.id = e.channel_id")
        return ([{"id": r[0], "name": r[1], "artists": [r[2]] if r[2] else [], "genres": json.loads(r[3]),
                  "text": r[4]} for r in shows],
                [{"id": r[0], "name": r[1], "artists": [r[2]] if r[2] else [], "album": r[3], "text": r[4],
                  "year": int(r[5][:4]) if r[5] else None} for r in eps])
