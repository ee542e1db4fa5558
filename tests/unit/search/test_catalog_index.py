"""The catalogue's two indexes (tracks; albums, artists, playlists) answer as one: partial matches of a
query of several words only when no item of any kind has every word."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from musicd.search.catalog_index import CatalogIndex
from musicd.search.index import SearchDoc

KINDS = {"track", "album", "artist"}
DOCS = [
    SearchDoc(kind="track", id="t-bohemian", name="Bohemian Rhapsody", artists=["Queen"], album="A Night at the Opera"),
    SearchDoc(kind="track", id="t-wonderwall", name="Wonderwall", artists=["Oasis"]),
    SearchDoc(kind="artist", id="a-queen", name="Queen"),
    SearchDoc(kind="artist", id="a-oasis", name="Oasis"),
    SearchDoc(kind="album", id="al-opera", name="A Night at the Opera", artists=["Queen"]),
]


@pytest.fixture
def index(tmp_path: Path) -> Iterator[CatalogIndex]:
    idx = CatalogIndex.open(tmp_path / "index")
    idx.upsert(DOCS)
    yield idx
    idx.close()


def _ids(index: CatalogIndex, query: str) -> dict[str, set[str]]:
    return {k: {i for i, _ in hits.hits} for k, hits in index.search(query, KINDS, 10, 0).items()}


def test_a_full_match_of_one_kind_means_no_partial_matches_of_the_others(index: CatalogIndex) -> None:
    # "queen rhapsody" names a track fully; the artist Queen has only one of the words.
    assert _ids(index, "queen rhapsody") == {"track": {"t-bohemian"}, "album": set(), "artist": set()}
    # An album fully matched keeps tracks from their partial pass too.
    got = _ids(index, "night opera")
    assert got["album"] == {"al-opera"} and got["track"] == {"t-bohemian"} and got["artist"] == set()


def test_no_full_match_anywhere_gives_partial_matches_of_every_kind(index: CatalogIndex) -> None:
    assert _ids(index, "queen wonderwall") == {"track": {"t-bohemian", "t-wonderwall"}, "album": {"al-opera"},
                                               "artist": {"a-queen"}}
    assert _ids(index, "nothing here") == {"track": set(), "album": set(), "artist": set()}
