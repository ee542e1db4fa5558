"""Friend activity, with consent: what the users one follows are playing, or played last.

Sharing is off unless a user turns it on (`share_activity` in their settings), and a private session
(`private_session_until`, one hour or until turned off) hides it. Only plays made while sharing are
ever shown: the live state is kept in memory, the last shared play of each user in the database
(friend_activity, written by a bus consumer, so the request path never waits for it). The realtime
channel pushes `friend_activity` to the sharer's followers on every play start and end, whatever the
source (the web player's play events, a Subsonic scrobble or reportPlayback).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import msgspec

from musicd.domain import events as ev
from musicd.domain.catalog import TrackView
from musicd.domain.models import User
from musicd.domain.stamps import epoch_iso
from musicd.errors import NotFoundError
from musicd.services.accounts import AccountService
from musicd.services.catalog import CatalogService
from musicd.services.realtime import Delivery, RealtimeHub
from musicd.services.realtime_routes import RECENT_S
from musicd.store.db import utc_now
from musicd.store.social import SocialRepository

__all__ = ["FriendActivity", "FriendActivityService"]

PLAYING_TTL_S = 15 * 60  # a play not reported on for this long is no longer "playing"
_CACHE = 10_000


class FriendActivity(msgspec.Struct, frozen=True):
    """A friend's current or last track: `playing` while it plays, `timestamp` when it started (or ended)."""

    user_id: str
    display_name: str
    track: TrackView
    context_uri: str | None
    playing: bool
    timestamp: str


class _Live:
    __slots__ = ("at", "context_uri", "playing", "seen", "track_id")

    def __init__(self, track_id: str, context_uri: str | None, at: float, playing: bool) -> None:
        self.track_id = track_id
        self.context_uri = context_uri
        self.at = at
        self.playing = playing
        self.seen = time.monotonic()


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


