"""Album and song lists: getAlbumList(2), getRandomSongs, getSongsByGenre, getStarred(2)."""

from __future__ import annotations

from typing import Any

from musicd.domain.catalog import AlbumView
from musicd.http.subsonic.context import Ctx, Reply, endpoint
from musicd.http.subsonic.envelope import ERR_MISSING, SubsonicError
from musicd.http.subsonic.folders import folder_sources
from musicd.http.subsonic.mappers import album_child, album_id3, artist, artist_id3, child

__all__ = ["saved_all"]

_PAGE = 500


async def _album_list(ctx: Ctx) -> tuple[list[AlbumView], str | None]:
    """The list of `type` (the catalogue says which types there are and what each one needs)."""
    kind = ctx.req("type")
    genre = ctx.opt("genre") if kind == "byGenre" else None
    size = ctx.int("size", 10, 0, _PAGE) or 0
    offset = ctx.int("offset", 0, 0) or 0
    page = await ctx.services.catalog.album_list(kind, ctx.user.id, size, offset, ctx.int("fromYear"),
                                                 ctx.int("toYear"), genre, sources=await folder_sources(ctx))
    return page.items, genre


def _listed(albums: list[AlbumView], genre: str | None, mapper: Any) -> list[dict[str, Any]]:
    out = [mapper(a) for a in albums]
    if genre:
        # An album of several genres shows, in a list by genre, the genre it was listed for.
        want = genre.casefold()
        for d, a in zip(out, albums, strict=True):
            d["genre"] = next((g for g in a.genres if g.casefold() == want), d.get("genre", genre))
    return out


@endpoint("getAlbumList")
async def get_album_list(ctx: Ctx) -> Reply:
    albums, genre = await _album_list(ctx)
    return {"albumList": {"album": _listed(albums, genre, album_child)}}


@endpoint("getAlbumList2")
async def get_album_list2(ctx: Ctx) -> Reply:
    albums, genre = await _album_list(ctx)
    return {"albumList2": {"album": _listed(albums, genre, album_id3)}}


@endpoint("getRandomSongs")
async def get_random_songs(ctx: Ctx) -> Reply:
    size = ctx.int("size", 10, 0, _PAGE) or 0
    tracks = await ctx.services.catalog.random_tracks(
        size, ctx.user.id, ctx.opt("genre") or None, ctx.int("fromYear"), ctx.int("toYear"))
    return {"randomSongs": {"song": [child(t) for t in tracks]}}


@endpoint("getSongsByGenre")
async def get_songs_by_genre(ctx: Ctx) -> Reply:
    genre = ctx.opt("genre")
    if genre is None:
        raise SubsonicError(ERR_MISSING, "required parameter is missing: genre")
    count = ctx.int("count", 10, 0, _PAGE) or 0
    offset = ctx.int("offset", 0, 0) or 0
    page = await ctx.services.catalog.tracks_by_genre(genre, count, offset, ctx.user.id)
    return {"songsByGenre": {"song": [child(t) for t in page.items]}}


async def saved_all(ctx: Ctx, kind: str) -> list[Any]:
    """Every item of a kind the user starred, the most recent first."""
    out: list[Any] = []
    offset = 0
    while True:
        page = await ctx.services.user_library.saved(kind, ctx.user.id, _PAGE, offset)
        out += page.items
        offset += _PAGE
        if offset >= page.total or not page.items:
            return out


@endpoint("getStarred")
async def get_starred(ctx: Ctx) -> Reply:
    return {"starred": {"artist": [artist(a) for a in await saved_all(ctx, "artist")],
                        "album": [album_child(a) for a in await saved_all(ctx, "album")],
                        "song": [child(t) for t in await saved_all(ctx, "track")]}}


@endpoint("getStarred2")
async def get_starred2(ctx: Ctx) -> Reply:
    return {"starred2": {"artist": [artist_id3(a) for a in await saved_all(ctx, "artist")],
                         "album": [album_id3(a) for a in await saved_all(ctx, "album")],
                         "song": [child(t) for t in await saved_all(ctx, "track")]}}
