"""search, search2 and search3 through the Tantivy index; an empty query lists the whole library, paged."""

from __future__ import annotations

from typing import Any

from musicd.domain.catalog import AlbumView, ArtistView, TrackView
from musicd.domain.federation import Sources
from musicd.http.subsonic.context import Ctx, Reply, endpoint
from musicd.http.subsonic.folders import folder_sources
from musicd.http.subsonic.mappers import album_child, album_id3, artist, artist_id3, child

__all__: list[str] = []

_MAX = 500
_KINDS = (("artist", "artist"), ("album", "album"), ("song", "track"))


def _is_empty(query: str) -> bool:
    # Clients that sync the whole library send "" or a quoted empty string ('""').
    return query.strip().strip('"').strip() in ("", "*")


async def _all_artists(ctx: Ctx, count: int, offset: int, sources: Sources | None) -> list[ArtistView]:
    artists = await ctx.services.catalog.all_artists(ctx.user.id, sources=sources)
    return artists[offset:offset + count]


async def _all_albums(ctx: Ctx, count: int, offset: int, sources: Sources | None) -> list[AlbumView]:
    page = await ctx.services.catalog.album_list("alphabeticalByName", ctx.user.id, count, offset, sources=sources)
    return page.items


async def _all_tracks(ctx: Ctx, count: int, offset: int, sources: Sources | None) -> list[TrackView]:
    if sources is not None and not sources.local:
        return []  # a friend's library is listed album by album (getAlbumList2 with its musicFolderId)
    return (await ctx.services.catalog.all_tracks(ctx.user.id, count, offset)).items


async def _search(ctx: Ctx, song_mapper: Any, album_mapper: Any, artist_mapper: Any) -> dict[str, Any]:
    query = ctx.opt("query", "") or ""
    mappers = {"artist": artist_mapper, "album": album_mapper, "song": song_mapper}
    wanted = {}
    for name, kind in _KINDS:
        count = ctx.int(f"{name}Count", 20, 0, _MAX) or 0
        offset = ctx.int(f"{name}Offset", 0, 0) or 0
        if count:
            wanted[name] = (kind, count, offset)
    found: dict[str, list[Any]] = {}
    sources = await folder_sources(ctx)
    if _is_empty(query):
        listers = {"artist": _all_artists, "album": _all_albums, "song": _all_tracks}
        for name, (_, count, offset) in wanted.items():
            found[name] = await listers[name](ctx, count, offset, sources)
    else:
        # One index query per distinct (count, offset): the usual call asks the same page of every kind.
        groups: dict[tuple[int, int], list[str]] = {}
        for kind, count, offset in wanted.values():
            groups.setdefault((count, offset), []).append(kind)
        by_kind: dict[str, list[Any]] = {}
        for (count, offset), kinds in groups.items():
            res = await ctx.services.search.find(query, kinds, count, offset, ctx.user.id, sources=sources)
            for kind in kinds:
                by_kind[kind] = res[kind].items
        found = {name: by_kind[kind] for name, (kind, _, _) in wanted.items()}
    # Element order matters in XML: artist, album, song.
    return {name: [mappers[name](x) for x in found[name]] for name, _ in _KINDS if name in found}


@endpoint("search3")
async def search3(ctx: Ctx) -> Reply:
    return {"searchResult3": await _search(ctx, child, album_id3, artist_id3)}


@endpoint("search2")
async def search2(ctx: Ctx) -> Reply:
    return {"searchResult2": await _search(ctx, child, album_child, artist)}


@endpoint("search")
async def search(ctx: Ctx) -> Reply:
    """The deprecated 1.0 search: songs matching artist, album, title or any of them."""
    terms = [ctx.opt(k) for k in ("any", "artist", "album", "title")]
    query = " ".join(t for t in terms if t)
    count = ctx.int("count", 20, 0, _MAX) or 0
    offset = ctx.int("offset", 0, 0) or 0
    if _is_empty(query):
        return {"searchResult": {"offset": offset, "totalHits": 0, "match": []}}
    res = await ctx.services.search.find(query, ["track"], count, offset, ctx.user.id)
    page = res["track"]
    return {"searchResult": {"offset": offset, "totalHits": page.total, "match": [child(t) for t in page.items]}}
