"""search, search2 and search3 through the search service (a blank query lists the whole library, paged)."""

from __future__ import annotations

from typing import Any

from musicd.http.subsonic.context import Ctx, Reply, endpoint
from musicd.http.subsonic.folders import folder_sources
from musicd.http.subsonic.mappers import album_child, album_id3, artist, artist_id3, child

__all__: list[str] = []

_MAX = 500
_KINDS = (("artist", "artist"), ("album", "album"), ("song", "track"))


async def _search(ctx: Ctx, song_mapper: Any, album_mapper: Any, artist_mapper: Any) -> dict[str, Any]:
    mappers = {"artist": artist_mapper, "album": album_mapper, "song": song_mapper}
    wanted = {}
    for name, kind in _KINDS:
        count = ctx.int(f"{name}Count", 20, 0, _MAX) or 0
        offset = ctx.int(f"{name}Offset", 0, 0) or 0
        if count:
            wanted[kind] = (count, offset)
    found = await ctx.services.search.pages(ctx.opt("query", "") or "", wanted, ctx.user.id,
                                            sources=await folder_sources(ctx))
    # Element order matters in XML: artist, album, song.
    return {name: [mappers[name](x) for x in found[kind]] for name, kind in _KINDS if kind in found}


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
    page = await ctx.services.search.songs(query, count, offset, ctx.user.id)
    return {"searchResult": {"offset": offset, "totalHits": page.total, "match": [child(t) for t in page.items]}}
