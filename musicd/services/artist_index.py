"""The artist index (Subsonic getArtists, getIndexes) kept in memory between scans.

Listing, sorting and hydrating every artist cost about 20 ms of CPU per request at 100k tracks; the list
changes only when a scan changes the catalogue, which bumps the store's catalogue version (in whichever
process scanned). What differs per user, stars and ratings of artists, is read per request (one small
indexed query) and laid over the shared list.
"""

from __future__ import annotations

import msgspec

from musicd.domain.catalog import ArtistView, index_sort_key
from musicd.store.browse import BrowseRepository

__all__ = ["ArtistIndex", "index_order"]


def index_order(a: ArtistView) -> tuple[str, str, str]:
    """Where an artist sorts in an index: sort name with leading articles skipped, folded; then name, id."""
    return index_sort_key(a.name, a.sort_name), a.name, a.id


class ArtistIndex:
    """Every artist (or every album artist) in index order, without play counts, per catalogue version."""

    def __init__(self, browse: BrowseRepository) -> None:
        self.browse = browse
        self._kept: dict[bool, tuple[int, list[ArtistView]]] = {}

    async def artists(self, user_id: str | None, album_artists_only: bool) -> list[ArtistView]:
        """The index as `user_id` sees it (their stars and ratings); a new list each call."""
        # The version is read before the list: a scan finishing in between costs one more reload, never
        # a list older than the version it is kept under.
        version = await self.browse.catalogue_version()
        kept = self._kept.get(album_artists_only)
        if kept is None or kept[0] != version:
            listed = await self.browse.all_artists(None, album_artists_only, plays=False)
            listed.sort(key=index_order)
            kept = self._kept[album_artists_only] = (version, listed)
        states = await self.browse.artist_states(user_id) if user_id is not None else {}
        if not states:
            return list(kept[1])
        return [msgspec.structs.replace(a, state=states[a.id]) if a.id in states else a for a in kept[1]]
