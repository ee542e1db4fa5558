"""The saved play queue of a user, to move between devices (Subsonic savePlayQueue, by id or by index)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

from musicd.domain.catalog import TrackView
from musicd.domain.models import User
from musicd.errors import NotFoundError, ValidationError
from musicd.services.catalog import CatalogService
from musicd.services.rules import require_member
from musicd.store.play_queues import PlayQueueRepository

if TYPE_CHECKING:
    from musicd.services.player_subsonic import SubsonicPlayback

__all__ = ["MAX_QUEUE", "PlayQueue", "PlayQueueService"]

MAX_QUEUE = 5000


class PlayQueue(msgspec.Struct, frozen=True):
    tracks: list[TrackView]
    current_index: int | None  # into `tracks`; None when nothing is current
    position_ms: int
    changed_at: str
    changed_by: str  # the client app that saved it

    @property
    def current(self) -> TrackView | None:
        return self.tracks[self.current_index] if self.current_index is not None else None


class PlayQueueService:
    def __init__(self, repo: PlayQueueRepository, catalog: CatalogService) -> None:
        self.repo = repo
        self.catalog = catalog
        self.playback: SubsonicPlayback | None = None  # a saved queue also feeds the server-held playback

    async def get(self, user_id: str) -> PlayQueue | None:
        """The saved queue; tracks removed from the library since are dropped and the index follows."""
        rec = await self.repo.get(user_id)
        if rec is None:
            return None
        found = await self.catalog.tracks(rec.track_ids, user_id)
        tracks: list[TrackView] = []
        current = None
        for i, t in enumerate(found):
            if i == rec.current_index:
                current = len(tracks)  # the entry itself, or the one after it when it is gone
            if t is not None:
                tracks.append(t)
        if current is not None and current >= len(tracks):
            current = None
        return PlayQueue(tracks, current, rec.position_ms, rec.changed_at, rec.changed_by)

    async def save(
        self, user: User, track_ids: list[str], current_index: int | None, position_ms: int, changed_by: str
    ) -> None:
        """Replace the queue. An empty list clears it; `current_index` must point into the list."""
        require_member(user)
        if not track_ids:
            await self.repo.clear(user.id)
            return
        if len(track_ids) > MAX_QUEUE:
            raise ValidationError(f"a play queue holds at most {MAX_QUEUE} tracks", code="queue_too_long")
        if current_index is not None and not 0 <= current_index < len(track_ids):
            raise ValidationError("current index is outside the queue", code="bad_index")
        if position_ms < 0:
            raise ValidationError("position must not be negative", code="bad_position")
        found = await self.catalog.tracks(list(dict.fromkeys(track_ids)))
        missing = [t for t, f in zip(dict.fromkeys(track_ids), found, strict=True) if f is None]
        if missing:
            raise NotFoundError(f"no track with id {missing[0]}", code="track_not_found")
        await self.repo.save(user.id, track_ids, current_index, position_ms, changed_by[:100] or "unknown")
        if self.playback is not None:
            await self.playback.queue_saved(user, changed_by, track_ids, current_index, position_ms)
