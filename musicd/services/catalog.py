"""The catalogue read service behind both APIs (/v1 and /rest): read models with the asking user's state.

Public methods (every `user_id` fills ItemState: saved_at, rating, the user's play_count, last_played_at):
- kind_of(id) -> "track" | "album" | "artist"; item(id, user_id) -> the TrackView, AlbumView or ArtistView
- track(id, user_id) -> TrackView; tracks(ids, user_id) -> list[TrackView | None] in order
- track_file(id) -> TrackFile(path, format, size, mtime_ns): for streaming, never shown to clients
- album(id, user_id) -> AlbumView; albums(ids, user_id); album_tracks(id, user_id) -> list[TrackView]
- all_tracks(user_id, limit, offset) -> Page[TrackView]: the whole library, album by album;
  album_track_page(id, user_id, limit, offset) -> Page[TrackView]; album_with_tracks(id, user_id, limit)
- artist(id, user_id) -> ArtistView; artists(ids, user_id);
  artist_albums(id, user_id, limit, offset, include_groups=("album", "appears_on")) -> Page[AlbumView];
  artist_top_tracks(id, user_id, limit=10); related_artists(id, limit=20, user_id=None)
- all_artists(user_id, album_artists_only=False) -> list[ArtistView] sorted by index_sort_key
  (group with musicd.domain.catalog.index_letter)
- album_list(kind, user_id, size, offset, from_year, to_year, genre) -> Page[AlbumView]; kinds in ALBUM_LIST_KINDS
- random_tracks(size, user_id, genre, from_year, to_year) -> list[TrackView];
  tracks_by_genre(genre, size, offset, user_id) -> Page[TrackView]
- genres() -> list[GenreCount]; genre_cover(genre) -> cover id | None
- new_releases(limit, offset, user_id=None) -> Page[AlbumView]; counts() -> dict
- similar_tracks(id of a track, album or artist, size, user_id) -> list[TrackView]
- cover_path(cover_id) -> CoverFile(path, mime)
Unknown ids raise NotFoundError with code track_not_found / album_not_found / artist_not_found / cover_not_found.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from musicd.domain.catalog import AlbumView, ArtistView, GenreCount, Page, TrackView
from musicd.errors import NotFoundError, ValidationError
from musicd.services.artist_index import ArtistIndex, index_order
from musicd.store.browse import BrowseRepository

__all__ = ["ALBUM_LIST_KINDS", "ARTIST_ALBUM_GROUPS", "CatalogService", "CoverFile", "TrackFile", "item_not_found"]

ALBUM_LIST_KINDS = frozenset({
    "random", "newest", "highest", "frequent", "recent", "alphabeticalByName", "alphabeticalByArtist",
    "starred", "byYear", "byGenre",
})
ARTIST_ALBUM_GROUPS = ("album", "appears_on")
_MAX_PAGE = 500

V = TypeVar("V")


class TrackFile(NamedTuple):
    """Where a track's file is: for the streaming code only."""

    path: Path
    format: str
    size: int
    mtime_ns: int


class CoverFile(NamedTuple):
    path: Path
    mime: str


def item_not_found(item_id: str) -> NotFoundError:
    """The error for an id that names no track, album or artist."""
    return NotFoundError(f"no song, album or artist with id {item_id}", code="item_not_found")


def _found(items: Sequence[V | None], item_id: str, what: str) -> V:
    if not items or items[0] is None:
        raise NotFoundError(f"no {what} with id {item_id}", code=f"{what}_not_found")
    return items[0]


def _present(items: Sequence[V | None]) -> list[V]:
    return [i for i in items if i is not None]


def _check_page(limit: int, offset: int) -> None:
    if limit < 0 or offset < 0:
        raise ValidationError("limit and offset must not be negative", code="bad_paging")


