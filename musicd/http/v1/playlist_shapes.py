"""Wire shapes of /v1 playlists (Spotify's playlist, simplified playlist and playlist track objects) and bodies.

Spotify's February 2026 API renamed a playlist's `tracks` to `items` and a playlist track's `track` to
`item`, sending both during the change-over; musicd sends both too, so old and new clients work.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar.openapi import ResponseSpec

from musicd.domain.catalog import Page
from musicd.domain.playlists import Playlist, PlaylistItem
from musicd.errors import ValidationError
from musicd.http.bounds import Int64, ItemCount, ItemIndex
from musicd.http.v1.shapes import ERRORS, WRITE_ERRORS, ErrorBody, Links, images, paging, track_full, uri
from musicd.services.shares import Share

__all__ = [
    "EDIT_ERRORS",
    "READ_ERRORS",
    "SHARE_ERRORS",
    "WRITE_ERRORS",
    "AddItemsBody",
    "CollaboratorsBody",
    "CreatePlaylistBody",
    "DetailsBody",
    "FollowBody",
    "RemoveItemsBody",
    "ShareBody",
    "UpdateItemsBody",
    "collaborator_objects",
    "full_playlist",
    "parse_track_uri",
    "playlist_page",
    "playlist_track",
    "share_object",
    "simplified_playlist",
    "user_ref",
]

_TRACK_URI_PREFIXES = ("musicd:track:", "spotify:track:")

# Error responses for the OpenAPI schema: reads, writes, item edits (409 on a stale snapshot that does not
# merge), share pages (410 once revoked or expired).
READ_ERRORS = ERRORS
EDIT_ERRORS = {**WRITE_ERRORS, 409: ResponseSpec(data_container=ErrorBody, description="snapshot_conflict: the "
               "playlist changed since snapshot_id in a way this change depends on")}
SHARE_ERRORS = {
    400: ERRORS[400], 404: ERRORS[404],
    410: ResponseSpec(data_container=ErrorBody, description="The share link was revoked or has expired"),
}


class CreatePlaylistBody(msgspec.Struct, forbid_unknown_fields=False):
    name: str
    description: str = ""
    public: bool = True
    collaborative: bool = False


class DetailsBody(msgspec.Struct, forbid_unknown_fields=False):
    name: str | None = None
    description: str | None = None
    public: bool | None = None
    collaborative: bool | None = None


class AddItemsBody(msgspec.Struct, forbid_unknown_fields=False):
    uris: list[str] | None = None
    position: ItemIndex | None = None
    snapshot_id: str | None = None  # musicd: an insert at `position` against this snapshot merges or 409s


class RemoveItem(msgspec.Struct, forbid_unknown_fields=False):
    uri: str
    positions: list[ItemIndex] | None = None


class RemoveItemsBody(msgspec.Struct, forbid_unknown_fields=False):
    """Spotify's `tracks` (before February 2026) and `items` (after) are both read."""

    tracks: list[RemoveItem] | None = None
    items: list[RemoveItem] | None = None
    snapshot_id: str | None = None


class UpdateItemsBody(msgspec.Struct, forbid_unknown_fields=False):
    """Reorder (range_start, insert_before, range_length, snapshot_id) or replace (uris)."""

    uris: list[str] | None = None
    range_start: ItemIndex | None = None
    insert_before: ItemIndex | None = None
    range_length: ItemCount = 1
    snapshot_id: str | None = None


class FollowBody(msgspec.Struct, forbid_unknown_fields=False):
    public: bool = True


class CollaboratorsBody(msgspec.Struct, forbid_unknown_fields=False):
    ids: list[str]


class ShareBody(msgspec.Struct, forbid_unknown_fields=False):
    expires_in: Int64 | None = None  # seconds; default 30 days (the service checks the range)


def parse_track_uri(uri: str) -> str:
    """The track id of a `spotify:track:<id>` or `musicd:track:<id>` URI; 400 otherwise."""
    for prefix in _TRACK_URI_PREFIXES:
        if uri.startswith(prefix) and 0 < len(uri) - len(prefix) <= 64:
            return uri[len(prefix):]
    raise ValidationError(f"not a track URI: {uri[:80]!r} (use spotify:track:<id>)", code="invalid_uri")


def user_ref(base: str, user_id: str | None, display_name: str | None = None) -> dict[str, Any] | None:
    """A public user object as Spotify nests it (owner, added_by)."""
    if user_id is None:
        return None
    out: dict[str, Any] = {
        "external_urls": {}, "href": f"{base}/v1/users/{user_id}", "id": user_id, "type": "user",
        "uri": uri("user", user_id),
    }
    if display_name is not None:
        out["display_name"] = display_name
    return out


def simplified_playlist(base: str, pl: Playlist) -> dict[str, Any]:
    """Spotify's simplified playlist object (lists, search results)."""
    tracks_ref = {"href": f"{base}/v1/playlists/{pl.id}/tracks", "total": pl.total}
    return {
        "collaborative": pl.collaborative, "description": pl.description, "external_urls": {},
        "href": f"{base}/v1/playlists/{pl.id}", "id": pl.id, "images": images(base, pl.image_id),
        "name": pl.name, "owner": user_ref(base, pl.owner_id, pl.owner_name), "primary_color": None,
        "public": pl.public, "snapshot_id": pl.snapshot_id, "tracks": tracks_ref, "items": tracks_ref,
        "type": "playlist", "uri": uri("playlist", pl.id),
    }


def playlist_track(ln: Links, item: PlaylistItem) -> dict[str, Any]:
    """Spotify's playlist track object: when and by whom the track was added, and the track."""
    track = track_full(ln, item.track) if item.track is not None else None
    return {
        "added_at": item.entry.added_at, "added_by": user_ref(ln.base, item.entry.added_by), "is_local": False,
        "primary_color": None, "video_thumbnail": {"url": None}, "track": track, "item": track,
    }


def playlist_page(ln: Links, page: Page[PlaylistItem], href: str | None = None) -> dict[str, Any]:
    """A paging object of playlist track objects; `href` is the list's URL (default: this request's)."""
    return paging(ln, [playlist_track(ln, i) for i in page.items], page.total, page.limit, page.offset, href)


def full_playlist(ln: Links, pl: Playlist, page: Page[PlaylistItem], items_href: str | None = None
                  ) -> dict[str, Any]:
    """Spotify's playlist object with the first page of its items."""
    out = simplified_playlist(ln.base, pl)
    tracks = playlist_page(ln, page, items_href or f"{ln.base}/v1/playlists/{pl.id}/tracks")
    out.update({"followers": {"href": None, "total": pl.followers}, "tracks": tracks, "items": tracks})
    return out


def collaborator_objects(base: str, rows: list[tuple[str, str, str]]) -> dict[str, Any]:
    items = []
    for uid, name, added_at in rows:
        ref = user_ref(base, uid, name)
        assert ref is not None
        items.append({**ref, "added_at": added_at})
    return {"items": items, "total": len(items)}


def share_object(base: str, link: Share, with_token: bool = True) -> dict[str, Any]:
    """A playlist's share link; `token` and `url` only right after it was made."""
    out: dict[str, Any] = {
        "id": link.id, "playlist_id": link.playlist_id, "created_at": link.created_at,
        "expires_at": link.expires_at, "revoked_at": link.revoked_at,
    }
    if with_token and link.token:
        out.update({"token": link.token, "url": f"{base}/share/{link.token}"})
    return out
