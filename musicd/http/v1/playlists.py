"""/v1 playlists in Spotify's shapes: CRUD, items (add, remove, reorder, replace), cover, follows, and musicd's
collaborators, share links, M3U8/XSPF import and export.

Every item change answers the new `snapshot_id`; a stale one is merged when the change commutes with what
happened since, else refused with 409 `snapshot_conflict`.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, post, put
from litestar.openapi import ResponseSpec
from litestar.params import Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT

from musicd.domain.catalog import Mix, Page, TrackView
from musicd.domain.models import User
from musicd.errors import ValidationError
from musicd.http.bounds import Offset, OptItemIndex
from musicd.http.urls import base_url
from musicd.http.v1.playlist_shapes import (
    EDIT_ERRORS,
    READ_ERRORS,
    WRITE_ERRORS,
    AddItemsBody,
    CollaboratorsBody,
    CreatePlaylistBody,
    DetailsBody,
    FollowBody,
    RemoveItemsBody,
    ShareBody,
    UpdateItemsBody,
    collaborator_objects,
    full_playlist,
    parse_track_uri,
    playlist_page,
    share_object,
    simplified_playlist,
)
from musicd.http.v1.shapes import ErrorBody, Links, images, links, mix_playlist, paging, track_full
from musicd.services.playlists import MAX_PAGE
from musicd.services.registry import Services

__all__ = ["PlaylistsController"]

_ITEMS = ["/playlists/{playlist_id:str}/tracks", "/playlists/{playlist_id:str}/items"]
Req = Request[Any, Any, Any]
ListLimit = Annotated[int, Parameter(ge=1, le=50, description="Playlists per page (1-50)")]
ItemLimit = Annotated[int, Parameter(ge=1, le=MAX_PAGE, description="Items per page (1-100)")]
COVER_ERRORS = {**WRITE_ERRORS, 413: ResponseSpec(data_container=ErrorBody, description="More than 256 kB of base64")}


def _uris(values: list[str] | None, query: str | None) -> list[str] | None:
    """Track ids from a body list or a comma-separated `uris` query (the query wins, as Spotify)."""
    if query:
        values = [u for u in query.split(",") if u]
    return None if values is None else [parse_track_uri(u) for u in values]


def _list_page(request: Req, page: Any) -> dict[str, Any]:
    ln = links(request)
    return paging(ln, [simplified_playlist(ln.base, p) for p in page.items], page.total, page.limit, page.offset)


def _mix_page(ln: Links, page: Page[TrackView | None], href: str | None = None) -> dict[str, Any]:
    """A page of a generated mix's tracks as playlist track objects (nobody added them)."""
    items = []
    for t in page.items:
        obj = track_full(ln, t) if t is not None else None
        items.append({"added_at": None, "added_by": None, "is_local": False, "primary_color": None,
                      "video_thumbnail": {"url": None}, "track": obj, "item": obj})
    return paging(ln, items, page.total, page.limit, page.offset, href)


