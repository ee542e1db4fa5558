"""The catalogue's search index: tracks in one Tantivy index, albums, artists and playlists in another.

Why two: typo and prefix matching walk a field's whole term dictionary, once per kind searched. With
one index, finding an artist among 2,500 also walked the 100,000 track titles; measured on the 100k
library, album and artist searches cost as much as the track search (about 2 ms each). Apart, the small
index answers in a fraction of that; on a large library the tracks and the other kinds are searched at once.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from musicd.search.index import CURRENT_FILE, KindHits, SearchDoc, SearchIndex

__all__ = ["CatalogIndex"]

# Tracks from which the other kinds are searched on a thread of their own, beside the tracks (see `_both`).
PARALLEL_FROM = 30_000


class CatalogIndex:
    """Same interface as SearchIndex, routing tracks and the other kinds to their own index."""

    def __init__(self, tracks: SearchIndex, groups: SearchIndex) -> None:
        self.tracks = tracks
        self.groups = groups
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="search")
        self._staged: set[SearchIndex] = set()  # indexes `add` wrote to since the last `commit`

    @classmethod
    def open(cls, path: Path) -> CatalogIndex:
        path.mkdir(parents=True, exist_ok=True)
        if (path / CURRENT_FILE).exists():  # the single-index layout of earlier versions: rebuilt below
            for old in [*path.glob("gen-*"), path / CURRENT_FILE]:
                shutil.rmtree(old, ignore_errors=True) if old.is_dir() else old.unlink(missing_ok=True)
        return cls(SearchIndex.open(path / "tracks"), SearchIndex.open(path / "groups"))

    @property
    def needs_rebuild(self) -> bool:
        return self.tracks.needs_rebuild or self.groups.needs_rebuild

    @staticmethod
    def _split(docs: Iterable[SearchDoc]) -> tuple[list[SearchDoc], list[SearchDoc]]:
        tracks: list[SearchDoc] = []
        groups: list[SearchDoc] = []
        for d in docs:
            (tracks if d.kind == "track" else groups).append(d)
        return tracks, groups

    def upsert(self, docs: Iterable[SearchDoc]) -> None:
        tracks, groups = self._split(docs)
        if tracks:
            self.tracks.upsert(tracks)
        if groups:
            self.groups.upsert(groups)

    def add(self, docs: Iterable[SearchDoc], *, replace: bool = True) -> None:
        """Stage documents without committing (see SearchIndex.add); `commit` makes them searchable."""
        tracks, groups = self._split(docs)
        for index, part in ((self.tracks, tracks), (self.groups, groups)):
            if part:
                index.add(part, replace=replace)
                self._staged.add(index)

    def commit(self) -> None:
        for index in self._staged:
            index.commit()
        self._staged.clear()

    def delete(self, ids: Iterable[str]) -> None:
        ids = list(ids)
        self.tracks.delete(ids)
        self.groups.delete(ids)

    def rebuild(self, docs: Iterable[SearchDoc]) -> None:
        tracks, groups = self._split(docs)
        self.tracks.rebuild(tracks)
        self.groups.rebuild(groups)

    def count(self) -> int:
        return self.tracks.count() + self.groups.count()

    def search(self, query: str, kinds: set[str] | frozenset[str], limit: int = 20, offset: int = 0,
               user_id: str | None = None) -> dict[str, KindHits]:
        """Ranked hits per kind, the two indexes searched at the same time."""
        out = self._both(SearchIndex.search, query, kinds, limit, offset, user_id)
        if all(r.total == 0 for r in out.values()):
            # Nothing of any kind has every word: partial matches, as one index would have answered.
            # Each index deciding alone ran the partial pass for albums and artists whenever a query
            # named a track (most queries): a third of the album and artist search time.
            out = self._both(SearchIndex.search_partial, query, kinds, limit, offset, user_id)
        return out

    def _both(self, how: Callable[..., dict[str, KindHits]], query: str, kinds: set[str] | frozenset[str],
              limit: int, offset: int, user_id: str | None) -> dict[str, KindHits]:
        """`how` (SearchIndex.search without its fallback, or search_partial) on both indexes at once."""
        extra = {"fallback": False} if how is SearchIndex.search else {}
        groups = set(kinds) - {"track"}
        both = groups and "track" in kinds
        # Tantivy releases the GIL while it searches, so on a large library the other kinds are searched on a
        # thread while this one searches the tracks (one task for all of them: a task per kind cost a hand-off
        # and a query build each). On a small one the hand-off costs more than it saves. Measured per search,
        # 10k tracks: 1.2 ms CPU and 1.0 ms (p50) one after the other, 1.5 ms and 1.1 ms with the thread;
        # 100k: 2.1 ms (p50) one after the other, 1.7 ms with the thread.
        pending = self._pool.submit(how, self.groups, query, groups, limit, offset, user_id, **extra) \
            if both and self.tracks.count() >= PARALLEL_FROM else None
        out = how(self.tracks, query, {"track"}, limit, offset, user_id, **extra) if "track" in kinds else {}
        if pending is not None:
            out.update(pending.result())
        elif groups:
            out.update(how(self.groups, query, groups, limit, offset, user_id, **extra))
        return out

    def close(self) -> None:
        self.tracks.close()
        self.groups.close()
        self._pool.shutdown(wait=False)
