"""Federated search: friends' mirrored items in their own Tantivy index, searched beside the local one.

The federated index (`DATA/index-fed`) holds the tracks, albums and artists mirrored from peers, except
those that collapse into a local copy. A search asks both indexes at once and merges them by score: all
local reads, so a dead or slow peer never slows a search, and a search with no peers paired costs what it
did before (the federated index is not even asked while it is empty).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from musicd.domain.catalog import AlbumView, ArtistView, TrackView
from musicd.domain.federation import Sources
from musicd.logs import get_logger
from musicd.search.index import KindHits, SearchDoc, SearchIndex
from musicd.services.fed_views import FedViews
from musicd.services.search import (
    KINDS,
    MAX_LIMIT,
    MAX_QUERY,
    KindPage,
    SearchResults,
    SearchService,
    is_blank,
    paged_find,
)
from musicd.store.fed_mirror import FedMirrorRepository, MirrorRow

__all__ = ["ALL", "LOCAL", "FedIndex", "FederatedSearchService", "Sources"]

log = get_logger("musicd.federation")

_FED_KINDS = frozenset({"track", "album", "artist"})
_CHUNK = 2000


ALL = Sources()
LOCAL = Sources(local=True, peers=False)


def _track_doc(r: MirrorRow) -> SearchDoc:
    return SearchDoc(kind="track", id=r.id, name=r.title, artists=[n for _, n in r.artists] or [r.artist_display],
                     album=r.album_name, album_artist=r.album_artist, genres=r.genres, year=r.year)


class FedIndex:
    """The index of mirrored items, kept in step with the mirror by the sync."""

    def __init__(self, mirror: FedMirrorRepository, path: Path) -> None:
        self.mirror = mirror
        self.path = path
        self._index: SearchIndex | None = None
        self.docs = 0

    @property
    def index(self) -> SearchIndex:
        if self._index is None:
            raise RuntimeError("the federated search index is not open")
        return self._index

    async def open(self) -> None:
        self._index = await asyncio.to_thread(SearchIndex.open, self.path)
        self.docs = await asyncio.to_thread(self._index.count)
        # A new, empty index needs no rebuild while nothing is mirrored (every fresh server starts so); one
        # with fewer documents than visible mirrored tracks missed a sync's indexing (a crash mid-sync).
        if (self._index.needs_rebuild or self.docs < await self.mirror.visible_count()) \
                and await self.mirror.has_rows():
            await self.rebuild()

    async def rebuild(self) -> None:
        rows = await self.mirror.search_rows()
        docs = [_track_doc(r) for r in rows] + self._group_docs(rows)
        await asyncio.to_thread(self.index.rebuild, docs)
        self.docs = len(docs)
        log.info("federation.index_rebuilt", docs=len(docs))

    @staticmethod
    def _group_docs(rows: Iterable[MirrorRow]) -> list[SearchDoc]:
        albums: dict[str, SearchDoc] = {}
        artists: dict[str, SearchDoc] = {}
        for r in rows:
            if r.album_id not in albums:
                albums[r.album_id] = SearchDoc(kind="album", id=r.album_id, name=r.album_name,
                                               artists=[r.album_artist], album_artist=r.album_artist,
                                               genres=r.genres, year=r.year)
            for aid, name in [(r.album_artist_id, r.album_artist), *r.artists]:
                artists.setdefault(aid, SearchDoc(kind="artist", id=aid, name=name))
        return [*albums.values(), *artists.values()]

    async def update(self, changed: Sequence[str], removed: Sequence[str], touched_groups: Sequence[str]) -> None:
        """Re-index changed tracks (dropping those now collapsed), remove deleted ones, and refresh the albums
        and artists they belong to (`touched_groups`: album and artist ids before and after the change)."""
        if removed:
            await asyncio.to_thread(self.index.delete, list(removed))
        for i in range(0, len(changed), _CHUNK):
            part = changed[i:i + _CHUNK]
            rows = await self.mirror.search_rows(part)
            visible = {r.id for r in rows}
            hidden = [t for t in part if t not in visible]
            if hidden:
                await asyncio.to_thread(self.index.delete, hidden)
            if rows:
                await asyncio.to_thread(self.index.upsert, [_track_doc(r) for r in rows])
        if touched_groups:
            await self._refresh_groups(touched_groups)
        self.docs = await asyncio.to_thread(self.index.count)

    async def _refresh_groups(self, group_ids: Sequence[str]) -> None:
        albums = await self.mirror.album_tracks(group_ids)
        alive = [r for r in albums if r.local_track_id is None]
        docs = [d for d in self._group_docs(alive) if d.id in set(group_ids)]
        artist_ids = [g for g in group_ids if g not in {r.album_id for r in albums}]
        present = {d.id for d in docs}
        if artist_ids:
            for aid, name, _peer, _albums, tracks in await self.mirror.artist_rows(artist_ids):
                if tracks or _albums:
                    docs.append(SearchDoc(kind="artist", id=aid, name=name))
                    present.add(aid)
        gone = [g for g in group_ids if g not in present]
        if gone:
            await asyncio.to_thread(self.index.delete, gone)
        if docs:
            await asyncio.to_thread(self.index.upsert, docs)

    async def search(self, query: str, kinds: set[str], limit: int, fallback: bool = False) -> dict[str, KindHits]:
        """Hits per kind; partial matches (some words only) only with `fallback`, so that they never crowd
        out what the local library matches in full."""
        if self.docs == 0:
            return {k: KindHits([], 0) for k in kinds}
        return await asyncio.to_thread(self.index.search, query, kinds, limit, 0, None, fallback)

    async def close(self) -> None:
        if self._index is not None:
            await asyncio.to_thread(self._index.close)


class FederatedSearchService(SearchService):
    """SearchService over the local library and friends' mirrored libraries (`attach_federation`)."""

    fed_index: FedIndex | None = None
    fed_views: FedViews | None = None

    def attach_federation(self, index: FedIndex, views: FedViews) -> None:
        self.fed_index = index
        self.fed_views = views

    async def find(self, query: str, kinds: Iterable[str], limit: int = 20, offset: int = 0,
                   user_id: str | None = None, sources: Sources | None = None, detail: bool = True) -> SearchResults:
        """Search the local library and friends' libraries (as `sources` says), merged by relevance."""
        sources = sources or ALL
        if self.fed_index is None or self.fed_views is None or not sources.peers or self.fed_index.docs == 0:
            if not sources.local:
                return SearchResults(query, {k: KindPage() for k in KINDS if k in set(kinds)})
            return await super().find(query, kinds, limit, offset, user_id, detail)
        wanted = [k for k in KINDS if k in set(kinds)]
        query = (query or "")[:MAX_QUERY]
        limit, offset = min(max(0, limit), MAX_LIMIT), max(0, offset)
        fed_kinds = {k for k in wanted if k in _FED_KINDS}
        # A peer filter drops hits after the search: ask for more so a page still fills.
        want = (offset + limit) * (4 if sources.peer_id else 1)
        local_task = self.search(query, set(wanted), offset + limit, 0, user_id) if sources.local else None
        fed_task = self.fed_index.search(query, fed_kinds, want) if fed_kinds else None
        local_hits, fed_hits = await asyncio.gather(_maybe(local_task), _maybe(fed_task))
        if fed_kinds and not any(h.total for h in (*(local_hits or {}).values(), *(fed_hits or {}).values())):
            # Nothing anywhere has every word: show friends' partial matches too, as a local search does.
            fed_hits = await self.fed_index.search(query, fed_kinds, want, fallback=True)
        none = KindHits([], 0)
        pages = await asyncio.gather(*(
            self._merged(kind, (local_hits or {}).get(kind, none), (fed_hits or {}).get(kind, none), limit, offset,
                         user_id, sources, detail) for kind in wanted))
        return SearchResults(query, dict(zip(wanted, pages, strict=True)))

    async def pages(self, query: str | None, wanted: Mapping[str, tuple[int, int]], user_id: str | None = None,
                    sources: Sources | None = None) -> dict[str, list[Any]]:
        """Subsonic's search2/3 over the libraries `sources` names (a music folder: the local library or one
        friend's); a blank query lists them whole, a friend's tracks album by album (getAlbumList2)."""
        if sources is None:
            return await super().pages(query, wanted, user_id)
        if not is_blank(query):
            return await paged_find(partial(self.find, sources=sources, detail=False), query or "", wanted, user_id)
        views: Any = self._views  # the RoutedCatalog (services/fed_catalog.py), which takes `sources`
        if views is None:
            raise RuntimeError("search service has no catalogue attached")
        out: dict[str, list[Any]] = {}
        for kind, (count, offset) in wanted.items():
            if kind == "artist":
                out[kind] = (await views.all_artists(user_id, sources=sources))[offset:offset + count]
            elif kind == "album":
                out[kind] = (await views.album_list("alphabeticalByName", user_id, count, offset,
                                                    sources=sources)).items
            else:
                out[kind] = [] if not sources.local else (await views.all_tracks(user_id, count, offset)).items
        return out

    async def _merged(self, kind: str, local: KindHits, fed: KindHits, limit: int, offset: int,
                      user_id: str | None, sources: Sources, detail: bool = True) -> KindPage:
        assert self.fed_views is not None
        fed_items: dict[str, Any] = {}
        fed_list = fed.hits
        if sources.peer_id and fed_list:
            resolved = await self._fed_resolve(kind, [i for i, _ in fed_list], user_id)
            fed_items = {i: x for i, x in zip([i for i, _ in fed_list], resolved, strict=True)
                         if x is not None and x.origin is not None and x.origin.peer_id == sources.peer_id}
            fed_list = [(i, s) for i, s in fed_list if i in fed_items]
        ranked = sorted([(s, i, False) for i, s in local.hits] + [(s, i, True) for i, s in fed_list],
                        key=lambda h: (-h[0], h[1]))[offset:offset + limit]
        local_ids = [i for _, i, f in ranked if not f]
        fed_ids = [i for _, i, f in ranked if f and i not in fed_items]
        local_found, fed_found = await asyncio.gather(
            _maybe(self._resolve(kind, local_ids, user_id, detail) if local_ids else None),
            _maybe(self._fed_resolve(kind, fed_ids, user_id) if fed_ids else None))
        local_found, fed_found = local_found or [], fed_found or []
        by_id: dict[str, Any] = {**dict(zip(local_ids, local_found, strict=True)),
                                 **dict(zip(fed_ids, fed_found, strict=True)), **fed_items}
        items, scores = [], []
        for score, item_id, _ in ranked:
            if by_id.get(item_id) is not None:
                items.append(by_id[item_id])
                scores.append(score)
        fed_total = len(fed_list) if sources.peer_id else fed.total
        total = (local.total if sources.local else 0) + fed_total
        return KindPage(items, max(total, offset + len(items)), scores)

    async def _fed_resolve(self, kind: str, ids: Sequence[str], user_id: str | None
                           ) -> Sequence[TrackView | AlbumView | ArtistView | None]:
        assert self.fed_views is not None
        if kind == "track":
            return await self.fed_views.tracks(ids, user_id)
        if kind == "album":
            return await self.fed_views.albums(ids, user_id)
        return await self.fed_views.artists(ids, user_id)


async def _maybe(task: Any) -> Any:
    return await task if task is not None else None
