"""The search use-case: keeps the Tantivy index in step with the catalogue and answers queries."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from musicd.domain.events import LibraryChanged, TracksStored
from musicd.errors import ValidationError
from musicd.logs import get_logger
from musicd.search.catalog_index import CatalogIndex
from musicd.search.index import KindHits, SearchDoc, normalise_words
from musicd.store.catalog import CatalogRepository

if TYPE_CHECKING:
    from musicd.domain.catalog import AlbumView, ArtistView, TrackView
    from musicd.services.catalog import CatalogService

__all__ = ["KINDS", "SearchResults", "SearchService", "Suggestion", "clean_query", "is_blank", "paged_find"]

KINDS = ("track", "album", "artist", "playlist")
MAX_QUERY = 500  # characters; a longer query is cut, never an error (but /v1's `q` is refused beyond it)
MAX_LIMIT = 500

# Resolves playlist ids to the playlists `user_id` may see (None for one it may not).
PlaylistLookup = Callable[[Sequence[str], str | None], Awaitable[Sequence[Any | None]]]
# Another kind of item in the index (podcast shows and episodes): its rows for a rebuild, and its resolver.
RowSource = Callable[[], Awaitable[list[dict[str, Any]]]]


@dataclass
class KindPage:
    """One kind's results in rank order, with the total number of matches."""

    items: list[Any] = field(default_factory=list)
    total: int = 0
    scores: list[float] = field(default_factory=list)  # relevance of each item, comparable across kinds


@dataclass(frozen=True)
class Suggestion:
    kind: str
    item: Any


# In a suggestion list, when several kinds match by name, an artist is the likeliest intent.
_SUGGEST_ORDER = {"artist": 0, "album": 1, "playlist": 2, "track": 3}


def clean_query(q: str | None) -> str:
    """What a listener typed, trimmed; control and invisible characters are never part of what they meant:
    they become spaces, never an error."""
    return "".join(ch if ch.isprintable() else " " for ch in (q or "")).strip()


def is_blank(q: str | None) -> bool:
    """A query that asks for everything: empty, "*" or a quoted empty string (Subsonic clients that sync
    the whole library send those)."""
    return clean_query(q).strip('"').strip() in ("", "*")


async def paged_find(find: Callable[..., Awaitable[SearchResults]], query: str,
                     wanted: Mapping[str, tuple[int, int]], user_id: str | None) -> dict[str, list[Any]]:
    """Subsonic's search pages through `find` (artists brief: its shapes show neither their genres nor plays):
    one index query per distinct (count, offset), as the usual call asks the same page of every kind."""
    groups: dict[tuple[int, int], list[str]] = {}
    for kind, page in wanted.items():
        groups.setdefault(page, []).append(kind)
    found: dict[str, list[Any]] = {}
    for (count, offset), kinds in groups.items():
        res = await find(query, kinds, count, offset, user_id)
        for kind in kinds:
            found[kind] = res[kind].items
    return found


def _name_matches(query_words: list[str], name: str) -> bool:
    """Every query word starts some word of the name (or the name's words glued together)."""
    words = normalise_words(name)
    words.append("".join(words))
    return all(any(w.startswith(q) for w in words) for q in query_words)


@dataclass
class SearchResults:
    """Ranked read models per kind; only the kinds asked for are present."""

    query: str
    kinds: dict[str, KindPage]

    def __getitem__(self, kind: str) -> KindPage:
        return self.kinds[kind]

log = get_logger("musicd.search")

_CHUNK = 5000


def _docs(kind: str, rows: Iterable[dict[str, Any]]) -> list[SearchDoc]:
    return [SearchDoc(kind=kind, **r) for r in rows]  # type: ignore[arg-type]


