"""The web player's library grids: every album sorted by name, artist, year or when it was added, filtered
by genre and years; every song of the library, a page at a time (a household's library is everything on
disk, not only what someone saved).

Public methods: albums(user, sort, genre, year_from, year_to, limit, offset) -> Page[AlbumView];
tracks(user, sort, limit, offset) -> Page[TrackView]; years() -> [int].
"""

from __future__ import annotations

from musicd.domain.catalog import AlbumView, Page, TrackView
from musicd.domain.models import User
from musicd.errors import ValidationError
from musicd.services.playlist_core import check_page
from musicd.store.browse import BrowseRepository
from musicd.store.library_grid import ALBUM_SORTS, TRACK_SORTS, LibraryGridRepository

__all__ = ["ALBUM_SORTS", "MAX_GRID_PAGE", "TRACK_SORTS", "LibraryGrid"]

MAX_GRID_PAGE = 100


class LibraryGrid:
    def __init__(self, repo: LibraryGridRepository, browse: BrowseRepository) -> None:
        self.repo = repo
        self.browse = browse

    async def albums(self, user: User, sort: str = "name", genre: str | None = None, year_from: int | None = None,
                     year_to: int | None = None, limit: int = 50, offset: int = 0) -> Page[AlbumView]:
        """A page of the library's albums in an order, of one genre and a span of years when given."""
        if sort not in ALBUM_SORTS:
            raise ValidationError(f"sort must be one of {', '.join(ALBUM_SORTS)}", code="bad_sort")
        if year_from is not None and year_to is not None and year_from > year_to:
            year_from, year_to = year_to, year_from
        check_page(limit, offset, MAX_GRID_PAGE)
        ids, total = await self.repo.album_page(sort, genre or None, year_from, year_to, limit, offset)
        found = await self.browse.albums(ids, user.id)
        return Page(items=[a for a in found if a is not None], total=total, limit=limit, offset=offset)

    async def tracks(self, user: User, sort: str = "title", limit: int = 50, offset: int = 0) -> Page[TrackView]:
        """A page of every song of the library in an order (title, artist, album, recently added)."""
        if sort not in TRACK_SORTS:
            raise ValidationError(f"sort must be one of {', '.join(TRACK_SORTS)}", code="bad_sort")
        check_page(limit, offset, MAX_GRID_PAGE)
        ids, total = await self.repo.track_page(sort, limit, offset)
        found = await self.browse.tracks(ids, user.id)
        return Page(items=[t for t in found if t is not None], total=total, limit=limit, offset=offset)

    async def years(self) -> list[int]:
        return await self.repo.years()
