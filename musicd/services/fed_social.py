"""Social across servers: following users on a friend's server, their shared listening, playlists shared
with a peer.

Friend activity keeps the consent rules of the realtime channel: the friend's server answers only with
what its user chose to share (`share_activity`, off by default; nothing during a private session), and
only to peers it grants the `activity` scope. Reads go to the peers in parallel, each with its own
deadline, so one slow server never holds up the others; a peer that does not answer shows as unavailable.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from urllib.parse import quote

import msgspec

from musicd.domain.catalog import ArtistRef, TrackView
from musicd.domain.federation import ActivityItem, Origin, Peer, UserItem
from musicd.domain.ids import federated_id
from musicd.domain.models import User
from musicd.errors import ForbiddenError, NotFoundError, ValidationError
from musicd.net.federation import PeerError
from musicd.services.fed_views import FedViews
from musicd.services.federation import FederationService
from musicd.services.playlists import PlaylistService
from musicd.services.rules import require_member
from musicd.store.fed_mirror import FedMirrorRepository
from musicd.store.fed_peers import FedPeerRepository

__all__ = ["FedSocialService", "RemoteActivity", "RemotePlaylist", "RemoteUser"]

_ACTIVITY_TTL_S = 10.0
_USERNAME_MAX = 64


class RemoteUser(msgspec.Struct, frozen=True):
    """A user of a friend's server that a local user follows."""

    peer_id: str
    server: str  # the peer's name ("Alice's server")
    username: str
    display_name: str
    followed_at: str


class RemoteActivity(msgspec.Struct, frozen=True):
    """What a followed user on a friend's server last played, if they share it; `available` false when their
    server did not answer."""

    user: RemoteUser
    available: bool
    sharing: bool
    track: TrackView | None = None
    played_at: str | None = None


class RemotePlaylist(msgspec.Struct, frozen=True):
    """A playlist a friend's server shared with this one."""

    id: str
    name: str
    description: str
    owner: str
    origin: Origin
    track_ids: list[str]
    updated_at: str