class SearchService:
    """Owns the index: rebuilt from SQLite when missing or damaged, updated after every scan."""

    def __init__(self, catalog: CatalogRepository, path: Path) -> None:
        self.catalog = catalog
        self.path = path
        self._index: CatalogIndex | None = None
        self._groups: set[str] = set()  # album and artist ids in the index, to drop the ones a scan removed
        self._views: CatalogService | None = None
        self._playlists: PlaylistLookup | None = None
        self._more: dict[str, tuple[RowSource, PlaylistLookup]] = {}
        # What the running scan's TracksStored events indexed so far: (scan, how many ids, the last id,
        # whether they replaced documents). Those ids lead its LibraryChanged list, in the same order.
        self._early: tuple[str, int, str, bool] | None = None

    def add_kind(self, kind: str, rows: RowSource, resolve: PlaylistLookup) -> None:
        """Index another kind: `rows()` gives its documents for a rebuild, `resolve(ids, user_id)` its items."""
        self._more[kind] = (rows, resolve)

    async def add_docs(self, kind: str, rows: Sequence[dict[str, Any]]) -> None:
        """Add or replace documents of a kind added with `add_kind`."""
        if rows:
            await asyncio.to_thread(self.index.upsert, _docs(kind, rows))

    async def remove_docs(self, ids: Sequence[str]) -> None:
        if ids:
            await asyncio.to_thread(self.index.delete, list(ids))

    def attach(self, views: CatalogService, playlists: PlaylistLookup | None = None) -> None:
        """Give the service what turns ids into read models (set once by the registry)."""
        self._views = views
        self._playlists = playlists

    @property
    def index(self) -> CatalogIndex:
        if self._index is None:
            raise RuntimeError("search index is not open")
        return self._index

    async def open(self) -> None:
        """Open the index; rebuild it from the database when it is missing, damaged or out of step."""
        self._index = await asyncio.to_thread(CatalogIndex.open, self.path)
        tracks = await self.catalog.track_count()
        if self._index.needs_rebuild or (tracks and self._index.count() == 0):
            await self.rebuild()
        else:
            self._groups = await self.catalog.album_and_artist_ids()

    async def _group_docs(self) -> list[SearchDoc]:
        docs = _docs("album", await self.catalog.search_album_rows())
        docs += _docs("artist", await self.catalog.search_artist_rows())
        return docs

    async def rebuild(self) -> int:
        """Rebuild the whole index from the catalogue; searches use the old one until the swap."""
        docs = _docs("track", await self.catalog.search_track_rows()) + await self._group_docs()
        docs += _docs("playlist", await self.catalog.search_playlist_rows())
        for kind, (rows, _) in self._more.items():
            docs += _docs(kind, await rows())
        await asyncio.to_thread(self.index.rebuild, docs)
        self._groups = {d.id for d in docs if d.kind in ("album", "artist")}
        log.info("search.rebuilt", docs=len(docs))
        return len(docs)

    async def on_tracks_stored(self, e: TracksStored) -> None:
        """Index the tracks a running scan just stored, while it reads on; its LibraryChanged commits them
        (a track document holds only what the scan wrote for it: its album's and artists' names are the
        same words whichever spelling the rest of the scan settles on)."""
        if self._early is None or self._early[0] != e.started_at:
            self._early = (e.started_at, 0, "", await self._must_replace(self._early))
        _, n, _, replace = self._early
        docs = _docs("track", await self.catalog.search_track_rows(list(e.track_ids)))
        await asyncio.to_thread(self.index.add, docs, replace=replace)
        if e.track_ids:
            self._early = (e.started_at, n + len(e.track_ids), e.track_ids[-1], replace)

    async def _must_replace(self, early: tuple[str, int, str, bool] | None) -> bool:
        """Whether a track added now may already have a document: not on a first scan (no track is in the index
        yet, so none is looked up), unless `early` (a scan's TracksStored) left some uncommitted (they count
        once committed)."""
        return await asyncio.to_thread(self.index.tracks.count) > 0 or (early is not None and early[1] > 0)

    async def on_scanned(self, s: LibraryChanged) -> None:
        """Apply a scan's changes without a rebuild: changed tracks, removed tracks, albums and artists."""
        early, self._early = self._early, None
        if not (s.changed_track_ids or s.removed_track_ids):
            return
        groups = await self._group_docs()
        gone = self._groups - {d.id for d in groups}
        if s.removed_track_ids or gone:
            await asyncio.to_thread(self.index.delete, [*s.removed_track_ids, *gone])
        ids = s.changed_track_ids
        replace = await self._must_replace(early)
        if early is not None and 0 < early[1] <= len(ids) and ids[early[1] - 1] == early[2]:
            ids = ids[early[1]:]  # indexed already, as the scan stored them (uncommitted until below)
        # In slices, so a first scan of 100k tracks never holds every row and document at once, and in one
        # commit: a commit per slice made tantivy write and merge segments over and over.
        for i in range(0, len(ids), _CHUNK):
            tracks = _docs("track", await self.catalog.search_track_rows(ids[i : i + _CHUNK]))
            await asyncio.to_thread(self.index.add, tracks, replace=replace)
        await asyncio.to_thread(self.index.add, groups)
        await asyncio.to_thread(self.index.commit)
        self._groups = {d.id for d in groups}

    async def tracks_changed(self, track_ids: Sequence[str]) -> None:
        """Re-index tracks whose searchable text changed outside a scan (lyrics users added)."""
        docs = _docs("track", await self.catalog.search_track_rows(list(track_ids)))
        if docs:
            await asyncio.to_thread(self.index.upsert, docs)

    async def search(
        self, query: str, kinds: set[str], limit: int = 20, offset: int = 0, user_id: str | None = None
    ) -> dict[str, KindHits]:
        """Ranked ids per kind; odd input gives empty results, never an error."""
        return await asyncio.to_thread(self.index.search, query, kinds, limit, offset, user_id)

    async def close(self) -> None:
        if self._index is not None:
            await asyncio.to_thread(self._index.close)

    async def playlists_changed(self, playlist_ids: Sequence[str]) -> None:
        """Re-index playlists after a change (name, description, visibility, follows)."""
        docs = _docs("playlist", await self.catalog.search_playlist_rows(playlist_ids))
        if docs:
            await asyncio.to_thread(self.index.upsert, docs)

    async def playlists_deleted(self, playlist_ids: Sequence[str]) -> None:
        await asyncio.to_thread(self.index.delete, list(playlist_ids))

    async def find(
        self, query: str, kinds: Iterable[str], limit: int = 20, offset: int = 0, user_id: str | None = None,
        detail: bool = True,
    ) -> SearchResults:
        """Search and resolve the hits into read models with the user's state, per kind, in rank order. Albums
        come brief (what search results show of them); artists too without `detail` (no genres, no plays)."""
        wanted = [k for k in (*KINDS, *self._more) if k in set(kinds)]
        query = clean_query(query)[:MAX_QUERY]
        limit, offset = min(max(0, limit), MAX_LIMIT), max(0, offset)
        hits = await self.search(query, set(wanted), limit, offset, user_id)
        out: dict[str, KindPage] = {}
        # Resolved concurrently: the database has several reader connections.
        resolved = await asyncio.gather(*(
            self._resolve(kind, [doc_id for doc_id, _ in hits[kind].hits], user_id, detail) for kind in wanted
        ))
        for kind, items in zip(wanted, resolved, strict=True):
            # An id the index still has but the catalogue lost (mid-scan) is skipped, not an error.
            kept = [(item, score) for item, (_, score) in zip(items, hits[kind].hits, strict=True) if item is not None]
            out[kind] = KindPage([i for i, _ in kept], max(0, hits[kind].total - (len(items) - len(kept))),
                                 [s for _, s in kept])
        return SearchResults(query, out)

    async def _resolve(self, kind: str, ids: list[str], user_id: str | None, detail: bool = True
                       ) -> Sequence[Any | None]:
        if not ids:
            return []
        if kind == "playlist":
            return await self._playlists(ids, user_id) if self._playlists else []
        if kind in self._more:
            return await self._more[kind][1](ids, user_id)
        if self._views is None:
            raise RuntimeError("search service has no catalogue attached")
        found: Sequence[TrackView | AlbumView | ArtistView | None]
        if kind == "track":
            found = await self._views.tracks(ids, user_id)
        elif kind == "album":
            found = await self._views.albums(ids, user_id, brief=True)
        else:
            found = await self._views.artists(ids, user_id, brief=not detail)
        return found

    async def request(self, q: str | None, kinds: Sequence[str], limit: int = 20, offset: int = 0,
                      user_id: str | None = None) -> SearchResults:
        """A search as Spotify's API asks for one: `q` (at most MAX_QUERY characters) and at least one
        known type are required."""
        known = (*KINDS, *self._more)
        if not kinds:
            raise ValidationError(f"type is required: {', '.join(known)}", code="invalid_type")
        bad = [k for k in kinds if k not in known]
        if bad:
            raise ValidationError(f"unknown type {bad[0][:40]!r}: use {', '.join(known)}", code="invalid_type")
        if not q or not q.strip():
            raise ValidationError("q is required", code="missing_query")
        if len(q) > MAX_QUERY:
            raise ValidationError(f"q is longer than {MAX_QUERY} characters", code="query_too_long")
        return await self.find(q, kinds, limit, offset, user_id)

    async def pages(self, query: str | None, wanted: Mapping[str, tuple[int, int]], user_id: str | None = None
                    ) -> dict[str, list[Any]]:
        """Subsonic's search2/3: per kind, (count, offset) of the results; a blank query pages through the
        whole library (artists by name, albums by name, tracks album by album)."""
        if self._views is None:
            raise RuntimeError("search service has no catalogue attached")
        views = self._views
        if is_blank(query):
            out: dict[str, list[Any]] = {}
            for kind, (count, offset) in wanted.items():
                if kind == "artist":
                    out[kind] = (await views.all_artists(user_id))[offset:offset + count]
                elif kind == "album":
                    out[kind] = (await views.album_list("alphabeticalByName", user_id, count, offset)).items
                else:
                    out[kind] = (await views.all_tracks(user_id, count, offset)).items
            return out
        return await paged_find(partial(self.find, detail=False), query or "", wanted, user_id)

    async def songs(self, query: str | None, count: int, offset: int = 0, user_id: str | None = None) -> KindPage:
        """Subsonic's 1.0 search: the tracks matching; nothing for a blank query."""
        if is_blank(query):
            return KindPage()
        return (await self.find(query or "", ["track"], count, offset, user_id))["track"]

    async def suggest(self, query: str | None, user_id: str | None = None, size: int = 8) -> list[Suggestion]:
        """A few mixed results for a search box: items whose name matches come first, artists before
        albums before tracks (relevance scores of different kinds are not comparable), then the rest."""
        query = clean_query(query)[:MAX_QUERY]
        if not query:
            return []
        results = await self.find(query, KINDS, limit=4, offset=0, user_id=user_id)
        words = normalise_words(query)
        ranked: list[tuple[int, int, float, Suggestion]] = []
        for kind in KINDS:
            page = results[kind]
            for item, score in zip(page.items, page.scores, strict=True):
                name = getattr(item, "title", None) or item.name
                named = _name_matches(words, name)
                ranked.append((0 if named else 1, _SUGGEST_ORDER[kind] if named else 0, -score,
                               Suggestion(kind, item)))
        ranked.sort(key=lambda r: r[:3])
        return [r[3] for r in ranked[:size]]
