"""Artist and album info, similar songs and top songs: from musicd's own listening history and audio
analysis (services/recommend.py), no outside services."""

from __future__ import annotations

from typing import Any

from musicd.domain.catalog import AlbumView, ArtistView, TrackView
from musicd.http.subsonic.context import Ctx, Reply, endpoint
from musicd.http.subsonic.envelope import ERR_NOT_FOUND, SubsonicError
from musicd.http.subsonic.mappers import artist, artist_id3, child

__all__: list[str] = []


async def _artist_for(ctx: Ctx, item_id: str) -> ArtistView:
    """getArtistInfo takes an artist, album or song id (folder clients pass whatever they browse)."""
    item = await ctx.services.catalog.item(item_id, ctx.user.id)
    if isinstance(item, ArtistView):
        return item
    artist_id = item.artist.id if isinstance(item, AlbumView) else (
        item.artists[0].id if item.artists else item.album_artist.id)
    return await ctx.services.catalog.artist(artist_id, ctx.user.id)


async def _artist_info(ctx: Ctx, mapper: Any) -> dict[str, Any]:
    a = await _artist_for(ctx, ctx.req("id"))
    count = ctx.int("count", 20, 0, 100) or 0
    similar = await ctx.services.recommend.similar_artists(a.id, count, ctx.user) if count else []
    # Sequence order matters in XML (ArtistInfoBase): biography, musicBrainzId, ... then similarArtist.
    info: dict[str, Any] = {"biography": "", "musicBrainzId": a.mbid, "similarArtist": [mapper(s) for s in similar]}
    return info


@endpoint("getArtistInfo")
async def get_artist_info(ctx: Ctx) -> Reply:
    return {"artistInfo": await _artist_info(ctx, artist)}


@endpoint("getArtistInfo2")
async def get_artist_info2(ctx: Ctx) -> Reply:
    return {"artistInfo2": await _artist_info(ctx, artist_id3)}


async def _album_info(ctx: Ctx) -> dict[str, Any]:
    item = await ctx.services.catalog.item(ctx.req("id"), ctx.user.id)
    if isinstance(item, TrackView):
        item = await ctx.services.catalog.album(item.album_id, ctx.user.id)
    if not isinstance(item, AlbumView):
        raise SubsonicError(ERR_NOT_FOUND, "no album with this id")
    return {"notes": "", "musicBrainzId": item.mbid}


@endpoint("getAlbumInfo")
async def get_album_info(ctx: Ctx) -> Reply:
    return {"albumInfo": await _album_info(ctx)}


@endpoint("getAlbumInfo2")
async def get_album_info2(ctx: Ctx) -> Reply:
    return {"albumInfo": await _album_info(ctx)}


async def _similar(ctx: Ctx) -> list[dict[str, Any]]:
    count = ctx.int("count", 50, 0, 500) or 0
    tracks = await ctx.services.recommend.similar_tracks(ctx.req("id"), count, ctx.user)
    return [child(t) for t in tracks]


@endpoint("getSimilarSongs")
async def get_similar_songs(ctx: Ctx) -> Reply:
    return {"similarSongs": {"song": await _similar(ctx)}}


@endpoint("getSimilarSongs2")
async def get_similar_songs2(ctx: Ctx) -> Reply:
    return {"similarSongs2": {"song": await _similar(ctx)}}


@endpoint("getTopSongs")
async def get_top_songs(ctx: Ctx) -> Reply:
    """Top songs of an artist, by `id` (OpenSubsonic topSongsByArtistId, preferred) or by exact `artist` name."""
    count = ctx.int("count", 50, 0, 500) or 0
    catalog = ctx.services.catalog
    artist_id = ctx.opt("id")
    if not artist_id:
        name = ctx.req("artist")
        hits = await ctx.services.search.search(name, {"artist"}, limit=20, user_id=ctx.user.id)
        ids = [h[0] for h in hits["artist"].hits]
        found = [a for a in await catalog.artists(ids, ctx.user.id) if a is not None]
        exact = [a for a in found if a.name.casefold() == name.casefold()]
        if not exact:
            return {"topSongs": {"song": []}}
        artist_id = exact[0].id
    tracks = await ctx.services.recommend.top_tracks(artist_id, count, ctx.user)
    return {"topSongs": {"song": [child(t) for t in tracks]}}
