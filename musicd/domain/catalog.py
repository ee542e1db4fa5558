"""Read models of the catalogue: what both APIs (/v1 and /rest) map to their wire shapes."""

from __future__ import annotations

import functools
import unicodedata
from typing import Generic, TypeVar

import msgspec

from musicd.domain.federation import Origin

__all__ = [
    "IGNORED_ARTICLES",
    "AlbumView",
    "ArtistRef",
    "ArtistView",
    "Category",
    "CursorPage",
    "GenreCount",
    "ItemState",
    "Mix",
    "Page",
    "PlayedTrack",
    "TrackView",
    "fold_name",
    "index_letter",
    "index_sort_key",
]

# Leading words an artist index skips ("The Beatles" files under B): Subsonic's default ignoredArticles.
IGNORED_ARTICLES: tuple[str, ...] = ("The", "El", "La", "Los", "Las", "Le", "Les")


class ArtistRef(msgspec.Struct, frozen=True):
    """An artist as named on a track or album."""

    id: str
    name: str


class ItemState(msgspec.Struct, frozen=True):
    """What the asking user did with an item: saved (starred) when, their rating, their plays."""

    saved_at: str | None = None
    rating: int | None = None
    play_count: int = 0
    last_played_at: str | None = None


_NO_STATE = ItemState()


class TrackView(msgspec.Struct, frozen=True):
    """A track with its album, artists and genres resolved; `state` is the asking user's."""

    id: str
    title: str
    artist_display: str  # the artist string as tagged ("A feat. B")
    artists: list[ArtistRef]  # main then featured, in tag order
    album_id: str
    album_name: str
    album_artist: ArtistRef
    compilation: bool
    track_number: int | None
    track_total: int | None
    disc_number: int | None
    disc_total: int | None
    disc_subtitle: str | None
    year: int | None
    genres: list[str]
    duration: float  # seconds
    format: str  # "mp3", "flac", "ogg", "opus", "m4a", "wav", "aiff"
    size: int
    bitrate: int | None  # kbps
    sample_rate: int | None
    channels: int | None
    bit_depth: int | None
    rel_path: str  # path inside its library folder, for display only: never used to open a file
    cover_id: str | None  # the track's own cover, else its album's
    has_lyrics: bool
    isrc: str | None
    mbid_recording: str | None
    rg_track_gain: float | None
    rg_track_peak: float | None
    rg_album_gain: float | None
    rg_album_peak: float | None
    bpm: int | None
    comment: str | None
    play_count: int  # everyone's plays
    created_at: str
    state: ItemState = _NO_STATE
    origin: Origin | None = None  # set for a track mirrored from a friend's server


class AlbumView(msgspec.Struct, frozen=True):
    """An album with its album artist, the artists of its tracks, genres and aggregates."""

    id: str
    name: str
    artist: ArtistRef  # album artist ("Various Artists" for a compilation)
    artists: list[ArtistRef]  # album artist first, then track artists by frequency
    compilation: bool
    year: int | None
    genres: list[str]
    cover_id: str | None
    track_count: int
    duration: float
    disc_total: int | None
    mbid: str | None
    play_count: int
    created_at: str
    state: ItemState = _NO_STATE
    release_date: str | None = None  # "YYYY", "YYYY-MM" or "YYYY-MM-DD" as tagged
    origin: Origin | None = None  # set for an album mirrored from a friend's server


class ArtistView(msgspec.Struct, frozen=True):
    """An artist with how many albums they are the album artist of and how many tracks they are on."""

    id: str
    name: str
    sort_name: str | None
    album_count: int
    track_count: int
    cover_id: str | None  # their own picture, else the cover of one of their albums
    mbid: str | None
    state: ItemState = _NO_STATE
    genres: list[str] = msgspec.field(default_factory=list)  # filled by lookups by id, empty in full listings
    origin: Origin | None = None  # set for an artist mirrored from a friend's server


class GenreCount(msgspec.Struct, frozen=True):
    name: str
    track_count: int
    album_count: int


T = TypeVar("T")


class Page(msgspec.Struct, Generic[T], frozen=True):
    """One page of a longer list: the items and the size of the whole list."""

    items: list[T]
    total: int
    limit: int
    offset: int


class CursorPage(msgspec.Struct, Generic[T], frozen=True):
    """A page of a list walked with a cursor (Spotify's followed artists, recently played)."""

    items: list[T]
    total: int
    limit: int
    after: str | None = None  # pass back as `after` for the next page; None at the end
    before: str | None = None


class PlayedTrack(msgspec.Struct, frozen=True):
    """One entry of a user's listening history."""

    track: TrackView
    played_at: str  # ISO-8601 UTC
    context_uri: str | None = None


class Category(msgspec.Struct, frozen=True):
    """A browse category: one genre of the library, pictured by one of its albums' covers."""

    id: str  # URL-safe slug of the genre name
    name: str
    cover_id: str | None
    track_count: int
    album_count: int


class Mix(msgspec.Struct, frozen=True):
    """A playlist generated from the library (most played, recently added, a genre's mix).

    `id` is made by `services.mixes.mix_id(kind, key)`; the tracks change on a schedule (`snapshot` names
    the current one).
    """

    id: str
    kind: str  # "top" | "new" | "genre", or made for you: "daily" | "discover" | "repeat" | "rediscover"
    key: str
    name: str
    description: str
    track_ids: list[str]
    cover_id: str | None
    snapshot: str


# Letters Unicode does not decompose into a base letter and a mark, as their languages' readers file them.
_LETTERS = str.maketrans({"æ": "ae", "ø": "o", "œ": "oe", "ð": "d", "þ": "th", "ł": "l", "đ": "d", "ı": "i"})


@functools.lru_cache(maxsize=65536)
def fold_name(name: str | None) -> str | None:
    """A name as people sort it: case and accents folded ("Élan" with "elan", "Æon" with "aeon")."""
    if name is None:
        return None
    s = unicodedata.normalize("NFKD", name.casefold().translate(_LETTERS))
    # Recomposed after the marks go: Hangul syllables stay syllables (NFKD splits them into jamo).
    return unicodedata.normalize("NFC", "".join(c for c in s if not unicodedata.combining(c))).strip()


# Cached like fold_name: an artist index sorts and groups every artist on each request (about 7 ms of CPU
# for 2,500 artists uncached); names repeat from one request to the next.
@functools.lru_cache(maxsize=16384)
def index_sort_key(name: str, sort_name: str | None = None) -> str:
    """The key an artist index sorts by: the sort name if tagged, leading articles skipped, case and accents folded."""
    s = (sort_name or name).strip()
    first, _, rest = s.partition(" ")
    if rest and first.casefold() in _ARTICLES:
        s = rest
    s = unicodedata.normalize("NFKD", s.casefold())
    return "".join(c for c in s if not unicodedata.combining(c)).strip()


def index_letter(name: str, sort_name: str | None = None) -> str:
    """The index group of an artist: an upper-case letter, or "#" for anything that does not start with one."""
    key = index_sort_key(name, sort_name)
    c = key[:1].upper()
    return c if c.isalpha() else "#"


_ARTICLES = frozenset(a.casefold() for a in IGNORED_ARTICLES)
