"""The web player's library grids (musicd.services.library_grid): `/v1/library/album-grid` (every album,
sorted and filtered), `/v1/library/tracks` (every song) and `/v1/library/years` (for the year filter)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Controller, Request, get
from litestar.params import Parameter

from musicd.domain.models import User
from musicd.http.v1.shapes import album_simple, links, page_of, track_full
from musicd.services.registry import Services

__all__ = ["LibraryGridController"]

Limit = Annotated[int, Parameter(ge=1, le=100, description="1 to 100")]
Offset = Annotated[int, Parameter(ge=0, le=10_000_000)]
Year = Annotated[int | None, Parameter(ge=0, le=9999)]


class LibraryGridController(Controller):
    path = "/v1/library"
    tags = ["browse"]

    @get("/album-grid")
    async def album_grid(self, request: Request[Any, Any, Any], user: User, services: Services,
                         sort: Literal["name", "artist", "year", "added"] = "name", genre: str | None = None,
                         year_from: Year = None, year_to: Year = None, limit: Limit = 50, offset: Offset = 0,
                         ) -> dict[str, Any]:
        """Every album by name, artist, year (newest first) or when it was added; of a genre, between years."""
        page = await services.library_grid.albums(user, sort, genre, year_from, year_to, limit, offset)
        return {"albums": page_of(links(request), page, album_simple)}

    @get("/tracks")
    async def tracks(self, request: Request[Any, Any, Any], user: User, services: Services,
                     sort: Literal["title", "artist", "album", "added"] = "title", limit: Limit = 50,
                     offset: Offset = 0) -> dict[str, Any]:
        """Every song of the library, a page at a time."""
        page = await services.library_grid.tracks(user, sort, limit, offset)
        return {"tracks": page_of(links(request), page, track_full)}

    @get("/years")
    async def years(self, services: Services) -> dict[str, Any]:
        """The years the library's albums are from, newest first."""
        return {"years": await services.library_grid.years()}
