"""Playlists: getPlaylists, getPlaylist, createPlaylist, updatePlaylist, deletePlaylist."""

from __future__ import annotations

from typing import Any

from musicd.domain.playlists import Playlist
from musicd.http.subsonic.context import Ctx, Reply, endpoint
from musicd.http.subsonic.envelope import ERR_GENERIC, SubsonicError
from musicd.http.subsonic.mappers import child

__all__ = ["playlist"]


def playlist(pl: Playlist, ctx: Ctx, duration: float) -> dict[str, Any]:
    """A Playlist (without entries); `changed` is required by the XSD and by typed clients."""
    return {
        "id": pl.id,
        "name": pl.name,
        "comment": pl.description,
        "owner": pl.owner_name,
        "public": pl.public,
        "songCount": pl.total,
        "duration": round(duration),
        "created": pl.created_at,
        "changed": pl.updated_at,
        "coverArt": pl.image_id,
        "readonly": pl.owner_id != ctx.user.id and not pl.collaborative,
    }


@endpoint("getPlaylists")
async def get_playlists(ctx: Ctx) -> Reply:
    owner_id = None
    if username := ctx.opt("username"):
        owner = await ctx.services.accounts.find(username)
        if owner is None:
            raise SubsonicError(ERR_GENERIC, f"no user {username!r}")
        owner_id = owner.id
    pls = await ctx.services.playlists.subsonic_list(ctx.user, owner_id)
    return {"playlists": {"playlist": [playlist(p, ctx, seconds) for p, seconds in pls]}}


async def _with_songs(ctx: Ctx, playlist_id: str) -> dict[str, Any]:
    pl, items = await ctx.services.playlists.subsonic_get(ctx.user, playlist_id)
    tracks = [i.track for i in items if i.track is not None]
    return {**playlist(pl, ctx, sum(t.duration for t in tracks)), "entry": [child(t) for t in tracks]}


@endpoint("getPlaylist")
async def get_playlist(ctx: Ctx) -> Reply:
    return {"playlist": await _with_songs(ctx, ctx.req("id"))}


@endpoint("createPlaylist")
async def create_playlist(ctx: Ctx) -> Reply:
    """A new playlist (`name`), or with `playlistId` the songs of an existing one replaced."""
    playlist_id = ctx.opt("playlistId")
    name = ctx.opt("name")
    if playlist_id is None:
        name = ctx.req("name")
    pl = await ctx.services.playlists.subsonic_create(ctx.user, name, ctx.all("songId"), playlist_id)
    return {"playlist": await _with_songs(ctx, pl.id)}


@endpoint("updatePlaylist")
async def update_playlist(ctx: Ctx) -> Reply:
    public = ctx.opt("public")
    removes = ctx.ints("songIndexToRemove")
    await ctx.services.playlists.subsonic_update(
        ctx.user, ctx.req("playlistId"), name=ctx.opt("name"), comment=ctx.opt("comment"),
        public=None if public is None else ctx.bool("public"), add=ctx.all("songIdToAdd"), remove_indexes=removes)
    return None


@endpoint("deletePlaylist")
async def delete_playlist(ctx: Ctx) -> Reply:
    await ctx.services.playlists.delete(ctx.user, ctx.req("id"))
    return None
