"""What this server offers its paired peers (the `/fed/v1` endpoints): catalogue pages, the change feed,
shared playlists, users and their shared listening, and the bytes of its tracks.

Only local items are offered: a track mirrored from a third server is never passed on (no transitive
federation), so a peer sees exactly what its friend has.
"""

from __future__ import annotations

import msgspec

from musicd.domain.federation import (
    ActivityItem,
    CatalogPage,
    ChangeItem,
    ChangesPage,
    PlaylistItem,
    PlaylistsPage,
    TrackItem,
    UserItem,
)
from musicd.domain.ids import is_federated
from musicd.domain.models import User, UserSettings
from musicd.errors import NotFoundError, ValidationError
from musicd.services.accounts import AccountService
from musicd.services.playback import Body, PlaybackService
from musicd.store.db import utc_now
from musicd.store.fed_export import FedExportRepository
from musicd.store.fed_peers import FedPeerRepository
from musicd.store.playlists import PlaylistRepository

__all__ = ["MAX_PAGE", "FedExportService"]

MAX_PAGE = 500


def _limit(limit: int) -> int:
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationError(f"limit must be between 1 and {MAX_PAGE}", code="bad_paging")
    return limit


def _sharing(settings: UserSettings) -> bool:
    # The consent rule of friend activity (the realtime channel's): off unless the user turned
    # `share_activity` on, and never during a private session.
    return settings.sharing_at(utc_now())


class FedExportService:
    def __init__(self, export: FedExportRepository, peers: FedPeerRepository, playlists: PlaylistRepository,
                 accounts: AccountService, playback: PlaybackService) -> None:
        self.export = export
        self.peers = peers
        self.playlists = playlists
        self.accounts = accounts
        self.playback = playback

    async def catalog(self, after: str, limit: int) -> CatalogPage:
        """Tracks by id after `after`; `cursor` is where the change feed takes over once the pages are read."""
        limit = _limit(limit)
        cursor = await self.export.head()  # read first: a change made while paging is in the feed after it
        rows = await self.export.catalog_page(after, limit)
        items = [msgspec.convert(r, TrackItem) for r in rows]
        nxt = items[-1].id if len(items) == limit else None
        return CatalogPage(items, cursor, await self.export.track_count(), nxt)

    async def changes(self, since: int, limit: int) -> ChangesPage:
        """Changes after `since`, oldest first: each a track as it is now, or a tombstone."""
        limit = _limit(limit)
        if not 0 <= since <= 2**62:
            raise ValidationError("since must be a change number >= 0", code="bad_paging")
        head = await self.export.head()
        changes = await self.export.changes(since, limit)
        items_by_id = await self.export.items([tid for _, tid, deleted in changes if not deleted])
        out: list[ChangeItem] = []
        for seq, tid, deleted in changes:
            row = items_by_id.get(tid)
            if deleted or row is None:
                out.append(ChangeItem(seq, tid, True))
            else:
                out.append(ChangeItem(seq, tid, False, msgspec.convert(row, TrackItem)))
        nxt = changes[-1][0] if len(changes) == limit else None
        return ChangesPage(out, head, nxt)

    async def shared_playlists(self, peer_id: str) -> PlaylistsPage:
        """The playlists their owners shared with this peer, with their tracks' ids."""
        ids = await self.peers.playlists_shared_with(peer_id)
        tracks = await self.export.playlist_tracks(ids)
        out: list[PlaylistItem] = []
        for pid in ids:
            found = await self.playlists.get(pid)
            if found is None:
                continue
            pl = found[0]
            local = [t for t in tracks.get(pid, []) if not is_federated(t)][:10_000]
            out.append(PlaylistItem(pl.id, pl.name[:500], pl.owner_name, local, pl.updated_at, pl.description[:5000]))
        return PlaylistsPage(out[:500])

    async def _user(self, username: str) -> User:
        # By username only: `find` also takes an e-mail address, which a peer must not be able to probe.
        u = await self.accounts.find(username)
        if u is None or u.disabled or u.username.casefold() != username.casefold():
            raise NotFoundError(f"no user {username!r}", code="user_not_found")
        return u

    async def user(self, username: str) -> UserItem:
        u = await self._user(username)
        return UserItem(u.username, u.display_name)

    async def activity(self, username: str) -> ActivityItem:
        """What a user last played, if they share their listening; nothing otherwise."""
        u = await self._user(username)
        if not _sharing(u.settings):
            return ActivityItem(u.username, u.display_name, False)
        last = await self.export.last_play(u.id)
        if last is None:
            return ActivityItem(u.username, u.display_name, True)
        items = await self.export.items([last[0]])
        row = items.get(last[0])
        track = msgspec.convert(row, TrackItem) if row else None
        return ActivityItem(u.username, u.display_name, True, track, last[1])

    async def open_track(self, track_id: str, quality: str, time_offset: float, head: bool) -> Body:
        """The bytes of a local track at a quality (the origin transcodes), for a peer's proxy."""
        if is_federated(track_id):
            raise NotFoundError(f"no track with id {track_id}", code="track_not_found")
        q = await self.playback.quality_for(None, quality)
        return await self.playback.open_track(track_id, q, time_offset=time_offset, head=head)
