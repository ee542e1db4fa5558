"""/v1 federation: admins pair and manage friends' servers; users follow friends' users, see their shared
listening, read playlists friends shared, and share their own playlists with a friend's server."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, delete, get, post, put
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT
from msgspec import Meta

from musicd.domain.federation import SCOPES, Peer
from musicd.domain.models import User
from musicd.http.v1.shapes import links, source_object, track_full
from musicd.services.fed_social import RemoteActivity, RemotePlaylist, RemoteUser
from musicd.services.registry import Services

__all__ = ["FederationAdminController", "FederationController"]


class InviteBody(msgspec.Struct, forbid_unknown_fields=True):
    scopes: list[str] = msgspec.field(default_factory=lambda: list(SCOPES))
    approve: bool = True  # the joining server is active at once; false: approve it afterwards
    hours: Annotated[float, Meta(gt=0, le=24 * 365)] | None = None  # how long it stays valid


class JoinBody(msgspec.Struct, forbid_unknown_fields=True):
    invite: str
    scopes: list[str] = msgspec.field(default_factory=lambda: list(SCOPES))


class ScopesBody(msgspec.Struct, forbid_unknown_fields=True):
    scopes: list[str]


class FollowBody(msgspec.Struct, forbid_unknown_fields=True):
    peer_id: str
    username: str


class PeerBody(msgspec.Struct, forbid_unknown_fields=True):
    peer_id: str


def peer_object(services: Services, p: Peer) -> dict[str, Any]:
    return {"id": p.id, "name": p.name, "url": p.url, "status": p.status, "scopes_granted": p.scopes_granted,
            "scopes_received": p.scopes_received, "available": services.fed.service.available(p),
            "music_folder_id": p.folder_no, "tracks": p.track_count, "synced_at": p.synced_at,
            "sync_error": p.sync_error, "unreachable_since": p.unreachable_since, "created_at": p.created_at}


def _remote_user(u: RemoteUser) -> dict[str, Any]:
    return {"peer_id": u.peer_id, "server": u.server, "username": u.username, "display_name": u.display_name,
            "followed_at": u.followed_at, "type": "user"}


def _activity(request: Request[Any, Any, Any], a: RemoteActivity) -> dict[str, Any]:
    return {"user": _remote_user(a.user), "available": a.available, "sharing": a.sharing,
            "track": track_full(links(request), a.track) if a.track is not None else None, "played_at": a.played_at}


def _playlist(p: RemotePlaylist) -> dict[str, Any]:
    return {"id": p.id, "name": p.name, "description": p.description, "owner": {"display_name": p.owner},
            "source": source_object(p.origin), "tracks": {"total": len(p.track_ids)}, "updated_at": p.updated_at,
            "type": "playlist"}


class FederationAdminController(Controller):
    path = "/v1/admin/federation"
    tags = ["federation"]

    @get("/")
    async def overview(self, user: User, services: Services) -> dict[str, Any]:
        """This server's identity and its peers."""
        instance, peers = await services.fed.admin.overview(user)
        return {"instance": instance, "peers": [peer_object(services, p) for p in peers]}

    @post("/invites", status_code=HTTP_201_CREATED)
    async def invite(self, data: InviteBody, user: User, services: Services) -> dict[str, Any]:
        """A one-time invite code for a friend's admin (`musicd peer join <code>` or their settings page)."""
        code = await services.fed.admin.invite(user, data.scopes, data.approve, data.hours)
        return {"invite": code, "scopes": data.scopes, "approve": data.approve}

    @post("/join", status_code=HTTP_201_CREATED)
    async def join(self, data: JoinBody, user: User, services: Services) -> dict[str, Any]:
        """Pair with the server that made an invite; `scopes` are what it may do here."""
        return peer_object(services, await services.fed.admin.join(user, data.invite, data.scopes))

    @post("/peers/{peer_id:str}/approve", status_code=HTTP_200_OK)
    async def approve(self, peer_id: str, user: User, services: Services) -> dict[str, Any]:
        return peer_object(services, await services.fed.admin.approve(user, peer_id))

    @put("/peers/{peer_id:str}/scopes")
    async def scopes(self, peer_id: str, data: ScopesBody, user: User, services: Services) -> dict[str, Any]:
        """What the peer may do here: library, stream, activity (effective on its next request)."""
        return peer_object(services, await services.fed.admin.set_scopes(user, peer_id, data.scopes))

    @delete("/peers/{peer_id:str}", status_code=HTTP_200_OK)
    async def revoke(self, peer_id: str, user: User, services: Services) -> dict[str, Any]:
        """End the pairing: the peer's next request gets 401, its items leave at the next sync."""
        return peer_object(services, await services.fed.admin.revoke(user, peer_id))

    @post("/peers/{peer_id:str}/sync", status_code=HTTP_200_OK)
    async def sync(self, peer_id: str, user: User, services: Services) -> dict[str, Any]:
        """Mirror the peer's catalogue now; says what changed."""
        return msgspec.structs.asdict(await services.fed.admin.sync_now(user, peer_id))