class FedSocialService:
    def __init__(self, federation: FederationService, peers: FedPeerRepository, mirror: FedMirrorRepository,
                 views: FedViews, playlists: PlaylistService) -> None:
        self.fed = federation
        self.peers = peers
        self.mirror = mirror
        self.views = views
        self.playlists = playlists
        self._activity: dict[tuple[str, str], tuple[float, ActivityItem | None]] = {}

    async def _peer(self, peer_id: str, scope: str) -> Peer:
        peer = (await self.views.peers()).get(peer_id) or await self.fed.peer(peer_id)
        if peer.status != "active":
            raise NotFoundError(f"no paired server {peer_id!r}", code="peer_not_found")
        if scope not in peer.scopes_received:
            raise ForbiddenError(f"{peer.name} does not share {scope} with this server", code="scope_denied")
        return peer

    # ---- follows ----

    async def follow(self, user: User, peer_id: str, username: str) -> RemoteUser:
        """Follow `username` on a friend's server (it must exist there)."""
        require_member(user)
        if not username or len(username) > _USERNAME_MAX:
            raise ValidationError("username is required (64 characters at most)", code="invalid_username")
        peer = await self._peer(peer_id, "activity")
        reply = await self.fed.client(peer).request("GET", f"/fed/v1/users/{_quote(username)}", max_bytes=64 << 10)
        if reply.status == 404:
            raise NotFoundError(f"{peer.name} has no user {username!r}", code="user_not_found")
        if reply.status != 200:
            raise PeerError(f"{peer.name} answered {reply.status}", http_status=reply.status)
        try:
            found = msgspec.json.decode(reply.body, type=UserItem)
        except (msgspec.DecodeError, msgspec.ValidationError):
            raise PeerError(f"{peer.name} answered garbage", code="peer_bad_response") from None
        await self.peers.follow(user.id, peer.id, found.username, found.display_name[:200])
        return next(u for u in await self.following(user) if u.peer_id == peer.id and u.username == found.username)

    async def unfollow(self, user: User, peer_id: str, username: str) -> None:
        require_member(user)
        if not await self.peers.unfollow(user.id, peer_id, username):
            raise NotFoundError(f"you do not follow {username!r} on that server", code="not_following")

    async def following(self, user: User) -> list[RemoteUser]:
        peers = await self.views.peers()
        return [RemoteUser(pid, peers[pid].name, name, display, at)
                for pid, name, display, at in await self.peers.follows(user.id) if pid in peers]

    async def activity(self, user: User) -> list[RemoteActivity]:
        """The shared listening of the users one follows on friends' servers, asked of each server in parallel."""
        follows = await self.following(user)
        answers = await asyncio.gather(*(self._user_activity(f) for f in follows))
        out: list[RemoteActivity] = []
        for f, item in zip(follows, answers, strict=True):
            if item is None:
                out.append(RemoteActivity(f, False, False))
                continue
            track = None
            if item.track is not None:
                tid = federated_id("track", f.peer_id, item.track.id)
                found = await self.views.tracks([tid], user.id)
                track = found[0] if found and found[0] is not None else await self._track_of(f, item)
            out.append(RemoteActivity(f, True, item.sharing, track, item.played_at))
        return out

    async def _user_activity(self, f: RemoteUser) -> ActivityItem | None:
        key = (f.peer_id, f.username)
        hit = self._activity.get(key)
        if hit is not None and time.monotonic() - hit[0] < _ACTIVITY_TTL_S:
            return hit[1]
        item: ActivityItem | None = None
        try:
            peer = await self._peer(f.peer_id, "activity")
            reply = await self.fed.client(peer).request(
                "GET", f"/fed/v1/users/{_quote(f.username)}/activity", max_bytes=256 << 10)
            if reply.status == 200:
                item = msgspec.json.decode(reply.body, type=ActivityItem)
        except (PeerError, ForbiddenError, NotFoundError, msgspec.DecodeError, msgspec.ValidationError):
            item = None
        if len(self._activity) > 10_000:
            self._activity.clear()
        self._activity[key] = (time.monotonic(), item)
        return item

    async def _track_of(self, f: RemoteUser, item: ActivityItem) -> TrackView | None:
        """A TrackView of a track the mirror does not have (yet): made from what the friend's server sent."""
        t = item.track
        if t is None:
            return None
        origin = await self.views.origin(f.peer_id)
        return TrackView(
            id=federated_id("track", f.peer_id, t.id), title=t.title, artist_display=t.artist,
            artists=[ArtistRef(federated_id("artist", f.peer_id, a), n) for a, n in t.artists],
            album_id=federated_id("album", f.peer_id, t.album_id), album_name=t.album,
            album_artist=ArtistRef(federated_id("artist", f.peer_id, t.album_artist_id), t.album_artist),
            compilation=t.compilation, track_number=t.track_number, track_total=t.track_total,
            disc_number=t.disc_number, disc_total=t.disc_total, disc_subtitle=None, year=t.year,
            genres=list(t.genres), duration=t.duration, format=t.format, size=t.size, bitrate=t.bitrate,
            sample_rate=t.sample_rate,
            channels=t.channels, bit_depth=t.bit_depth, rel_path="", cover_id=None, has_lyrics=False, isrc=t.isrc,
            mbid_recording=t.mbid, rg_track_gain=None, rg_track_peak=None, rg_album_gain=None, rg_album_peak=None,
            bpm=None, comment=None, play_count=0, created_at="", origin=origin,
        )

    # ---- playlists shared with peers ----

    async def share_playlist(self, user: User, playlist_id: str, peer_id: str) -> list[str]:
        """Share one of your playlists with a friend's server; returns the peers it is shared with."""
        await self._own(user, playlist_id)
        peer = await self.fed.peer(peer_id)
        if peer.status != "active":
            raise NotFoundError(f"no paired server {peer_id!r}", code="peer_not_found")
        if "library" not in peer.scopes_granted:
            raise ForbiddenError(f"{peer.name} may not read this server's library", code="scope_denied")
        await self.peers.share_playlist(playlist_id, peer.id)
        await self._tell(peer)
        return await self.peers.peers_of_playlist(playlist_id)

    async def unshare_playlist(self, user: User, playlist_id: str, peer_id: str) -> list[str]:
        await self._own(user, playlist_id)
        peer = await self.fed.peer(peer_id)
        if not await self.peers.unshare_playlist(playlist_id, peer.id):
            raise NotFoundError("this playlist is not shared with that server", code="not_shared")
        await self._tell(peer)
        return await self.peers.peers_of_playlist(playlist_id)

    async def playlist_peers(self, user: User, playlist_id: str) -> list[str]:
        await self._own(user, playlist_id)
        return await self.peers.peers_of_playlist(playlist_id)

    async def _own(self, user: User, playlist_id: str) -> None:
        require_member(user)
        _pl, viewer = await self.playlists.get(user, playlist_id)
        if not viewer.owner:
            raise ForbiddenError("only the owner shares a playlist with another server", code="not_owner")

    async def _tell(self, peer: Peer) -> None:
        with contextlib.suppress(PeerError):  # it reads the playlists at its next sync anyway
            await self.fed.client(peer).request("POST", "/fed/v1/notify", body=json.dumps({"reason": "playlists"})
                                                .encode(), idempotent=False, max_bytes=64 << 10)

    async def remote_playlists(self) -> list[RemotePlaylist]:
        peers = await self.views.peers()
        out: list[RemotePlaylist] = []
        for pid, peer_id, name, desc, owner, track_ids, updated in await self.mirror.playlists():
            peer = peers.get(peer_id)
            if peer is not None:
                out.append(RemotePlaylist(pid, name, desc, owner, self.fed.origin(peer), track_ids, updated))
        return out

    async def remote_playlist(self, playlist_id: str, user: User) -> tuple[RemotePlaylist, list[TrackView]]:
        rows = await self.mirror.playlists(playlist_id)
        peers = await self.views.peers()
        if not rows or rows[0][1] not in peers:
            raise NotFoundError(f"no playlist with id {playlist_id}", code="playlist_not_found")
        pid, peer_id, name, desc, owner, track_ids, updated = rows[0]
        pl = RemotePlaylist(pid, name, desc, owner, self.fed.origin(peers[peer_id]), track_ids, updated)
        tracks = [t for t in await self.views.tracks(track_ids, user.id) if t is not None]
        return pl, tracks


def _quote(name: str) -> str:
    return quote(name, safe="")