class CatalogService:
    """Reads of tracks, albums, artists, genres, lyrics and covers; no writes."""

    def __init__(self, browse: BrowseRepository, cover_file: Callable[[str, str], Path]) -> None:
        """`cover_file(cover_id, mime)` is where the image with that id is stored (the artwork store's rule)."""
        self.browse = browse
        self._cover_file = cover_file
        self._index = ArtistIndex(browse)

    # ---- any item: what a folder-style id names ----

    async def kind_of(self, item_id: str) -> str:
        """"track", "album" or "artist": what an id names (Subsonic's folder-based calls mix them)."""
        kind = await self.browse.kind_of(item_id)
        if kind is None:
            raise item_not_found(item_id)
        return kind

    async def item(self, item_id: str, user_id: str | None = None) -> TrackView | AlbumView | ArtistView:
        """The track, album or artist an id names; NotFoundError "item_not_found" when none."""
        kind = await self.kind_of(item_id)
        return await {"track": self.track, "album": self.album, "artist": self.artist}[kind](item_id, user_id)

    # ---- tracks ----

    async def track(self, track_id: str, user_id: str | None = None) -> TrackView:
        return _found(await self.browse.tracks([track_id], user_id), track_id, "track")

    async def tracks(self, ids: Sequence[str], user_id: str | None = None) -> list[TrackView | None]:
        """Tracks in the order of `ids`; None where an id is unknown."""
        return await self.browse.tracks(ids, user_id)

    async def track_file(self, track_id: str) -> TrackFile:
        row = await self.browse.track_file(track_id)
        if row is None:
            raise NotFoundError(f"no track with id {track_id}", code="track_not_found")
        return TrackFile(Path(row[0]), row[1], row[2], row[3])

    # ---- albums ----

    async def album(self, album_id: str, user_id: str | None = None) -> AlbumView:
        return _found(await self.browse.albums([album_id], user_id), album_id, "album")

    async def albums(self, ids: Sequence[str], user_id: str | None = None, *, brief: bool = False
                     ) -> list[AlbumView | None]:
        """Albums in the order of `ids`; None where an id is unknown. `brief`: as search results show them,
        without the other artists of their tracks and their plays by everyone (store/browse.py)."""
        return await self.browse.albums(ids, user_id, brief=brief)

    async def album_tracks(self, album_id: str, user_id: str | None = None) -> list[TrackView]:
        """The album's tracks ordered by disc and track number; NotFoundError for an unknown album."""
        ids = await self.browse.album_track_ids(album_id)
        if not ids:
            raise NotFoundError(f"no album with id {album_id}", code="album_not_found")
        return _present(await self.browse.tracks(ids, user_id))

    async def all_tracks(self, user_id: str | None = None, limit: int = 50, offset: int = 0) -> Page[TrackView]:
        """A page of every track, album by album (Subsonic apps sync the whole library this way)."""
        _check_page(limit, offset)
        ids, total = await self.browse.all_track_page(limit, offset)
        return Page(items=_present(await self.browse.tracks(ids, user_id)), total=total, limit=limit, offset=offset)

    async def album_track_page(
        self, album_id: str, user_id: str | None = None, limit: int = 50, offset: int = 0
    ) -> Page[TrackView]:
        """One page of the album's tracks in play order (the /v1 album tracks endpoint)."""
        _check_page(limit, offset)
        ids = await self.browse.album_track_ids(album_id)
        if not ids:
            raise NotFoundError(f"no album with id {album_id}", code="album_not_found")
        items = _present(await self.browse.tracks(ids[offset : offset + limit], user_id))
        return Page(items=items, total=len(ids), limit=limit, offset=offset)

    async def album_with_tracks(
        self, album_id: str, user_id: str | None = None, limit: int = 50
    ) -> tuple[AlbumView, Page[TrackView]]:
        """An album and the first page of its tracks (a /v1 full album object)."""
        return await self.album(album_id, user_id), await self.album_track_page(album_id, user_id, limit, 0)

    async def albums_with_tracks(
        self, ids: Sequence[str], user_id: str | None = None, limit: int = 50
    ) -> list[tuple[AlbumView, Page[TrackView]] | None]:
        """Several albums, each with the first page of its tracks (Spotify's Get Several Albums); None if unknown."""
        albums = await self.browse.albums(ids, user_id)
        track_ids = await self.browse.albums_track_ids([a.id for a in albums if a is not None])
        wanted = [t for a in albums if a is not None for t in track_ids.get(a.id, [])[:limit]]
        by_id = {t.id: t for t in _present(await self.browse.tracks(wanted, user_id))}
        out: list[tuple[AlbumView, Page[TrackView]] | None] = []
        for a in albums:
            if a is None:
                out.append(None)
                continue
            all_ids = track_ids.get(a.id, [])
            items = [by_id[t] for t in all_ids[:limit] if t in by_id]
            out.append((a, Page(items=items, total=len(all_ids), limit=limit, offset=0)))
        return out

    async def album_list(
        self, kind: str, user_id: str | None = None, size: int = 10, offset: int = 0,
        from_year: int | None = None, to_year: int | None = None, genre: str | None = None,
    ) -> Page[AlbumView]:
        """A Subsonic album list; byYear reads from/to (reversed when from > to), byGenre reads genre."""
        if kind not in ALBUM_LIST_KINDS:
            raise ValidationError(f"unknown album list type {kind!r}", code="bad_list_type")
        if kind == "byYear" and (from_year is None or to_year is None):
            raise ValidationError("byYear needs fromYear and toYear", code="missing_parameter")
        if kind == "byGenre" and not genre:
            raise ValidationError("byGenre needs genre", code="missing_parameter")
        _check_page(size, offset)
        size = min(size, _MAX_PAGE)
        ids, total = await self.browse.album_page(kind, user_id, size, offset, from_year, to_year, genre)
        return Page(items=_present(await self.browse.albums(ids, user_id)), total=total, limit=size, offset=offset)

    async def new_releases(self, limit: int = 20, offset: int = 0, user_id: str | None = None) -> Page[AlbumView]:
        """Albums most recently added to the library."""
        _check_page(limit, offset)
        ids, total = await self.browse.new_release_page(limit, offset)
        return Page(items=_present(await self.browse.albums(ids, user_id)), total=total, limit=limit, offset=offset)

    # ---- artists ----

    async def artist(self, artist_id: str, user_id: str | None = None) -> ArtistView:
        return _found(await self.browse.artists([artist_id], user_id), artist_id, "artist")

    async def artists(self, ids: Sequence[str], user_id: str | None = None, *, brief: bool = False
                      ) -> list[ArtistView | None]:
        """Artists in the order of `ids`; None where an id is unknown. `brief`: without their genres and the
        user's plays of them (what Subsonic's artist shapes leave out)."""
        return await self.browse.artists(ids, user_id, brief=brief)

    async def all_artists(self, user_id: str | None = None, album_artists_only: bool = False,
                          plays: bool = True) -> list[ArtistView]:
        """Every artist sorted for an index: sort name, leading articles ("The") skipped, case and accents folded.
        `plays=False` leaves play counts at 0 for lists that do not show them (the Subsonic index)."""
        if not plays:
            return await self._index.artists(user_id, album_artists_only)
        artists = await self.browse.all_artists(user_id, album_artists_only, plays)
        artists.sort(key=index_order)
        return artists

    async def artist_albums(
        self, artist_id: str, user_id: str | None = None, limit: int = 20, offset: int = 0,
        include_groups: Sequence[str] = ARTIST_ALBUM_GROUPS,
    ) -> Page[AlbumView]:
        """Albums they are the album artist of ("album"), then those they appear on ("appears_on").

        An item's group is "album" when `item.artist.id == artist_id`, else "appears_on".
        """
        _check_page(limit, offset)
        unknown = set(include_groups) - set(ARTIST_ALBUM_GROUPS)
        if unknown:
            raise ValidationError(f"unknown album groups: {', '.join(sorted(unknown))}", code="bad_include_groups")
        await self._artist_exists(artist_id)
        ids, total = await self.browse.artist_album_page(artist_id, include_groups, limit, offset)
        return Page(items=_present(await self.browse.albums(ids, user_id)), total=total, limit=limit, offset=offset)

    async def artist_top_tracks(self, artist_id: str, user_id: str | None = None, limit: int = 10) -> list[TrackView]:
        """Their most played tracks, newest albums first among equals."""
        await self._artist_exists(artist_id)
        ids = await self.browse.artist_top_track_ids(artist_id, max(0, limit))
        return _present(await self.browse.tracks(ids, user_id))

    async def related_artists(self, artist_id: str, limit: int = 20, user_id: str | None = None) -> list[ArtistView]:
        """Artists credited with them on tracks, then artists sharing their genres."""
        await self._artist_exists(artist_id)
        ids = await self.browse.related_artist_ids(artist_id, max(0, limit))
        return _present(await self.browse.artists(ids, user_id))

    async def _artist_exists(self, artist_id: str) -> None:
        if not await self.browse.existing("artist", [artist_id]):
            raise NotFoundError(f"no artist with id {artist_id}", code="artist_not_found")

    # ---- genres and mixes ----

    async def genres(self) -> list[GenreCount]:
        """Every genre with its track and album counts, by name."""
        return await self.browse.genres()

    async def genre_cover(self, genre: str) -> str | None:
        """A cover id to picture a genre with: one of its albums' covers."""
        return await self.browse.genre_cover(genre)

    async def random_tracks(
        self, size: int = 10, user_id: str | None = None, genre: str | None = None,
        from_year: int | None = None, to_year: int | None = None,
    ) -> list[TrackView]:
        ids = await self.browse.random_track_ids(max(0, min(size, _MAX_PAGE)), genre, from_year, to_year)
        return _present(await self.browse.tracks(ids, user_id))

    async def tracks_by_genre(
        self, genre: str, size: int = 10, offset: int = 0, user_id: str | None = None
    ) -> Page[TrackView]:
        _check_page(size, offset)
        size = min(size, _MAX_PAGE)
        ids, total = await self.browse.genre_track_page(genre, size, offset)
        return Page(items=_present(await self.browse.tracks(ids, user_id)), total=total, limit=size, offset=offset)

    async def similar_tracks(self, item_id: str, size: int = 50, user_id: str | None = None) -> list[TrackView]:
        """Tracks sharing artists or genres with a track, an album or an artist, never the item's own tracks."""
        kind = await self.browse.kind_of(item_id)
        if kind is None:
            raise NotFoundError(f"no track, album or artist with id {item_id}", code="not_found")
        ids = await self.browse.similar_track_ids(kind, item_id, max(0, min(size, _MAX_PAGE)))
        return _present(await self.browse.tracks(ids, user_id))

    async def counts(self) -> dict[str, Any]:
        """Tracks, albums, artists, genres, total duration (s) and size (bytes) of the library."""
        return await self.browse.counts()

    # ---- covers ----

    async def cover_path(self, cover_id: str) -> CoverFile:
        """The stored image of a cover id; NotFoundError when unknown or its file is gone."""
        mime = await self.browse.cover(cover_id)
        if mime is not None:
            path = self._cover_file(cover_id, mime)
            if path.is_file():
                return CoverFile(path, mime)
        raise NotFoundError(f"no cover with id {cover_id}", code="cover_not_found")