class FederationController(Controller):
    path = "/v1"
    tags = ["federation"]

    @get("/federation/peers")
    async def peers(self, services: Services) -> dict[str, Any]:
        """Friends' servers whose libraries appear here, and whether they answer now."""
        fed = services.fed.service
        items = [{"id": p.id, "name": p.name, "available": fed.available(p), "scopes": p.scopes_received,
                  "music_folder_id": p.folder_no, "tracks": p.track_count}
                 for p in await fed.list_peers() if p.status == "active"]
        return {"items": items, "total": len(items)}

    @get("/me/federation/following")
    async def following(self, user: User, services: Services) -> dict[str, Any]:
        items = [_remote_user(u) for u in await services.fed.social.following(user)]
        return {"items": items, "total": len(items)}

    @put("/me/federation/following", status_code=HTTP_200_OK)
    async def follow(self, data: FollowBody, user: User, services: Services) -> dict[str, Any]:
        """Follow a user of a friend's server (it must share the `activity` scope with this one)."""
        return _remote_user(await services.fed.social.follow(user, data.peer_id, data.username))

    @delete("/me/federation/following", status_code=HTTP_204_NO_CONTENT)
    async def unfollow(self, user: User, services: Services, peer_id: str, username: str) -> None:
        await services.fed.social.unfollow(user, peer_id, username)

    @get("/me/federation/activity")
    async def activity(self, request: Request[Any, Any, Any], user: User, services: Services) -> dict[str, Any]:
        """What the users one follows on friends' servers play, if they share it."""
        items = [_activity(request, a) for a in await services.fed.social.activity(user)]
        return {"items": items, "total": len(items)}

    @get("/federation/playlists")
    async def playlists(self, services: Services) -> dict[str, Any]:
        """Playlists friends' servers shared with this one."""
        items = [_playlist(p) for p in await services.fed.social.remote_playlists()]
        return {"items": items, "total": len(items)}

    @get("/federation/playlists/{playlist_id:str}")
    async def playlist(self, request: Request[Any, Any, Any], playlist_id: str, user: User,
                       services: Services) -> dict[str, Any]:
        pl, tracks = await services.fed.social.remote_playlist(playlist_id, user)
        ln = links(request)
        return {**_playlist(pl), "tracks": {"total": len(tracks), "items": [
            {"track": track_full(ln, t)} for t in tracks]}}

    @get("/playlists/{playlist_id:str}/peers")
    async def playlist_peers(self, playlist_id: str, user: User, services: Services) -> dict[str, Any]:
        """The friends' servers one of your playlists is shared with."""
        return {"peers": await services.fed.social.playlist_peers(user, playlist_id)}

    @put("/playlists/{playlist_id:str}/peers", status_code=HTTP_200_OK)
    async def share_playlist(self, playlist_id: str, data: PeerBody, user: User,
                             services: Services) -> dict[str, Any]:
        """Share your playlist with a friend's server: its users can read and play it."""
        return {"peers": await services.fed.social.share_playlist(user, playlist_id, data.peer_id)}

    @delete("/playlists/{playlist_id:str}/peers/{peer_id:str}", status_code=HTTP_200_OK)
    async def unshare_playlist(self, playlist_id: str, peer_id: str, user: User,
                               services: Services) -> dict[str, Any]:
        return {"peers": await services.fed.social.unshare_playlist(user, playlist_id, peer_id)}
