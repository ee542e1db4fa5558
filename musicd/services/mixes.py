"""Playlists generated from the library: most played, recently added, one mix per genre; and browse categories.

Public methods:
- categories() -> list[Category]; category(category_id) -> Category (NotFoundError "category_not_found")
- featured(user_id) -> list[Mix]: the user's and everyone's most played, recently added, the biggest genres' mixes
- category_mixes(category_id, user_id) -> list[Mix]
- mix(mix_id, user_id) -> Mix, for ids made by mix_id(kind, key) (NotFoundError "playlist_not_found");
  is_mix_id(id) tells such ids apart from real playlists
Mixes change once a day (the `snapshot` is the UTC date): the genre shuffles take a new seed each day.
The made-for-you mixes (kinds in PERSONAL_KINDS: daily mixes, Discover Weekly, On Repeat, Rediscover) come
from a provider attached with attach_personal (the recommendation service) and lead `featured`.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from typing import Protocol

from musicd.domain.catalog import Category, Mix
from musicd.domain.tags import fold_key
from musicd.errors import NotFoundError
from musicd.store.browse import BrowseRepository

__all__ = ["PERSONAL_KINDS", "MixesService", "PersonalMixes", "category_slug", "is_mix_id", "mix_id", "parse_mix_id"]

_LEGACY_PREFIX = "mix-"
_PREFIX = "mix"
MIX_SIZE = 50
FEATURED_GENRES = 6
PERSONAL_KINDS = ("daily", "discover", "repeat", "rediscover")


class PersonalMixes(Protocol):
    """Where the made-for-you mixes come from (services.recommend.RecommendService)."""

    async def personal_mixes(self, user_id: str) -> list[Mix]: ...

    async def personal_mix(self, kind: str, key: str, user_id: str) -> Mix | None: ...


def mix_id(kind: str, key: str) -> str:
    """The id of a generated mix: "mix" + the hex of "<kind>-<key>".

    Spotify client libraries accept only base62 ids (spotipy refuses "mix-top-me"), so the key is
    hex-encoded; the odd length (3 + an even number) never equals the 22 characters of a stored
    playlist's id, so the two cannot collide."""
    return _PREFIX + f"{kind}-{key}".encode().hex()


def parse_mix_id(playlist_id: str) -> tuple[str, str] | None:
    """(kind, key) of a mix id (also the older "mix-<kind>-<key>" form), or None for any other id."""
    if playlist_id.startswith(_LEGACY_PREFIX):
        body = playlist_id[len(_LEGACY_PREFIX):]
    elif playlist_id.startswith(_PREFIX) and len(playlist_id) % 2 == 1 and len(playlist_id) != 22:
        try:
            body = bytes.fromhex(playlist_id[len(_PREFIX):]).decode()
        except ValueError:
            return None
    else:
        return None
    kind, sep, key = body.partition("-")
    return (kind, key) if sep and kind and key else None


def is_mix_id(playlist_id: str) -> bool:
    """True for the id of a generated mix (served by MixesService, not the playlists store)."""
    return parse_mix_id(playlist_id) is not None


def category_slug(genre: str) -> str:
    """A URL-safe id for a genre: its folded ASCII words joined by "-", else a short hash of the name."""
    slug = "-".join(re.findall(r"[a-z0-9]+", fold_key(genre)))
    return slug or "g" + hashlib.blake2b(genre.casefold().encode(), digest_size=6).hexdigest()


def _today() -> str:
    return datetime.now(UTC).date().isoformat()


def _seed(day: str, key: str) -> int:
    h = int.from_bytes(hashlib.blake2b(f"{day}\x1f{key}".encode(), digest_size=8).digest(), "big")
    return 2 + h % 1_000_001


class MixesService:
    """Builds mixes on request from cheap queries; nothing is stored."""

    def __init__(self, browse: BrowseRepository) -> None:
        self.browse = browse
        self.personal: PersonalMixes | None = None

    def attach_personal(self, provider: PersonalMixes) -> None:
        """Serve the made-for-you mixes from `provider`."""
        self.personal = provider

    async def categories(self) -> list[Category]:
        """Every genre as a category, by name; slugs that collide get a hash suffix so ids stay unique."""
        out: list[Category] = []
        seen: set[str] = set()
        for name, tracks, albums, cover in await self.browse.genre_categories():
            slug = category_slug(name)
            if slug in seen:
                slug += "-" + hashlib.blake2b(name.encode(), digest_size=3).hexdigest()
            seen.add(slug)
            out.append(Category(id=slug, name=name, cover_id=cover, track_count=tracks, album_count=albums))
        return out

    async def category(self, category_id: str) -> Category:
        for c in await self.categories():
            if c.id == category_id:
                return c
        raise NotFoundError(f"no category with id {category_id}", code="category_not_found")

    async def featured(self, user_id: str | None = None) -> list[Mix]:
        """The mixes worth showing on a home page, the ones with no tracks left out."""
        ids = []
        if user_id is not None:
            ids.append(mix_id("top", "me"))
        ids += [mix_id("top", "all"), mix_id("new", "all")]
        cats = sorted(await self.categories(), key=lambda c: (-c.track_count, c.name))
        ids += [mix_id("genre", c.id) for c in cats[:FEATURED_GENRES]]
        mixes = [await self._build(i, user_id, cats) for i in ids]
        if user_id is not None and self.personal is not None:
            mixes = [*await self.personal.personal_mixes(user_id), *mixes]
        return [m for m in mixes if m is not None and m.track_ids]

    async def category_mixes(self, category_id: str, user_id: str | None = None) -> list[Mix]:
        cat = await self.category(category_id)
        mix = await self._build(mix_id("genre", cat.id), user_id, [cat])
        return [mix] if mix is not None else []

    async def mix(self, mix_id: str, user_id: str | None = None) -> Mix:
        """One mix by id, as it is today."""
        mix = await self._build(mix_id, user_id, None)
        if mix is None:
            raise NotFoundError(f"no playlist with id {mix_id}", code="playlist_not_found")
        return mix

    async def _build(self, requested: str, user_id: str | None, cats: list[Category] | None) -> Mix | None:
        parsed = parse_mix_id(requested)
        if parsed is None:
            return None
        kind, key = parsed
        day = _today()
        if kind in PERSONAL_KINDS:
            if user_id is None or self.personal is None:
                return None
            return await self.personal.personal_mix(kind, key, user_id)
        if kind == "top" and key in ("me", "all"):
            if key == "me" and user_id is None:
                return None
            ids = await self.browse.most_played_track_ids(user_id if key == "me" else None, MIX_SIZE)
            name, desc = (("Your most played", "The tracks you played most") if key == "me" else
                          ("Most played", "What the household plays most"))
        elif kind == "new" and key == "all":
            ids = await self.browse.recently_added_track_ids(MIX_SIZE)
            name, desc = "Recently added", "The newest tracks in the library"
        elif kind == "genre":
            cat = next((c for c in cats or await self.categories() if c.id == key), None)
            if cat is None:
                return None
            ids = await self.browse.genre_mix_track_ids(cat.name, MIX_SIZE, _seed(day, cat.id))
            name, desc = f"{cat.name} mix", f"A daily shuffle of {cat.name} from the library"
        else:
            return None
        cover = None
        if ids:
            first = (await self.browse.tracks(ids[:1], None))[0]
            cover = first.cover_id if first else None
        return Mix(id=mix_id(kind, key), kind=kind, key=key, name=name, description=desc, track_ids=ids, cover_id=cover,
                   snapshot=day)
