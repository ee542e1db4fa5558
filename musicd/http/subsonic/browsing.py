"""Browsing: music folders, indexes, directories, genres, artists, albums, songs."""

from __future__ import annotations

import time
from itertools import groupby
from typing import Any

from musicd.domain.catalog import IGNORED_ARTICLES, AlbumView, ArtistView, index_letter
from musicd.http.subsonic.context import Ctx, Reply, endpoint
from musicd.http.subsonic.envelope import ERR_NOT_FOUND, SubsonicError
from musicd.http.subsonic.folders import folder_sources, peer_folders
from musicd.http.subsonic.mappers import album_child, album_id3, artist, artist_id3, child

__all__ = ["all_artist_albums"]

_IGNORED = " ".join(IGNORED_ARTICLES)
_ALL = 10_000


def _folders(ctx: Ctx) -> list[dict[str, Any]]:
    # Ids are the folders' positions in the configuration: musicd has one catalogue, and nothing is
    # filtered by folder, so clients only need them stable and integral (the XSD says xs:int).
    return [{"id": i, "name": f.name or str(f)} for i, f in enumerate(ctx.services.config.library_folders, 1)]


@endpoint("getMusicFolders")
async def get_music_folders(ctx: Ctx) -> Reply:
    return {"musicFolders": {"musicFolder": _folders(ctx) + await peer_folders(ctx)}}


def _grouped(artists: list[ArtistView], mapper: Any) -> list[dict[str, Any]]:
    return [{"name": letter, "artist": [mapper(a) for a in group]}
            for letter, group in groupby(artists, key=lambda a: index_letter(a.name, a.sort_name))]


async def _index_artists(ctx: Ctx) -> list[ArtistView]:
    return await ctx.services.catalog.all_artists(ctx.user.id, album_artists_only=True,
                                                  sources=await folder_sources(ctx))


@endpoint("getIndexes")
async def get_indexes(ctx: Ctx) -> Reply:
    artists = await _index_artists(ctx)
    return {"indexes": {"lastModified": int(time.time() * 1000), "ignoredArticles": _IGNORED,
                        "index": _grouped(artists, artist)}}


@endpoint("getArtists")
async def get_artists(ctx: Ctx) -> Reply:
    artists = await _index_artists(ctx)
    return {"artists": {"ignoredArticles": _IGNORED, "index": _grouped(artists, artist_id3)}}


async def all_artist_albums(ctx: Ctx, artist_id: str) -> list[AlbumView]:
    """Every album of an artist: theirs first, then those they appear on."""
    page = await ctx.services.catalog.artist_albums(artist_id, ctx.user.id, limit=_ALL)
    return page.items


@endpoint("getArtist")
async def get_artist(ctx: Ctx) -> Reply:
    artist_id = ctx.req("id")
    a = await ctx.services.catalog.artist(artist_id, ctx.user.id)
    albums = await all_artist_albums(ctx, artist_id)
    return {"artist": {**artist_id3(a), "album": [album_id3(al) for al in albums]}}


@endpoint("getAlbum")
async def get_album(ctx: Ctx) -> Reply:
    album_id = ctx.req("id")
    catalog = ctx.services.catalog
    a = await catalog.album(album_id, ctx.user.id)
    songs = await catalog.album_tracks(album_id, ctx.user.id)
    return {"album": {**album_id3(a), "song": [child(t) for t in songs]}}


@endpoint("getSong")
async def get_song(ctx: Ctx) -> Reply:
    return {"song": child(await ctx.services.catalog.track(ctx.req("id"), ctx.user.id))}


@endpoint("getGenres")
async def get_genres(ctx: Ctx) -> Reply:
    genres = await ctx.services.catalog.genres()
    return {"genres": {"genre": [{"value": g.name, "songCount": g.track_count, "albumCount": g.album_count}
                                 for g in genres]}}


@endpoint("getMusicDirectory")
async def get_music_directory(ctx: Ctx) -> Reply:
    dir_id = ctx.req("id")
    folders = _folders(ctx)
    if any(str(f["id"]) == dir_id for f in folders):
        name = next(f["name"] for f in folders if str(f["id"]) == dir_id)
        artists = await _index_artists(ctx)
        return {"directory": {"id": dir_id, "name": name, "child": [
            {"id": a.id, "parent": dir_id, "isDir": True, "title": a.name, "artist": a.name,
             "coverArt": a.cover_id, "starred": a.state.saved_at, "userRating": a.state.rating}
            for a in artists]}}
    item = await ctx.services.catalog.item(dir_id, ctx.user.id)
    if isinstance(item, ArtistView):
        albums = await all_artist_albums(ctx, item.id)
        return {"directory": {"id": item.id, "name": item.name, "starred": item.state.saved_at,
                              "userRating": item.state.rating, "child": [album_child(a) for a in albums]}}
    if isinstance(item, AlbumView):
        songs = await ctx.services.catalog.album_tracks(item.id, ctx.user.id)
        return {"directory": {"id": item.id, "parent": item.artist.id, "name": item.name,
                              "starred": item.state.saved_at, "userRating": item.state.rating,
                              "playCount": item.state.play_count, "child": [child(t) for t in songs]}}
    raise SubsonicError(ERR_NOT_FOUND, f"{dir_id} is a song, not a directory")
