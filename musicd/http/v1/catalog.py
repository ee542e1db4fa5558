"""/v1 catalogue: tracks, albums and artists by id and by several ids, an album's tracks, an artist's albums,
top tracks and related artists, in Spotify Web API shapes."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.params import Parameter

from musicd.domain.models import User
from musicd.errors import ValidationError
from musicd.http.v1.shapes import (
    ERRORS,
    album_full,
    album_simple,
    artist_full,
    links,
    page_of,
    parse_id,
    parse_ids,
    track_full,
    track_simple,
)
from musicd.services.registry import Services

__all__ = ["CatalogController"]

Limit = Annotated[int, Parameter(ge=1, le=50, description="1 to 50")]
Offset = Annotated[int, Parameter(ge=0, le=1_000_000)]
Ids = Annotated[str, Parameter(description="Comma-separated ids or URIs (at most 50)")]

# Spotify's include_groups values mapped onto musicd's two groups ("single" has no counterpart).
_GROUPS = {"album": "album", "compilation": "album", "appears_on": "appears_on", "single": None}


def _groups(value: str | None) -> list[str]:
    if not value:
        return ["album", "appears_on"]
    out: list[str] = []
    for g in value.split(","):
        g = g.strip()
        if g not in _GROUPS:
            raise ValidationError(f"unknown include_groups value {g!r}", code="bad_include_groups")
        mapped = _GROUPS[g]
        if mapped is not None and mapped not in out:
            out.append(mapped)
    return out


class CatalogController(Controller):
    path = "/v1"
    tags = ["catalogue"]

    @get("/tracks/{track_id:str}", responses=ERRORS)
    async def track(self, request: Request[Any, Any, Any], track_id: str, user: User, services: Services
                    ) -> dict[str, Any]:
        """A track (full object)."""
        t = await services.catalog.track(parse_id(track_id, "track"), user.id)
        return track_full(links(request), t)

    @get("/tracks", responses=ERRORS)
    async def tracks(self, request: Request[Any, Any, Any], ids: Ids, user: User, services: Services
                     ) -> dict[str, Any]:
        """Several tracks; unknown ids give null in their place."""
        found = await services.catalog.tracks(parse_ids(ids, "track"), user.id)
        ln = links(request)
        return {"tracks": [track_full(ln, t) if t else None for t in found]}

    @get("/albums/{album_id:str}", responses=ERRORS)
    async def album(self, request: Request[Any, Any, Any], album_id: str, user: User, services: Services
                    ) -> dict[str, Any]:
        """An album (full object with the first 50 tracks)."""
        album, tracks = await services.catalog.album_with_tracks(parse_id(album_id, "album"), user.id)
        return album_full(links(request), album, tracks)

    @get("/albums", responses=ERRORS)
    async def albums(self, request: Request[Any, Any, Any], ids: Ids, user: User, services: Services
                     ) -> dict[str, Any]:
        """Several albums (at most 20 in Spotify, 50 here), each with the first page of its tracks."""
        found = await services.catalog.albums_with_tracks(parse_ids(ids, "album"), user.id)
        ln = links(request)
        return {"albums": [album_full(ln, *f) if f else None for f in found]}

    @get("/albums/{album_id:str}/tracks", responses=ERRORS)
    async def album_tracks(self, request: Request[Any, Any, Any], album_id: str, user: User, services: Services,
                           limit: Limit = 20, offset: Offset = 0) -> dict[str, Any]:
        """One page of an album's tracks (simplified objects) in disc and track order."""
        page = await services.catalog.album_track_page(parse_id(album_id, "album"), user.id, limit, offset)
        return page_of(links(request), page, track_simple)

    @get("/artists/{artist_id:str}", responses=ERRORS)
    async def artist(self, request: Request[Any, Any, Any], artist_id: str, user: User, services: Services
                     ) -> dict[str, Any]:
        a = await services.catalog.artist(parse_id(artist_id, "artist"), user.id)
        return artist_full(links(request), a)

    @get("/artists", responses=ERRORS)
    async def artists(self, request: Request[Any, Any, Any], ids: Ids, user: User, services: Services
                      ) -> dict[str, Any]:
        found = await services.catalog.artists(parse_ids(ids, "artist"), user.id)
        ln = links(request)
        return {"artists": [artist_full(ln, a) if a else None for a in found]}

    @get("/artists/{artist_id:str}/albums", responses=ERRORS)
    async def artist_albums(
        self, request: Request[Any, Any, Any], artist_id: str, user: User, services: Services,
        include_groups: Annotated[str | None, Parameter(description="album,single,appears_on,compilation")] = None,
        limit: Limit = 20, offset: Offset = 0,
    ) -> dict[str, Any]:
        """Albums they are the album artist of (`album_group` "album"), then those they appear on."""
        aid = parse_id(artist_id, "artist")
        page = await services.catalog.artist_albums(aid, user.id, limit, offset, _groups(include_groups))
        ln = links(request)
        return page_of(ln, page, lambda ln, a: album_simple(ln, a, group_of=aid))

    @get("/artists/{artist_id:str}/top-tracks", responses=ERRORS)
    async def artist_top_tracks(self, request: Request[Any, Any, Any], artist_id: str, user: User,
                                services: Services) -> dict[str, Any]:
        """Their ten most played tracks."""
        tracks = await services.catalog.artist_top_tracks(parse_id(artist_id, "artist"), user.id, 10)
        ln = links(request)
        return {"tracks": [track_full(ln, t) for t in tracks]}

    @get("/artists/{artist_id:str}/related-artists", responses=ERRORS)
    async def related_artists(self, request: Request[Any, Any, Any], artist_id: str, user: User,
                              services: Services) -> dict[str, Any]:
        """Up to 20 artists credited with them or sharing their genres."""
        found = await services.catalog.related_artists(parse_id(artist_id, "artist"), 20, user.id)
        ln = links(request)
        return {"artists": [artist_full(ln, a) for a in found]}
