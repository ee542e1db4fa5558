"""Shares (Subsonic createShare & co): public, optionally expiring links to songs, albums, artists or playlists.

A share's id is its link token (128 random bits). Anyone with the link may list and play the shared
tracks, and nothing else; an expired share is gone for visitors but still listed for its owner.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import msgspec

from musicd.domain.catalog import TrackView
from musicd.domain.ids import random_id
from musicd.domain.models import User
from musicd.errors import ForbiddenError, NotFoundError, ValidationError
from musicd.services.accounts import AccountService
from musicd.services.catalog import CatalogService
from musicd.services.playlists import PlaylistService
from musicd.store.shares import ShareRecord, ShareRepository

__all__ = ["MAX_SHARE_TRACKS", "Share", "ShareService"]

MAX_SHARE_TRACKS = 1000
_MAX_ITEMS = 100
_MAX_DESCRIPTION = 1000


class Share(msgspec.Struct, frozen=True):
    id: str
    user_id: str
    username: str
    description: str | None
    created_at: str
    expires_at: str | None
    last_visited_at: str | None
    visit_count: int
    tracks: list[TrackView]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _expired(rec: ShareRecord) -> bool:
    return rec.expires_at is not None and rec.expires_at <= _now()


class ShareService:
    def __init__(self, repo: ShareRepository, catalog: CatalogService, playlists: PlaylistService,
                 accounts: AccountService) -> None:
        self.repo = repo
        self.catalog = catalog
        self.playlists = playlists
        self.accounts = accounts

    async def _kind(self, user: User, item_id: str) -> str:
        for kind, lookup in (("track", self.catalog.track), ("album", self.catalog.album),
                             ("artist", self.catalog.artist)):
            try:
                await lookup(item_id)
                return kind
            except NotFoundError:
                pass
        await self.playlists.get(user, item_id)  # NotFoundError unless the user may read it
        return "playlist"

    async def _tracks(self, owner: User | None, items: Sequence[tuple[str, str]], viewer_id: str | None
                      ) -> list[TrackView]:
        out: list[TrackView] = []
        for kind, item_id in items:
            try:
                if kind == "track":
                    out.append(await self.catalog.track(item_id, viewer_id))
                elif kind == "album":
                    out += await self.catalog.album_tracks(item_id, viewer_id)
                elif kind == "artist":
                    page = await self.catalog.artist_albums(item_id, viewer_id, limit=200, include_groups=("album",))
                    for album in page.items:
                        out += await self.catalog.album_tracks(album.id, viewer_id)
                elif owner is not None:
                    _, entries = await self.playlists.subsonic_get(owner, item_id)
                    out += [e.track for e in entries if e.track is not None]
            except (NotFoundError, ForbiddenError):
                continue  # removed from the library (or the playlist) since it was shared
            if len(out) >= MAX_SHARE_TRACKS:
                break
        return out[:MAX_SHARE_TRACKS]

    async def _view(self, rec: ShareRecord, viewer_id: str | None) -> Share:
        try:
            owner: User | None = await self.accounts.get(rec.user_id)
        except NotFoundError:
            owner = None
        tracks = await self._tracks(owner, rec.items, viewer_id)
        return Share(rec.id, rec.user_id, rec.username, rec.description, rec.created_at, rec.expires_at,
                     rec.last_visited_at, rec.visit_count, tracks)

    @staticmethod
    def _check(description: str | None, expires_at: str | None) -> None:
        if description is not None and len(description) > _MAX_DESCRIPTION:
            raise ValidationError(f"description: at most {_MAX_DESCRIPTION} characters", code="bad_description")
        if expires_at is not None and expires_at <= _now():
            raise ValidationError("expiry must be in the future", code="bad_expiry")

    async def create(self, user: User, ids: Sequence[str], description: str | None = None,
                     expires_at: str | None = None) -> Share:
        """Share songs, albums, artists or playlists the user can see (guests cannot share)."""
        if user.role == "guest":
            raise ForbiddenError("guest accounts cannot share", code="guest_read_only")
        ids = list(dict.fromkeys(ids))
        if not ids or len(ids) > _MAX_ITEMS:
            raise ValidationError(f"share 1 to {_MAX_ITEMS} items", code="bad_items")
        self._check(description, expires_at)
        items = [(await self._kind(user, i), i) for i in ids]
        share_id = random_id()
        await self.repo.insert(share_id, user.id, description, expires_at, items)
        rec = await self.repo.get(share_id)
        assert rec is not None
        return await self._view(rec, user.id)

    async def list(self, user: User) -> list[Share]:
        """The user's shares, expired ones included, oldest first."""
        return [await self._view(r, user.id) for r in await self.repo.for_user(user.id)]

    async def _own(self, user: User, share_id: str) -> ShareRecord:
        rec = await self.repo.get(share_id)
        if rec is None or (rec.user_id != user.id and user.role != "admin"):
            raise NotFoundError("no such share", code="share_not_found")
        return rec

    async def update(self, user: User, share_id: str, description: str | None, expires_at: str | None,
                     keep_expiry: bool = False) -> None:
        """Change the description and expiry (None: never expires; `keep_expiry` leaves it as is)."""
        rec = await self._own(user, share_id)
        expires = rec.expires_at if keep_expiry else expires_at
        self._check(description, None if keep_expiry else expires_at)
        await self.repo.update(share_id, description if description is not None else rec.description, expires)

    async def delete(self, user: User, share_id: str) -> None:
        await self._own(user, share_id)
        await self.repo.delete(share_id)

    async def open(self, share_id: str, count_visit: bool = True) -> Share:
        """A share as its visitors see it; NotFoundError when unknown or expired."""
        rec = await self.repo.get(share_id) if 8 <= len(share_id) <= 64 else None
        if rec is None or _expired(rec):
            raise NotFoundError("no such share", code="share_not_found")
        if count_visit:
            await self.repo.visited(share_id)
        return await self._view(rec, None)

    async def shared_track(self, share_id: str, track_id: str) -> TrackView:
        """A track of a share, for a visitor to play; NotFoundError when it is not part of it."""
        share = await self.open(share_id, count_visit=False)
        for t in share.tracks:
            if t.id == track_id:
                return t
        raise NotFoundError("no such track in this share", code="track_not_found")
