"""The catalogue both APIs read, routed by origin: local ids go to the local catalogue, F-ids (items mirrored
from a friend's server, musicd.domain.ids) to the mirror. Every handler that reads a track, an album or an
artist by id (/v1 and /rest alike) gets friends' items without knowing about federation.

Everything here reads the local database (the mirror): no request here ever waits for a peer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Any, TypeVar

from musicd.domain.catalog import AlbumView, ArtistView, Page, TrackView
from musicd.domain.federation import Sources
from musicd.domain.ids import is_federated
from musicd.domain.models import Lyrics
from musicd.errors import NotFoundError, ValidationError
from musicd.services.artist_index import index_order
from musicd.services.catalog import ARTIST_ALBUM_GROUPS, CatalogService, TrackFile
from musicd.services.fed_views import FedViews

__all__ = ["RoutedCatalog"]

# Subsonic album list kinds over a peer's folder: the mirror knows no plays, ratings or stars of its items.
_PEER_ORDER = {"alphabeticalByName": "name", "alphabeticalByArtist": "artist", "newest": "newest",
               "recent": "newest", "frequent": "newest", "highest": "newest", "random": "random", "byYear": "year",
               "byGenre": "name", "starred": None}

V = TypeVar("V")


def _missing(kind: str, item_id: str) -> NotFoundError:
    return NotFoundError(f"no {kind} with id {item_id}", code=f"{kind}_not_found")


def _split(ids: Sequence[str]) -> tuple[list[str], list[str]]:
    local = [i for i in ids if not is_federated(i)]
    fed = [i for i in ids if is_federated(i)]
    return local, fed


def _merge(ids: Sequence[str], local: Sequence[str], local_found: Sequence[V | None], fed: Sequence[str],
           fed_found: Sequence[V | None]) -> list[V | None]:
    by_id = dict(zip(local, local_found, strict=True)) | dict(zip(fed, fed_found, strict=True))
    return [by_id.get(i) for i in ids]


Lookup = Callable[[Sequence[str], str | None], Awaitable[Sequence[V | None]]]


async def _routed(ids: Sequence[str], user_id: str | None, local_fn: Lookup[V], fed_fn: Lookup[V]) -> list[V | None]:
    """Look ids up where each lives (local ids locally, F-ids in the mirror), in the order of `ids`."""
    local, fed = _split(ids)
    if not fed:
        return list(await local_fn(ids, user_id))
    return _merge(ids, local, await local_fn(local, user_id) if local else [], fed, await fed_fn(fed, user_id))


async def _none(ids: Sequence[str], user_id: str | None) -> list[Any]:
    return [None] * len(ids)


def _first(found: Sequence[V | None], kind: str, item_id: str) -> V:
    if not found or found[0] is None:
        raise _missing(kind, item_id)
    return found[0]


class RoutedCatalog(CatalogService):
    """CatalogService for local items, the mirror for friends' items (attach it with `attach_federation`)."""

    fed: FedViews | None = None

    def attach_federation(self, views: FedViews) -> None:
        self.fed = views

    def _views(self) -> FedViews:
        if self.fed is None:
            raise NotFoundError("federation is not set up", code="not_found")
        return self.fed

    # ---- tracks ----

    async def track(self, track_id: str, user_id: str | None = None) -> TrackView:
        if not is_federated(track_id):
            return await super().track(track_id, user_id)
        return _first(await self._views().tracks([track_id], user_id), "track", track_id)

    async def tracks(self, ids: Sequence[str], user_id: str | None = None) -> list[TrackView | None]:
        return await _routed(ids, user_id, super().tracks, self._views().tracks if self.fed else _none)

    async def track_file(self, track_id: str) -> TrackFile:
        if is_federated(track_id):
            raise NotFoundError("a friend's track has no file here; stream it instead", code="remote_track")
        return await super().track_file(track_id)

    async def lyrics(self, track_id: str) -> Lyrics | None:
        if is_federated(track_id):
            await self.track(track_id)
            return None
        return await super().lyrics(track_id)

    # ---- albums ----

    async def album(self, album_id: str, user_id: str | None = None) -> AlbumView:
        if not is_federated(album_id):
            return await super().album(album_id, user_id)
        return _first(await self._views().albums([album_id], user_id), "album", album_id)

    async def albums(self, ids: Sequence[str], user_id: str | None = None, *, brief: bool = False
                     ) -> list[AlbumView | None]:
        return await _routed(ids, user_id, partial(super().albums, brief=brief),
                             self._views().albums if self.fed else _none)

    async def album_tracks(self, album_id: str, user_id: str | None = None) -> list[TrackView]:
        if not is_federated(album_id):
            return await super().album_tracks(album_id, user_id)
        tracks = await self._views().album_tracks(album_id, user_id)
        if not tracks:
            raise _missing("album", album_id)
        return tracks

    async def album_track_page(self, album_id: str, user_id: str | None = None, limit: int = 50,
                               offset: int = 0) -> Page[TrackView]:
        if not is_federated(album_id):
            return await super().album_track_page(album_id, user_id, limit, offset)
        if limit < 0 or offset < 0:
            raise ValidationError("limit and offset must not be negative", code="bad_paging")
        tracks = await self.album_tracks(album_id, user_id)
        return Page(items=tracks[offset:offset + limit], total=len(tracks), limit=limit, offset=offset)

    async def albums_with_tracks(self, ids: Sequence[str], user_id: str | None = None, limit: int = 50
                                 ) -> list[tuple[AlbumView, Page[TrackView]] | None]:
        local, fed = _split(ids)
        if not fed:
            return await super().albums_with_tracks(ids, user_id, limit)
        fed_found: list[tuple[AlbumView, Page[TrackView]] | None] = []
        for album_id in fed:
            try:
                fed_found.append((await self.album(album_id, user_id),
                                  await self.album_track_page(album_id, user_id, limit, 0)))
            except NotFoundError:
                fed_found.append(None)
        local_found = await super().albums_with_tracks(local, user_id, limit) if local else []
        return _merge(ids, local, local_found, fed, fed_found)

    # ---- artists ----

    async def artist(self, artist_id: str, user_id: str | None = None) -> ArtistView:
        if not is_federated(artist_id):
            return await super().artist(artist_id, user_id)
        return _first(await self._views().artists([artist_id], user_id), "artist", artist_id)

    async def artists(self, ids: Sequence[str], user_id: str | None = None, *, brief: bool = False
                      ) -> list[ArtistView | None]:
        return await _routed(ids, user_id, partial(super().artists, brief=brief),
                             self._views().artists if self.fed else _none)

    async def artist_albums(self, artist_id: str, user_id: str | None = None, limit: int = 20, offset: int = 0,
                            include_groups: Sequence[str] = ARTIST_ALBUM_GROUPS) -> Page[AlbumView]:
        if not is_federated(artist_id):
            return await super().artist_albums(artist_id, user_id, limit, offset, include_groups)
        if limit < 0 or offset < 0:
            raise ValidationError("limit and offset must not be negative", code="bad_paging")
        await self.artist(artist_id, user_id)
        views = self._views()
        albums = [a for a in await views.albums(await views.artist_album_ids(artist_id), user_id) if a is not None]
        albums = [a for a in albums if ("album" if a.artist.id == artist_id else "appears_on") in include_groups]
        return Page(items=albums[offset:offset + limit], total=len(albums), limit=limit, offset=offset)

    async def artist_top_tracks(self, artist_id: str, user_id: str | None = None, limit: int = 10) -> list[TrackView]:
        if not is_federated(artist_id):
            return await super().artist_top_tracks(artist_id, user_id, limit)
        page = await self.artist_albums(artist_id, user_id, limit=50)
        out: list[TrackView] = []
        for album in page.items:
            out += [t for t in await self.album_tracks(album.id, user_id) if any(a.id == artist_id for a in t.artists)
                    or t.album_artist.id == artist_id]
            if len(out) >= limit:
                break
        return out[:max(0, limit)]

    async def related_artists(self, artist_id: str, limit: int = 20, user_id: str | None = None) -> list[ArtistView]:
        if not is_federated(artist_id):
            return await super().related_artists(artist_id, limit, user_id)
        await self.artist(artist_id, user_id)
        return []

    async def similar_tracks(self, item_id: str, size: int = 50, user_id: str | None = None) -> list[TrackView]:
        if not is_federated(item_id):
            return await super().similar_tracks(item_id, size, user_id)
        return []

    # ---- a peer's library as a music folder (Subsonic musicFolderId) ----

    async def all_artists(self, user_id: str | None = None, album_artists_only: bool = False,
                          plays: bool = True, sources: Sources | None = None) -> list[ArtistView]:
        if sources is None or sources.local or sources.peer_id is None:
            return await super().all_artists(user_id, album_artists_only, plays)
        views = self._views()
        ids = await views.mirror.peer_artist_ids(sources.peer_id)
        artists = [a for a in await views.artists(ids, user_id) if a is not None]
        artists.sort(key=index_order)
        return artists

    async def album_list(self, kind: str, user_id: str | None = None, size: int = 10, offset: int = 0,
                         from_year: int | None = None, to_year: int | None = None, genre: str | None = None,
                         sources: Sources | None = None) -> Page[AlbumView]:
        if sources is None or sources.local or sources.peer_id is None:
            return await super().album_list(kind, user_id, size, offset, from_year, to_year, genre)
        # The same checks as the local list, on an empty page.
        await super().album_list(kind, user_id, 0, 0, from_year, to_year, genre)
        order = _PEER_ORDER.get(kind)
        if order is None:
            return Page(items=[], total=0, limit=size, offset=offset)
        years = (from_year, to_year) if kind == "byYear" and from_year is not None and to_year is not None else None
        views = self._views()
        ids, total = await views.mirror.peer_album_page(sources.peer_id, order, min(size, 500), offset,
                                                        genre if kind == "byGenre" else None, years)
        if kind == "byYear" and years and from_year is not None and to_year is not None and from_year > to_year:
            ids.reverse()
        albums = [a for a in await views.albums(ids, user_id) if a is not None]
        return Page(items=albums, total=total, limit=size, offset=offset)
