"""/v1/browse: new releases, categories (the library's genres) and the generated mixes as playlists."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.params import Parameter

from musicd.domain.models import User
from musicd.http.v1.shapes import ERRORS, album_simple, category_object, links, mix_playlist, page_of, paging
from musicd.services.registry import Services

__all__ = ["BrowseController"]

Limit = Annotated[int, Parameter(ge=1, le=50, description="1 to 50")]
Offset = Annotated[int, Parameter(ge=0, le=1_000_000)]


class BrowseController(Controller):
    path = "/v1/browse"
    tags = ["browse"]

    @get("/new-releases", responses=ERRORS)
    async def new_releases(self, request: Request[Any, Any, Any], user: User, services: Services,
                           limit: Limit = 20, offset: Offset = 0) -> dict[str, Any]:
        """Albums most recently added to the library."""
        page = await services.catalog.new_releases(limit, offset, user.id)
        return {"albums": page_of(links(request), page, album_simple)}

    @get("/categories", responses=ERRORS)
    async def categories(self, request: Request[Any, Any, Any], services: Services,
                         limit: Limit = 20, offset: Offset = 0) -> dict[str, Any]:
        """The library's genres as categories, each pictured by one of its albums."""
        cats = await services.mixes.categories()
        ln = links(request)
        items = [category_object(ln, c) for c in cats[offset : offset + limit]]
        return {"categories": paging(ln, items, len(cats), limit, offset)}

    @get("/categories/{category_id:str}", responses=ERRORS)
    async def category(self, request: Request[Any, Any, Any], category_id: str, services: Services
                       ) -> dict[str, Any]:
        return category_object(links(request), await services.mixes.category(category_id))

    @get("/categories/{category_id:str}/playlists", responses=ERRORS)
    async def category_playlists(self, request: Request[Any, Any, Any], category_id: str, user: User,
                                 services: Services, limit: Limit = 20, offset: Offset = 0) -> dict[str, Any]:
        """The genre's generated mixes."""
        mixes = await services.mixes.category_mixes(category_id, user.id)
        ln = links(request)
        items = [mix_playlist(ln, m) for m in mixes[offset : offset + limit]]
        return {"playlists": paging(ln, items, len(mixes), limit, offset)}

    @get("/featured-playlists", responses=ERRORS)
    async def featured_playlists(self, request: Request[Any, Any, Any], user: User, services: Services,
                                 limit: Limit = 20, offset: Offset = 0) -> dict[str, Any]:
        """Mixes made from the library: most played, recently added, the biggest genres; refreshed daily."""
        mixes = await services.mixes.featured(user.id)
        ln = links(request)
        items = [mix_playlist(ln, m) for m in mixes[offset : offset + limit]]
        return {"message": "Made from your library", "playlists": paging(ln, items, len(mixes), limit, offset)}
