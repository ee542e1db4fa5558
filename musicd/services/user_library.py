"""A user's own library, for both APIs: saved (starred) items, ratings, follows, recently played, tops.

Public methods (writes take the asking domain User: guests change nothing, see musicd.services.rules):
- save / unsave (kind, ids, user); contains(kind, ids, user_id) -> list[bool]; kind in "track"|"album"|"artist"
- saved(kind, user_id, limit, offset) -> Page of TrackView | AlbumView | ArtistView, the last saved first
- set_rating(kind, item_id, user, rating 0..5; 0 removes); rate(user, item_id, rating): any kind of id
- star / unstar (user, ids of any kind, album_ids, artist_ids): Subsonic's star, whatever the ids name
- follow / unfollow (kind "artist"|"user", ids, user); is_following(kind, ids, user_id) -> list[bool]
- library_add / library_remove (user, [(kind, id)]), library_contains(user, [(kind, id)]) -> list[bool]:
  Spotify's /me/library, where kind is track, album (saves), artist, user (follows) or playlist (follows)
- followed_artists(user_id, limit, after) -> CursorPage[ArtistView]; followed_users(user_id) -> list of user ids
- recently_played(user_id, limit, before_ms, after_ms) -> CursorPage[PlayedTrack] (cursors are unix ms)
- top_tracks / top_artists(user_id, time_range "short_term"|"medium_term"|"long_term", limit, offset) -> Page
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from musicd.domain.catalog import AlbumView, ArtistView, CursorPage, Page, PlayedTrack, TrackView
from musicd.domain.events import FollowsChanged, RatingChanged, SavesChanged
from musicd.domain.models import User
from musicd.domain.stamps import utc_iso
from musicd.errors import NotFoundError, ValidationError
from musicd.services.bus import EventBus
from musicd.services.catalog import item_not_found
from musicd.services.playlists import PlaylistService
from musicd.services.rules import require_member
from musicd.store.browse import BrowseRepository
from musicd.store.user_library import UserLibraryRepository

__all__ = ["ITEM_KINDS", "LIBRARY_KINDS", "TIME_RANGES", "UserLibraryService"]

ITEM_KINDS = ("track", "album", "artist")
FOLLOW_KINDS = ("artist", "user")
LIBRARY_KINDS = ("track", "album", "artist", "user", "playlist", "show")
# Spotify's windows: about 4 weeks, about 6 months, all time.
TIME_RANGES: dict[str, timedelta | None] = {
    "short_term": timedelta(weeks=4), "medium_term": timedelta(days=182), "long_term": None,
}


class ShowLibrary(Protocol):
    """Podcast subscriptions, as saved shows."""

    async def save_shows(self, user: User, show_ids: Sequence[str]) -> None: ...
    async def remove_shows(self, user: User, show_ids: Sequence[str]) -> None: ...
    async def saved_contains(self, user_id: str, show_ids: Sequence[str]) -> list[bool]: ...



def _ms_to_iso(ms: int) -> str:
    try:
        return utc_iso(datetime.fromtimestamp(ms / 1000, UTC))
    except (OverflowError, OSError, ValueError):
        raise ValidationError("cursor out of range (unix milliseconds)", code="bad_cursor") from None


def iso_to_ms(iso: str) -> int:
    """Unix milliseconds of an ISO-8601 time stamp ("Z" or an offset)."""
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)


def _kind(kind: str, allowed: Sequence[str]) -> str:
    if kind not in allowed:
        raise ValidationError(f"type must be one of {', '.join(allowed)}", code="bad_type")
    return kind


def _paging(limit: int, offset: int = 0) -> None:
    if limit < 0 or offset < 0:
        raise ValidationError("limit and offset must not be negative", code="bad_paging")


class UserLibraryService:
    """Everything here acts for one user, named by `user_id`."""

    def __init__(self, repo: UserLibraryRepository, browse: BrowseRepository, playlists: PlaylistService,
                 bus: EventBus) -> None:
        self.repo = repo
        self.browse = browse
        self.playlists = playlists
        self.bus = bus
        self._shows: ShowLibrary | None = None

    def attach_shows(self, shows: ShowLibrary) -> None:
        """Saved shows (podcast subscriptions) of the generic /me/library (services/podcasts.py)."""
        self._shows = shows

    async def _require(self, kind: str, ids: Sequence[str]) -> list[str]:
        """The ids, deduplicated in order; NotFoundError naming the first unknown one."""
        wanted = list(dict.fromkeys(ids))
        found = await self.browse.existing(kind, wanted) if wanted else set()
        for i in wanted:
            if i not in found:
                raise NotFoundError(f"no {kind} with id {i}", code=f"{kind}_not_found")
        return wanted

    # ---- saved ----

    async def save(self, kind: str, ids: Sequence[str], user: User) -> None:
        """Save (star) items; every id must exist."""
        require_member(user)
        wanted = await self._require(_kind(kind, ITEM_KINDS), ids)
        if wanted:
            await self.repo.save(user.id, kind, wanted)
            self.bus.publish(SavesChanged(user_id=user.id, kind=kind, ids=tuple(wanted), saved=True))

    async def unsave(self, kind: str, ids: Sequence[str], user: User) -> None:
        """Remove saved items; ids that were not saved are ignored."""
        require_member(user)
        if ids:
            await self.repo.unsave(user.id, _kind(kind, ITEM_KINDS), list(ids))
            self.bus.publish(SavesChanged(user_id=user.id, kind=kind, ids=tuple(dict.fromkeys(ids)), saved=False))

    async def _kinds(self, ids: Sequence[str]) -> dict[str, list[str]]:
        """Ids of unknown kind (Subsonic's folder-style `id`) sorted into tracks, albums and artists."""
        out: dict[str, list[str]] = {k: [] for k in ITEM_KINDS}
        for item_id in ids:
            kind = await self.browse.kind_of(item_id)
            if kind is None:
                raise item_not_found(item_id)
            out[kind].append(item_id)
        return out

    async def star(self, user: User, ids: Sequence[str] = (), album_ids: Sequence[str] = (),
                   artist_ids: Sequence[str] = ()) -> None:
        """Star songs, albums and artists; `ids` may name any of them (folder-based clients send those)."""
        require_member(user)
        by_kind = await self._kinds(ids)
        by_kind["album"] += album_ids
        by_kind["artist"] += artist_ids
        for kind, wanted in by_kind.items():
            if wanted:
                await self.save(kind, wanted, user)

    async def unstar(self, user: User, ids: Sequence[str] = (), album_ids: Sequence[str] = (),
                     artist_ids: Sequence[str] = ()) -> None:
        """Unstar; an unknown id is no error, and an id in `ids` is unstarred whatever it names."""
        require_member(user)
        for kind, wanted in (("track", ids), ("album", [*album_ids, *ids]), ("artist", [*artist_ids, *ids])):
            await self.unsave(kind, wanted, user)

    async def contains(self, kind: str, ids: Sequence[str], user_id: str) -> list[bool]:
        """For each id, whether the user saved it."""
        if not ids:
            return []
        saved = await self.repo.saved_among(user_id, _kind(kind, ITEM_KINDS), list(ids))
        return [i in saved for i in ids]

    async def saved(self, kind: str, user_id: str, limit: int = 20, offset: int = 0) -> Page[Any]:
        """Saved items of a kind as read models (state.saved_at set), the most recently saved first."""
        _kind(kind, ITEM_KINDS)
        _paging(limit, offset)
        ids, total = await self.repo.saved_page(user_id, kind, limit, offset)
        items: list[TrackView | AlbumView | ArtistView | None]
        if kind == "track":
            items = list(await self.browse.tracks(ids, user_id))
        elif kind == "album":
            items = list(await self.browse.albums(ids, user_id))
        else:
            items = list(await self.browse.artists(ids, user_id))
        return Page(items=[i for i in items if i is not None], total=total, limit=limit, offset=offset)

    # ---- ratings ----

    async def set_rating(self, kind: str, item_id: str, user: User, rating: int) -> None:
        """Rate an item 1..5; 0 removes the rating."""
        require_member(user)
        if not 0 <= rating <= 5:
            raise ValidationError("rating must be between 0 and 5", code="bad_rating")
        await self._require(_kind(kind, ITEM_KINDS), [item_id])
        await self.repo.set_rating(user.id, kind, item_id, rating)
        self.bus.publish(RatingChanged(user_id=user.id, kind=kind, item_id=item_id, rating=rating))

    async def rate(self, user: User, item_id: str, rating: int) -> None:
        """Rate a song, an album or an artist, whichever the id names."""
        require_member(user)
        kind = next(k for k, found in (await self._kinds([item_id])).items() if found)
        await self.set_rating(kind, item_id, user, rating)

    # ---- follows ----

    async def follow(self, kind: str, ids: Sequence[str], user: User) -> None:
        """Follow artists or users; every id must exist; following oneself is refused."""
        require_member(user)
        _kind(kind, FOLLOW_KINDS)
        if kind == "user" and user.id in ids:
            raise ValidationError("you cannot follow yourself", code="follow_self")
        wanted = await self._require(kind, ids)
        if wanted:
            await self.repo.follow(user.id, kind, wanted)
            self.bus.publish(FollowsChanged(user_id=user.id, kind=kind, ids=tuple(wanted), following=True))

    async def unfollow(self, kind: str, ids: Sequence[str], user: User) -> None:
        require_member(user)
        if ids:
            await self.repo.unfollow(user.id, _kind(kind, FOLLOW_KINDS), list(ids))
            self.bus.publish(FollowsChanged(user_id=user.id, kind=kind, ids=tuple(dict.fromkeys(ids)),
                                            following=False))

    async def is_following(self, kind: str, ids: Sequence[str], user_id: str) -> list[bool]:
        if not ids:
            return []
        following = await self.repo.following_among(user_id, _kind(kind, FOLLOW_KINDS), list(ids))
        return [i in following for i in ids]

    async def followed_artists(self, user_id: str, limit: int = 20, after: str | None = None) -> CursorPage[ArtistView]:
        """Followed artists by name; `after` is the id of the last artist of the previous page."""
        _paging(limit)
        ids, total = await self.repo.followed_artists_page(user_id, limit + 1, after)
        more = len(ids) > limit
        ids = ids[:limit]
        items = [a for a in await self.browse.artists(ids, user_id) if a is not None]
        return CursorPage(items=items, total=total, limit=limit, after=ids[-1] if more and ids else None)

    async def followed_users(self, user_id: str) -> list[str]:
        """Ids of the users this user follows, in the order they were followed."""
        return await self.repo.followed_users(user_id)

    # ---- the generic library: saves and follows of any kind, by (kind, id) ----

    async def library_add(self, user: User, items: Sequence[tuple[str, str]]) -> None:
        """Save tracks and albums, follow artists, users and playlists."""
        await self._library(user, items, add=True)

    async def library_remove(self, user: User, items: Sequence[tuple[str, str]]) -> None:
        await self._library(user, items, add=False)

    async def _library(self, user: User, items: Sequence[tuple[str, str]], add: bool) -> None:
        require_member(user)
        for kind, item_id in items:
            if _kind(kind, LIBRARY_KINDS) in ("track", "album"):
                await (self.save if add else self.unsave)(kind, [item_id], user)
            elif kind in FOLLOW_KINDS:
                await (self.follow if add else self.unfollow)(kind, [item_id], user)
            elif kind == "show" and self._shows is not None:
                await (self._shows.save_shows if add else self._shows.remove_shows)(user, [item_id])
            else:
                await (self.playlists.follow if add else self.playlists.unfollow)(user, item_id)

    async def library_contains(self, user: User, items: Sequence[tuple[str, str]]) -> list[bool]:
        """For each item, whether it is saved or followed."""
        out: list[bool] = []
        for kind, item_id in items:
            if _kind(kind, LIBRARY_KINDS) in ("track", "album"):
                out += await self.contains(kind, [item_id], user.id)
            elif kind in FOLLOW_KINDS:
                out += await self.is_following(kind, [item_id], user.id)
            elif kind == "show" and self._shows is not None:
                out += await self._shows.saved_contains(user.id, [item_id])
            else:
                out += await self.playlists.followers_contain(user, item_id, [user.id])
        return out

    # ---- history ----

    async def recently_played(
        self, user_id: str, limit: int = 20, before_ms: int | None = None, after_ms: int | None = None,
    ) -> CursorPage[PlayedTrack]:
        """Plays newest first; cursors (unix ms) page backwards with `before`, forwards with `after`."""
        _paging(limit)
        if before_ms is not None and after_ms is not None:
            raise ValidationError("give before or after, not both", code="bad_cursor")
        before = _ms_to_iso(before_ms) if before_ms is not None else None
        after = _ms_to_iso(after_ms) if after_ms is not None else None
        rows = await self.repo.history(user_id, limit, before, after)
        tracks = await self.browse.tracks(list(dict.fromkeys(r[0] for r in rows)), user_id)
        by_id = {t.id: t for t in tracks if t is not None}
        items = [PlayedTrack(track=by_id[tid], played_at=at, context_uri=ctx) for tid, at, ctx in rows if tid in by_id]
        if not items:
            return CursorPage(items=[], total=0, limit=limit)
        return CursorPage(items=items, total=len(items), limit=limit,
                          after=str(iso_to_ms(items[0].played_at)), before=str(iso_to_ms(items[-1].played_at)))

    async def top_tracks(
        self, user_id: str, time_range: str = "medium_term", limit: int = 20, offset: int = 0
    ) -> Page[TrackView]:
        """The user's most played tracks in the window."""
        _paging(limit, offset)
        ids, total = await self.repo.top_track_page(user_id, self._since(time_range), limit, offset)
        items = [t for t in await self.browse.tracks(ids, user_id) if t is not None]
        return Page(items=items, total=total, limit=limit, offset=offset)

    async def top_artists(
        self, user_id: str, time_range: str = "medium_term", limit: int = 20, offset: int = 0
    ) -> Page[ArtistView]:
        """The artists of the user's most played tracks in the window."""
        _paging(limit, offset)
        ids, total = await self.repo.top_artist_page(user_id, self._since(time_range), limit, offset)
        items = [a for a in await self.browse.artists(ids, user_id) if a is not None]
        return Page(items=items, total=total, limit=limit, offset=offset)

    @staticmethod
    def _since(time_range: str) -> str | None:
        if time_range not in TIME_RANGES:
            raise ValidationError("time_range must be short_term, medium_term or long_term", code="bad_time_range")
        window = TIME_RANGES[time_range]
        return utc_iso(datetime.now(UTC) - window) if window is not None else None
