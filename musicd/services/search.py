"""The search use-case: keeps the Tantivy index in step with the catalogue and answers queries."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from musicd.library.scanner import ScanSummary
from musicd.logs import get_logger
from musicd.search.index import KindHits, SearchDoc, SearchIndex
from musicd.store.catalog import CatalogRepository

__all__ = ["SearchService"]

log = get_logger("musicd.search")

_CHUNK = 5000


def _docs(kind: str, rows: Iterable[dict[str, Any]]) -> list[SearchDoc]:
    return [SearchDoc(kind=kind, **r) for r in rows]  # type: ignore[arg-type]


class SearchService:
    """Owns the index: rebuilt from SQLite when missing or damaged, updated after every scan."""

    def __init__(self, catalog: CatalogRepository, path: Path) -> None:
        self.catalog = catalog
        self.path = path
        self._index: SearchIndex | None = None
        self._groups: set[str] = set()  # album and artist ids in the index, to drop the ones a scan removed

    @property
    def index(self) -> SearchIndex:
        if self._index is None:
            raise RuntimeError("search index is not open")
        return self._index

    async def open(self) -> None:
        """Open the index; rebuild it from the database when it is missing, damaged or out of step."""
        self._index = await asyncio.to_thread(SearchIndex.open, self.path)
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
        await asyncio.to_thread(self.index.rebuild, docs)
        self._groups = {d.id for d in docs if d.kind != "track"}
        log.info("search.rebuilt", docs=len(docs))
        return len(docs)

    async def on_scanned(self, s: ScanSummary) -> None:
        """Apply a scan's changes without a rebuild: changed tracks, removed tracks, albums and artists."""
        if not (s.changed_track_ids or s.removed_track_ids):
            return
        groups = await self._group_docs()
        gone = self._groups - {d.id for d in groups}
        if s.removed_track_ids or gone:
            await asyncio.to_thread(self.index.delete, [*s.removed_track_ids, *gone])
        ids = s.changed_track_ids
        # In slices, so a first scan of 100k tracks never holds every row and document at once.
        for i in range(0, len(ids), _CHUNK):
            tracks = _docs("track", await self.catalog.search_track_rows(ids[i : i + _CHUNK]))
            await asyncio.to_thread(self.index.upsert, tracks)
        await asyncio.to_thread(self.index.upsert, groups)
        self._groups = {d.id for d in groups}

    async def search(
        self, query: str, kinds: set[str], limit: int = 20, offset: int = 0, user_id: str | None = None
    ) -> dict[str, KindHits]:
        """Ranked ids per kind; odd input gives empty results, never an error."""
        return await asyncio.to_thread(self.index.search, query, kinds, limit, offset, user_id)
