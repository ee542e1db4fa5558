"""Whole-library lists the web player pages through (Spotify has no such endpoints: its library is what a
user saved; a household server's library is everything on disk): all artists, albums in an order, and
the albums and tracks of a genre (a browse category)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Controller, Request, get
from litestar.params import Parameter

from musicd.domain.models import User
from musicd.http.v1.shapes import album_simple, artist_full, links, page_of, paging, track_full
from musicd.services.registry import Services

__all__ = ["LibraryListsController"]

Limit = Annotated[int, Parameter(ge=1, le=100, description="1 to 100")]
Offset = Annotated[int, Parameter(ge=0, le=10_000_000)]
AlbumOrder = Literal["newest", "alphabeticalByName", "alphabeticalByArtist", "frequent", "recent", "random"]


class LibraryListsController(Controller):
    path = "/v1"
    tags = ["browse"]

    @get("/library/artists")
    async def artists(self, request: Request[Any, Any, Any], user: User, services: Services, limit: Limit = 50,
                      offset: Offset = 0, album_artists_only: bool = False) -> dict[str, Any]:
        """Every artist of the library by sort name (`album_artists_only`: those with albums of their own)."""
        everyone = await services.catalog.all_artists(user.id, album_artists_only)
        ln = links(request)
        items = [artist_full(ln, a) for a in everyone[offset : offset + limit]]
        return {"artists": paging(ln, items, len(everyone), limit, offset)}

    @get("/library/albums")
    async def albums(self, request: Request[Any, Any, Any], user: User, services: Services,
                     sort: AlbumOrder = "alphabeticalByName", limit: Limit = 50, offset: Offset = 0
                     ) -> dict[str, Any]:
        """Every album of the library in an order (newest = recently added; frequent, recent: by plays)."""
        page = await services.catalog.album_list(sort, user.id, limit, offset)
        return {"albums": page_of(links(request), page, album_simple)}

    @get("/browse/categories/{category_id:str}/albums")
    async def genre_albums(self, request: Request[Any, Any, Any], category_id: str, user: User,
                           services: Services, limit: Limit = 50, offset: Offset = 0) -> dict[str, Any]:
        """The albums of a genre, by name."""
        cat = await services.mixes.category(category_id)
        page = await services.catalog.album_list("byGenre", user.id, limit, offset, genre=cat.name)
        return {"albums": page_of(links(request), page, album_simple)}

    @get("/browse/categories/{category_id:str}/tracks")
    async def genre_tracks(self, request: Request[Any, Any, Any], category_id: str, user: User,
                           services: Services, limit: Limit = 50, offset: Offset = 0) -> dict[str, Any]:
        """The tracks of a genre (a paging object of full tracks)."""
        cat = await services.mixes.category(category_id)
        page = await services.catalog.tracks_by_genre(cat.name, limit, offset, user.id)
        return {"tracks": page_of(links(request), page, track_full)}