class PlaylistsController(Controller):
    path = "/v1"
    tags = ["playlists"]

    # ---- lists and create ----

    @get("/me/playlists", responses=READ_ERRORS)
    async def my_playlists(self, request: Req, user: User, services: Services, limit: ListLimit = 20,
                           offset: Offset = 0) -> dict[str, Any]:
        """The current user's playlists: owned, followed and collaborating, the newest first."""
        return _list_page(request, await services.playlists.my_playlists(user, limit, offset))

    @get("/users/{user_id:str}/playlists", responses=READ_ERRORS)
    async def user_playlists(self, request: Req, user_id: str, user: User, services: Services,
                             limit: ListLimit = 20, offset: Offset = 0) -> dict[str, Any]:
        """A user's public playlists (all of them for the user themselves)."""
        return _list_page(request, await services.playlists.user_playlists(user, user_id, limit, offset))

    @post("/me/playlists", status_code=HTTP_201_CREATED, responses=WRITE_ERRORS)
    async def create_mine(self, request: Req, data: CreatePlaylistBody, user: User, services: Services
                          ) -> dict[str, Any]:
        """Create a playlist for the current user."""
        return await self._create(request, data, user, services, None)

    @post("/users/{user_id:str}/playlists", status_code=HTTP_201_CREATED, responses=WRITE_ERRORS)
    async def create_for_user(self, request: Req, user_id: str, data: CreatePlaylistBody, user: User,
                              services: Services) -> dict[str, Any]:
        """Create a playlist for a user (only the current user)."""
        return await self._create(request, data, user, services, user_id)

    async def _create(self, request: Req, data: CreatePlaylistBody, user: User, services: Services,
                      owner_id: str | None) -> dict[str, Any]:
        pl = await services.playlists.create(user, data.name, data.description, data.public, data.collaborative,
                                             owner_id=owner_id)
        page = await services.playlists.items(user, pl, MAX_PAGE, 0)
        return full_playlist(links(request), pl, page)

    # ---- one playlist ----

    @get("/playlists/{playlist_id:str}", responses=READ_ERRORS)
    async def playlist(self, request: Req, playlist_id: str, user: User, services: Services,
                       market: str | None = None, fields: str | None = None,
                       additional_types: str | None = None) -> dict[str, Any]:
        """A playlist with the first 100 of its items (`market`, `fields`, `additional_types` are ignored)."""
        ln = links(request)
        pl, items = await services.playlists.view(user, playlist_id, MAX_PAGE, 0)
        if isinstance(pl, Mix):
            page = _mix_page(ln, items, f"{ln.href('playlist', playlist_id)}/tracks")  # type: ignore[arg-type]
            return {**mix_playlist(ln, pl), "followers": {"href": None, "total": 0}, "tracks": page, "items": page}
        return full_playlist(ln, pl, items)  # type: ignore[arg-type]

    @put("/playlists/{playlist_id:str}", status_code=HTTP_200_OK, responses=WRITE_ERRORS)
    async def change_details(self, playlist_id: str, data: DetailsBody, user: User, services: Services) -> None:
        """Change name, description, public or collaborative (owner only)."""
        await services.playlists.change_details(user, playlist_id, data.name, data.description, data.public,
                                                data.collaborative)

    @delete("/playlists/{playlist_id:str}", status_code=HTTP_204_NO_CONTENT, responses=WRITE_ERRORS)
    async def delete_playlist(self, playlist_id: str, user: User, services: Services) -> None:
        """Delete a playlist (owner only; a musicd extension: Spotify clients unfollow instead)."""
        await services.playlists.delete(user, playlist_id)

    # ---- items ----

    @get(_ITEMS, responses=READ_ERRORS)
    async def items(self, request: Req, playlist_id: str, user: User, services: Services,
                    limit: ItemLimit = MAX_PAGE, offset: Offset = 0, market: str | None = None,
                    fields: str | None = None, additional_types: str | None = None) -> dict[str, Any]:
        """A page of a playlist's items (limit 1-100)."""
        ln = links(request)
        pl, page = await services.playlists.view(user, playlist_id, limit, offset)
        return _mix_page(ln, page) if isinstance(pl, Mix) else playlist_page(ln, page)  # type: ignore[arg-type]

    @post(_ITEMS, status_code=HTTP_201_CREATED, responses=EDIT_ERRORS)
    async def add_items(self, playlist_id: str, user: User, services: Services,
                        data: AddItemsBody | list[str] | None = None, uris: str | None = None,
                        position: OptItemIndex = None) -> dict[str, str]:
        """Add up to 100 tracks (`uris` in the body or the query) at `position`, else at the end."""
        body = AddItemsBody(uris=data) if isinstance(data, list) else (data or AddItemsBody())
        ids = _uris(body.uris, uris)
        if ids is None:
            raise ValidationError("give the track URIs to add in `uris`", code="bad_uris")
        pos = body.position if body.position is not None else position
        return {"snapshot_id": await services.playlists.add(user, playlist_id, ids, pos, body.snapshot_id)}

    @delete(_ITEMS, status_code=HTTP_200_OK, responses=EDIT_ERRORS)
    async def remove_items(self, playlist_id: str, data: RemoveItemsBody, user: User, services: Services
                           ) -> dict[str, str]:
        """Remove tracks: every occurrence of each URI, or only at its `positions`."""
        listed = data.items if data.items is not None else data.tracks
        if not listed:
            raise ValidationError("give the tracks to remove in `items` (or `tracks`)", code="bad_uris")
        tracks = [(parse_track_uri(t.uri), t.positions) for t in listed]
        return {"snapshot_id": await services.playlists.remove(user, playlist_id, tracks, data.snapshot_id)}

    @put(_ITEMS, status_code=HTTP_200_OK, responses=EDIT_ERRORS)
    async def update_items(self, playlist_id: str, user: User, services: Services,
                           data: UpdateItemsBody | None = None, uris: str | None = None) -> dict[str, str]:
        """Reorder (range_start, insert_before, range_length) or replace every item (uris)."""
        body = data or UpdateItemsBody()
        ids = _uris(body.uris, uris)
        if ids is not None:
            snap = await services.playlists.replace(user, playlist_id, ids, body.snapshot_id)
        elif body.range_start is not None and body.insert_before is not None:
            snap = await services.playlists.reorder(user, playlist_id, body.range_start, body.insert_before,
                                                    body.range_length, body.snapshot_id)
        else:
            raise ValidationError("give `uris` to replace, or range_start and insert_before to reorder",
                                  code="bad_request")
        return {"snapshot_id": snap}

    # ---- cover ----

    @get("/playlists/{playlist_id:str}/images", responses=READ_ERRORS)
    async def images(self, request: Req, playlist_id: str, user: User, services: Services) -> list[dict[str, Any]]:
        """The playlist's cover: the uploaded one, else its first track's."""
        pl, _ = await services.playlists.get(user, playlist_id)
        return images(base_url(request), pl.image_id)

    @put("/playlists/{playlist_id:str}/images", status_code=HTTP_202_ACCEPTED, responses=COVER_ERRORS)
    async def upload_cover(self, request: Req, playlist_id: str, user: User, services: Services) -> None:
        """Upload a cover: the body is a base64 encoded JPEG of at most 256 kB (owner only)."""
        await services.playlists.set_cover(user, playlist_id, await request.body())

    # ---- follows ----

    @put("/playlists/{playlist_id:str}/followers", status_code=HTTP_200_OK, responses=WRITE_ERRORS)
    async def follow(self, playlist_id: str, user: User, services: Services, data: FollowBody | None = None
                     ) -> None:
        """Follow a playlist (it shows in your library; `public` shows it on your profile too)."""
        await services.playlists.follow(user, playlist_id, (data or FollowBody()).public)

    @delete("/playlists/{playlist_id:str}/followers", status_code=HTTP_200_OK, responses=WRITE_ERRORS)
    async def unfollow(self, playlist_id: str, user: User, services: Services) -> None:
        """Unfollow a playlist; the owner unfollowing deletes it."""
        await services.playlists.unfollow(user, playlist_id)

    @get("/playlists/{playlist_id:str}/followers/contains", responses=READ_ERRORS)
    async def followers_contain(self, playlist_id: str, ids: str, user: User, services: Services) -> list[bool]:
        """Whether each of the given users follows the playlist."""
        return await services.playlists.followers_contain(user, playlist_id, [i for i in ids.split(",") if i])

    # ---- collaborators (musicd) ----

    @get("/playlists/{playlist_id:str}/collaborators", responses=READ_ERRORS)
    async def collaborators(self, request: Req, playlist_id: str, user: User, services: Services
                            ) -> dict[str, Any]:
        """The users invited to edit the playlist."""
        rows = await services.playlists.collaborators(user, playlist_id)
        return collaborator_objects(base_url(request), rows)

    @post("/playlists/{playlist_id:str}/collaborators", status_code=HTTP_200_OK, responses=WRITE_ERRORS)
    async def invite(self, request: Req, playlist_id: str, data: CollaboratorsBody, user: User,
                     services: Services) -> dict[str, Any]:
        """Invite users (by id) to edit a collaborative playlist (owner only)."""
        rows = await services.playlists.invite(user, playlist_id, data.ids)
        return collaborator_objects(base_url(request), rows)

    @delete("/playlists/{playlist_id:str}/collaborators", status_code=HTTP_200_OK, responses=WRITE_ERRORS)
    async def uninvite(self, request: Req, playlist_id: str, user: User, services: Services,
                       data: CollaboratorsBody | None = None, ids: str | None = None) -> dict[str, Any]:
        """Remove collaborators (`ids` in the body or the query); a collaborator may remove themselves."""
        wanted = data.ids if data is not None else [i for i in (ids or "").split(",") if i]
        if not wanted:
            raise ValidationError("give the user ids to remove in `ids`", code="bad_ids")
        rows = await services.playlists.uninvite(user, playlist_id, wanted)
        return collaborator_objects(base_url(request), rows)

    # ---- share links (musicd) ----

    @post("/playlists/{playlist_id:str}/share", status_code=HTTP_201_CREATED, responses=WRITE_ERRORS)
    async def share(self, request: Req, playlist_id: str, user: User, services: Services,
                    data: ShareBody | None = None) -> dict[str, Any]:
        """A read-only link that works without an account until it expires (`expires_in` seconds) or is revoked."""
        link = await services.shares.share_playlist(user, playlist_id, (data or ShareBody()).expires_in)
        return share_object(base_url(request), link)

    @get("/playlists/{playlist_id:str}/share", responses=WRITE_ERRORS)
    async def shares(self, request: Req, playlist_id: str, user: User, services: Services) -> dict[str, Any]:
        """The playlist's share links (without their tokens)."""
        links = await services.shares.playlist_links(user, playlist_id)
        return {"items": [share_object(base_url(request), s, with_token=False) for s in links], "total": len(links)}

    @delete("/playlists/{playlist_id:str}/share", status_code=HTTP_204_NO_CONTENT, responses=WRITE_ERRORS)
    async def revoke_all(self, playlist_id: str, user: User, services: Services) -> None:
        """Revoke every share link of the playlist."""
        await services.shares.revoke_playlist_links(user, playlist_id)

    @delete("/playlists/{playlist_id:str}/share/{link_id:str}", status_code=HTTP_204_NO_CONTENT, responses=WRITE_ERRORS)
    async def revoke(self, playlist_id: str, link_id: str, user: User, services: Services) -> None:
        """Revoke one share link."""
        await services.shares.revoke_playlist_links(user, playlist_id, link_id)

    # ---- files (musicd) ----

    @get("/playlists/{playlist_id:str}/export", responses=READ_ERRORS)
    async def export(self, playlist_id: str, user: User, services: Services, format: str = "m3u8"
                     ) -> Response[str]:
        """The playlist as an M3U8 or XSPF file (paths relative to the library folder)."""
        name, media_type, text = await services.playlists.export(user, playlist_id, format)
        return Response(text, media_type=f"{media_type}; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})

    @post("/me/playlists/import", status_code=HTTP_201_CREATED, responses=WRITE_ERRORS)
    async def import_file(self, request: Req, user: User, services: Services, name: str | None = None,
                          public: bool = False) -> dict[str, Any]:
        """Create a playlist from an M3U/M3U8 or XSPF body; lines are matched by path, then title and artist."""
        pl, matched, unmatched = await services.playlists.import_file(user, await request.body(), name, public)
        return {"playlist": simplified_playlist(base_url(request), pl), "matched": matched,
                "unmatched": unmatched}