class FriendActivityService:
    def __init__(self, social: SocialRepository, accounts: AccountService, catalog: CatalogService) -> None:
        self.social = social
        self.accounts = accounts
        self.catalog = catalog
        self._users: dict[str, User | None] = {}
        self._followers: dict[str, frozenset[str]] = {}
        self._live: dict[str, _Live] = {}
        self._hub: RealtimeHub | None = None

    # ---- consent and follows (cached, kept current by account and follow events) ----

    async def _user(self, user_id: str) -> User | None:
        if user_id not in self._users:
            if len(self._users) >= _CACHE:
                self._users.clear()
            try:
                self._users[user_id] = await self.accounts.get(user_id)
            except NotFoundError:
                self._users[user_id] = None
        return self._users[user_id]

    async def sharing(self, user_id: str) -> bool:
        """Whether followers may see what this user plays now."""
        u = await self._user(user_id)
        return u is not None and not u.disabled and u.settings.sharing_at(utc_now())

    async def followers(self, user_id: str) -> frozenset[str]:
        if user_id not in self._followers:
            if len(self._followers) >= _CACHE:
                self._followers.clear()
            self._followers[user_id] = frozenset(await self.social.followers_of(user_id))
        return self._followers[user_id]

    def forget_user(self, user_id: str | None) -> None:
        """Drop a cached account (None: all); the awaited bus consumer of account changes calls this, so a
        private session or sharing turned off applies before the settings request answers."""
        if user_id is None:
            self._users.clear()
            self._followers.clear()
            return
        self._users.pop(user_id, None)

    async def _follows(self, e: ev.FollowsChanged) -> Sequence[Delivery]:
        """Followers changed (a router that sends nothing: it runs in order with the play events)."""
        if e.kind == "user":
            for uid in e.ids:
                self._followers.pop(uid, None)
        return []

    async def _deleted(self, e: ev.UserDeleted) -> Sequence[Delivery]:
        self._live.pop(e.user_id, None)
        self._followers.clear()
        return []

    # ---- the realtime route: play events -> friend_activity for followers ----

    async def route(self, e: ev.PlayEvent) -> Sequence[Delivery]:
        if time.time() - e.at > RECENT_S:
            return []  # a late report (an offline device syncing) is history, not activity
        live = self._live.get(e.user_id)
        if isinstance(e, ev.PlayProgressed) and live is not None and live.track_id == e.track_id and live.playing:
            live.seen = time.monotonic()
            return []
        if not await self.sharing(e.user_id):
            return []
        playing = isinstance(e, ev.PlayStarted | ev.PlayProgressed)
        if isinstance(e, ev.PlayEnded) and (live is None or live.track_id != e.track_id):
            return []  # the end of a play that was never shown
        context = e.context_uri or (live.context_uri if live and live.track_id == e.track_id else None)
        at = live.at if live is not None and live.track_id == e.track_id and not playing else e.at
        live = self._live[e.user_id] = _Live(e.track_id, context, e.at if playing else at, playing)
        hub = self._hub
        followers = [f for f in await self.followers(e.user_id) if hub is None or hub.has_stream(f)]
        if not followers:
            return []  # nobody who could hear of it is connected: no track lookup
        activity = await self._activity(e.user_id, live.track_id, live.context_uri, live.at, playing, None)
        return [Delivery("friend_activity", activity, users=followers)] if activity else []

    async def _activity(self, user_id: str, track_id: str, context_uri: str | None, at: float, playing: bool,
                        viewer_id: str | None) -> FriendActivity | None:
        u = await self._user(user_id)
        track = (await self.catalog.tracks([track_id], viewer_id))[0]
        if u is None or track is None:
            return None
        return FriendActivity(user_id, u.display_name, track, context_uri, playing, epoch_iso(at))

    # ---- the bus consumer that keeps the last shared play ----

    async def record(self, e: ev.PlayEvent) -> None:
        if isinstance(e, ev.PlayProgressed) or not await self.sharing(e.user_id):
            return
        if isinstance(e, ev.PlayStarted):
            await self.social.record_start(e.user_id, e.track_id, e.context_uri, epoch_iso(e.at))
        else:  # ended, or scrobbled after the fact
            await self.social.record_end(e.user_id, e.track_id, e.context_uri, epoch_iso(e.at))

    # ---- reads ----

    async def activity(self, user: User) -> list[FriendActivity]:
        """The current or last track of each followed user who shares, the most recent first."""
        following = await self.social.following(user.id)
        rows = await self.social.activity(following)
        picks: list[tuple[str, str, str | None, float, bool | None]] = []
        for fid in following:
            if not await self.sharing(fid):
                continue
            live, row = self._live.get(fid), rows.get(fid)
            if live is not None:
                fresh = time.monotonic() - live.seen < PLAYING_TTL_S
                picks.append((fid, live.track_id, live.context_uri, live.at, live.playing and fresh))
            elif row is not None:
                picks.append((fid, row.track_id, row.context_uri, _epoch(row.started_at),
                              None if row.ended_at is None else False))
        tracks = await self.catalog.tracks([p[1] for p in picks], user.id)
        out: list[FriendActivity] = []
        now = time.time()
        for (fid, _, ctx, at, playing), track in zip(picks, tracks, strict=True):
            u = await self._user(fid)
            if track is None or u is None:
                continue
            if playing is None:  # from the database: still playing if the track cannot have ended yet
                playing = at + track.duration + 60 > now
            out.append(FriendActivity(fid, u.display_name, track, ctx, playing, epoch_iso(at)))
        out.sort(key=lambda a: a.timestamp, reverse=True)
        return out

    async def command(self, user: User, _: dict[str, Any]) -> dict[str, Any]:
        """The realtime command `get_friend_activity`."""
        return {"items": await self.activity(user)}

    def install(self, hub: RealtimeHub) -> None:
        """Register the routes and the command on the realtime hub."""
        self._hub = hub
        for kind in (ev.PlayStarted, ev.PlayProgressed, ev.PlayEnded, ev.PlayScrobbled):
            hub.route(kind, self.route, ("friend_activity",))  # type: ignore[arg-type]
        hub.route(ev.FollowsChanged, self._follows)  # type: ignore[arg-type]
        hub.route(ev.UserDeleted, self._deleted)  # type: ignore[arg-type]
        hub.command("get_friend_activity", self.command)
