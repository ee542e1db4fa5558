"""Who may see what on the realtime channel: the routers and topics of playlists, a user's own library,
accounts, playback and the catalogue (friend activity has its own, in musicd.services.friends).

- A playlist's events go to its owner and collaborators, to its followers while it is public, and to the
  subscribers of `playlist:<id>` who may read it (public, or owner / collaborator).
- Saves, ratings, follows, profile, settings and one's own playback go to that user only.
- Scans and catalogue changes go to the subscribers of `library` (anyone), an album's to `album:<id>`.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

import msgspec

from musicd.domain import events as ev
from musicd.domain.models import User
from musicd.services.catalog import CatalogService
from musicd.services.playlists import PlaylistService
from musicd.services.realtime import Delivery, RealtimeHub
from musicd.store.social import PlaylistAudience, SocialRepository

__all__ = ["MAX_IDS", "PlaylistRoutes", "install_routes"]

MAX_IDS = 500  # id lists in library messages beyond this are left out ("truncated": true)
RECENT_S = 120.0  # play reports older than this (sent late, from an offline device) are history, not news
_AUDIENCES = 4096  # playlists whose audience is cached

_OWN = {
    ev.SavesChanged: "saves_changed", ev.RatingChanged: "rating_changed", ev.FollowsChanged: "follows_changed",
    ev.UserChanged: "profile_changed", ev.UserSettingsChanged: "settings_changed",
}
_PLAY_STATES = {ev.PlayStarted: "started", ev.PlayProgressed: "progress", ev.PlayEnded: "ended",
                ev.PlayScrobbled: "scrobbled"}
_SCANS = {ev.ScanStarted: "scan_started", ev.ScanProgress: "scan_progress", ev.ScanDone: "scan_done"}


def _data(event: ev.Event, drop: tuple[str, ...] = ()) -> dict[str, Any]:
    out = msgspec.to_builtins(event)
    for k in drop:
        out.pop(k, None)
    return out  # type: ignore[no-any-return]


def _ids(ids: Sequence[str]) -> list[str] | None:
    return list(ids) if len(ids) <= MAX_IDS else None


class PlaylistRoutes:
    """Playlist events to the people they concern; the audiences are cached and follow the changes."""

    def __init__(self, social: SocialRepository, playlists: PlaylistService) -> None:
        self.social = social
        self.playlists = playlists
        self._audiences: OrderedDict[str, PlaylistAudience] = OrderedDict()

    async def audience(self, playlist_id: str, fresh: bool = False) -> PlaylistAudience | None:
        a = None if fresh else self._audiences.get(playlist_id)
        if a is None:
            a = await self.social.playlist_audience(playlist_id)
            if a is None:
                self._audiences.pop(playlist_id, None)
                return None
            self._audiences[playlist_id] = a
            while len(self._audiences) > _AUDIENCES:
                self._audiences.popitem(last=False)
        self._audiences.move_to_end(playlist_id)
        return a

    @staticmethod
    def _members(a: PlaylistAudience) -> set[str]:
        return {a.owner_id, *a.collaborators, *(a.followers if a.public else ())}

    @staticmethod
    def _may_see(a: PlaylistAudience) -> Callable[[str], bool]:
        return lambda uid: a.public or uid == a.owner_id or uid in a.collaborators

    async def route(self, e: Any) -> Sequence[Delivery]:
        topic = f"playlist:{e.playlist_id}"
        if isinstance(e, ev.PlaylistCreated):
            return [Delivery("playlist_created", _data(e), users=(e.owner_id,))]
        if isinstance(e, ev.PlaylistDeleted):
            a = self._audiences.pop(e.playlist_id, None)
            if a is None:  # nobody subscribed and no audience known: the owner still hears of it
                return [Delivery("playlist_deleted", _data(e), users=(e.owner_id,))]
            return [Delivery("playlist_deleted", _data(e), users=self._members(a), topic=topic,
                             may_see=self._may_see(a))]
        changes_who = isinstance(e, ev.PlaylistCollaboratorsChanged | ev.PlaylistFollowChanged) or (
            isinstance(e, ev.PlaylistChanged) and e.kind == "details")
        a = await self.audience(e.playlist_id, fresh=changes_who)
        if a is None:
            return []
        if isinstance(e, ev.PlaylistFollowChanged):
            return [Delivery("playlist_follow_changed", _data(e), users=(e.user_id,))]
        users = self._members(a)
        if isinstance(e, ev.PlaylistCollaboratorsChanged):
            users |= {*e.added, *e.removed}  # the invited and the removed hear of it
            return [Delivery("playlist_collaborators_changed", _data(e), users=users, topic=topic,
                             may_see=self._may_see(a))]
        return [Delivery("playlist_changed", _data(e), users=users, topic=topic, may_see=self._may_see(a))]

    async def check(self, user: User, playlist_id: str) -> None:
        """A user may subscribe to a playlist they may read (NotFoundError otherwise)."""
        await self.playlists.get(user, playlist_id)
        await self.audience(playlist_id)


async def _own(e: Any) -> Sequence[Delivery]:
    return [Delivery(_OWN[type(e)], _data(e), users=(e.user_id,))]


async def _now_playing(e: Any) -> Sequence[Delivery]:
    if time.time() - e.at > RECENT_S:
        return []
    data = _data(e)
    data["state"] = _PLAY_STATES[type(e)]
    return [Delivery("now_playing", data, users=(e.user_id,))]


async def _scan(e: Any) -> Sequence[Delivery]:
    return [Delivery(_SCANS[type(e)], _data(e), topic="library")]


async def _library(e: ev.LibraryChanged) -> Sequence[Delivery]:
    ids = {k: _ids(getattr(e, k)) for k in ("changed_track_ids", "removed_track_ids", "album_ids", "new_album_ids",
                                            "removed_album_ids")}
    data = {**_data(e), **ids, "truncated": any(v is None for v in ids.values())}
    gone = set(e.removed_album_ids)
    out = [Delivery("library_changed", data, topic="library")]
    out += [Delivery("album_changed", {"album_id": a, "removed": a in gone}, topic=f"album:{a}") for a in e.album_ids]
    return out


def install_routes(hub: RealtimeHub, social: SocialRepository, playlists: PlaylistService,
                   catalog: CatalogService) -> PlaylistRoutes:
    """Register the routers and topics of this module on the hub."""
    pl = PlaylistRoutes(social, playlists)
    for kind, sends in ((ev.PlaylistCreated, "playlist_created"), (ev.PlaylistChanged, "playlist_changed"),
                        (ev.PlaylistDeleted, "playlist_deleted"),
                        (ev.PlaylistCollaboratorsChanged, "playlist_collaborators_changed"),
                        (ev.PlaylistFollowChanged, "playlist_follow_changed")):
        hub.route(kind, pl.route, (sends,))
    for own, sends in _OWN.items():
        hub.route(own, _own, (sends,))
    for play in _PLAY_STATES:
        hub.route(play, _now_playing, ("now_playing",))
    for scan, sends in _SCANS.items():
        hub.route(scan, _scan, (sends,))
    hub.route(ev.LibraryChanged, _library, ("library_changed", "album_changed"))  # type: ignore[arg-type]

    async def anyone(user: User, _: str) -> None:
        return None

    async def album(user: User, album_id: str) -> None:
        await catalog.album(album_id)

    hub.topic("playlist", pl.check)
    hub.topic("album", album)
    hub.topic("library", anyone, with_id=False)
    return pl
