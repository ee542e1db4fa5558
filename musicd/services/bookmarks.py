"""Bookmarks: a resume position in a track, one per user and track (Subsonic createBookmark & co)."""

from __future__ import annotations

from typing import Protocol

import msgspec

from musicd.domain.catalog import TrackView
from musicd.domain.models import User
from musicd.domain.podcasts import Episode
from musicd.errors import ValidationError
from musicd.services.catalog import CatalogService
from musicd.services.rules import require_member
from musicd.store.bookmarks import BookmarkRepository

__all__ = ["Bookmark", "BookmarkService"]

_MAX_COMMENT = 1000


class EpisodeBookmarks(Protocol):
    """Podcast episodes: their bookmark is the user's one position in the episode (services/podcasts.py)."""

    async def has_episode(self, item_id: str) -> bool: ...
    async def bookmark(self, user_id: str, episode_id: str, position_ms: int) -> None: ...
    async def bookmarks(self, user_id: str) -> list[Episode]: ...
    async def clear_bookmark(self, user_id: str, episode_id: str) -> bool: ...


class Bookmark(msgspec.Struct, frozen=True):
    track: TrackView | Episode
    position_ms: int
    comment: str | None
    created_at: str
    changed_at: str


class BookmarkService:
    def __init__(self, repo: BookmarkRepository, catalog: CatalogService) -> None:
        self.repo = repo
        self.catalog = catalog
        self._episodes: EpisodeBookmarks | None = None

    def attach_episodes(self, episodes: EpisodeBookmarks) -> None:
        """Bookmarks of podcast episodes go to their listening position."""
        self._episodes = episodes

    async def list(self, user_id: str) -> list[Bookmark]:
        """The user's bookmarks, the most recently changed first; those of removed tracks are skipped."""
        recs = await self.repo.for_user(user_id)
        tracks = await self.catalog.tracks([r.track_id for r in recs], user_id)
        out = [Bookmark(t, r.position_ms, r.comment, r.created_at, r.updated_at)
               for r, t in zip(recs, tracks, strict=True) if t is not None]
        for e in await self._episodes.bookmarks(user_id) if self._episodes else []:
            at = e.progress.updated_at or e.created_at
            out.append(Bookmark(e, e.progress.position_ms, None, at, at))
        return out

    async def save(self, user: User, track_id: str, position_ms: int, comment: str | None = None) -> None:
        """Create or move the bookmark of a track (NotFoundError for an unknown track)."""
        require_member(user)
        if position_ms < 0:
            raise ValidationError("position must not be negative", code="bad_position")
        if comment is not None and len(comment) > _MAX_COMMENT:
            raise ValidationError(f"comment: at most {_MAX_COMMENT} characters", code="bad_comment")
        if self._episodes is not None and await self._episodes.has_episode(track_id):
            await self._episodes.bookmark(user.id, track_id, position_ms)
            return
        await self.catalog.track(track_id)
        await self.repo.upsert(user.id, track_id, position_ms, comment)

    async def delete(self, user: User, track_id: str) -> bool:
        """Remove a bookmark; False when there was none."""
        require_member(user)
        if self._episodes is not None and await self._episodes.has_episode(track_id):
            return await self._episodes.clear_bookmark(user.id, track_id)
        return await self.repo.delete(user.id, track_id)
