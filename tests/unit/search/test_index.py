"""Tests for the tantivy-backed search index adapter."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from musicd.search.index import SearchDoc, SearchIndex


def _track(doc_id: str, name: str, artists: list[str] | None = None, **kw: object) -> SearchDoc:
    return SearchDoc(kind="track", id=doc_id, name=name, artists=artists or [], **kw)  # type: ignore[arg-type]


CORPUS: list[SearchDoc] = [
    _track("t-home", "Home", ["Michael Bublé"], album="It's Time"),
    _track("t-homeward", "Homeward Bound", ["Simon & Garfunkel"], album="Parsley, Sage, Rosemary and Thyme"),
    _track("t-bohemian", "Bohemian Rhapsody", ["Queen"], album="A Night at the Opera", genres=["Rock"]),
    _track("t-dontstop", "Don't Stop Me Now", ["Queen"], album="Jazz", popularity=50),
    _track("t-eple", "Eple", ["Röyksopp"], album="Melody A.M."),
    _track("t-ete", "Été Çiçek", ["Anonyme"]),
    _track("t-losing", "Losing My Religion", ["R.E.M."], album="Out of Time"),
    _track("t-thunder", "Thunderstruck", ["AC/DC"], album="The Razors Edge"),
    _track("t-takeon", "Take On Me", ["a-ha"], album="Hunting High and Low"),
    _track("t-yoru", "夜に駆ける", ["YOASOBI"]),
    _track("t-spring", "봄날", ["BTS"]),
    _track("t-kino", "Группа крови", ["Кино"]),
    _track("t-greek", "Ελλάδα", ["Various"]),
    _track("t-dup-a", "Same Song", ["Band A"], popularity=1),
    _track("t-dup-b", "Same Song", ["Band B"], popularity=500),
    _track("t-lyrics", "Quiet Track", ["Nobody"], lyrics="the submarine is yellow and blue"),
    _track("t-yesterday", "Yesterday", ["The Beatles"], album="Help!"),
    _track("t-imagine", "Imagine", ["John Lennon"]),
    _track("t-wonderwall", "Wonderwall", ["Oasis"], album="(What's the Story) Morning Glory?"),
    _track("t-hotel", "Hotel California", ["Eagles"]),
    SearchDoc(kind="artist", id="a-queen", name="Queen", popularity=1000),
    SearchDoc(kind="artist", id="a-royksopp", name="Röyksopp"),
    SearchDoc(kind="artist", id="a-rem", name="R.E.M."),
    SearchDoc(kind="artist", id="a-acdc", name="AC/DC"),
    SearchDoc(kind="artist", id="a-aha", name="a-ha"),
    SearchDoc(kind="artist", id="a-kino", name="Кино"),
    SearchDoc(kind="artist", id="a-lanterns", name="The Midnight Lanterns"),
    SearchDoc(kind="album", id="al-opera", name="A Night at the Opera", artists=["Queen"], year=1975),
    SearchDoc(kind="album", id="al-melody", name="Melody A.M.", artists=["Röyksopp"], year=2001),
    SearchDoc(kind="playlist", id="p-public", name="Road Trip Mix", owner_id="alice", public=True),
    SearchDoc(kind="playlist", id="p-private", name="Secret Sunday Mix", owner_id="alice", public=False),
]


@pytest.fixture
def index(tmp_path: Path) -> Iterator[SearchIndex]:
    idx = SearchIndex.open(tmp_path / "search")
    idx.upsert(CORPUS)
    yield idx


def ids(index: SearchIndex, query: str, kind: str = "track", user_id: str | None = None) -> list[str]:
    """Ids of one kind matching ``query``, best first."""
    return [doc_id for doc_id, _ in index.search(query, {kind}, limit=20, offset=0, user_id=user_id)[kind].hits]


def test_open_fresh_needs_rebuild_and_counts(tmp_path: Path) -> None:
    idx = SearchIndex.open(tmp_path / "s")
    assert idx.needs_rebuild
    assert idx.count() == 0
    idx.upsert(CORPUS)
    assert idx.count() == len(CORPUS)


def test_typo_finds_home(index: SearchIndex) -> None:
    assert "t-home" in ids(index, "Hone")


@pytest.mark.parametrize("query", ["latern", "lantren", "lanten"])
def test_typo_in_the_start_of_a_longer_word(index: SearchIndex, query: str) -> None:
    # "latern" is one edit from "lantern", two from "lanterns": the typo sits in the word's beginning.
    assert ids(index, query, "artist") == ["a-lanterns"]


def test_exact_outranks_prefix(index: SearchIndex) -> None:
    found = ids(index, "home")
    assert found[0] == "t-home"
    assert "t-homeward" in found


def test_prefix_finds_both_homes(index: SearchIndex) -> None:
    assert {"t-home", "t-homeward"} <= set(ids(index, "hom"))


def test_multiword_typos(index: SearchIndex) -> None:
    assert ids(index, "bohemain rapsody")[0] == "t-bohemian"


def test_accent_folding_and_typo(index: SearchIndex) -> None:
    assert ids(index, "Roykopp", "artist") == ["a-royksopp"]
    assert ids(index, "royksopp", "artist") == ["a-royksopp"]
    assert ids(index, "ete cicek") == ["t-ete"]
    assert ids(index, "ÉTÉ") == ["t-ete"]


@pytest.mark.parametrize("query", ["rem", "R.E.M.", "r e m", "REM"])
def test_rem(index: SearchIndex, query: str) -> None:
    assert ids(index, query, "artist")[0] == "a-rem"


@pytest.mark.parametrize("query", ["acdc", "ac dc", "AC/DC", "ac-dc"])
def test_acdc(index: SearchIndex, query: str) -> None:
    assert ids(index, query, "artist")[0] == "a-acdc"


@pytest.mark.parametrize("query", ["aha", "a-ha", "A-HA"])
def test_aha(index: SearchIndex, query: str) -> None:
    assert ids(index, query, "artist")[0] == "a-aha"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("夜に駆ける", "t-yoru"),
        ("駆ける", "t-yoru"),
        ("夜", "t-yoru"),
        ("봄날", "t-spring"),
        ("봄", "t-spring"),
        ("кино", "t-kino"),
        ("КРОВИ", "t-kino"),
        ("ελλαδα", "t-greek"),
        ("Ελλάδα", "t-greek"),
    ],
)
def test_non_latin_scripts(index: SearchIndex, query: str, expected: str) -> None:
    assert ids(index, query)[0] == expected


def test_artist_and_lyrics_fields(index: SearchIndex) -> None:
    assert {"t-bohemian", "t-dontstop"} <= set(ids(index, "queen"))
    assert ids(index, "submarine") == ["t-lyrics"]


def test_title_outranks_artist_field(index: SearchIndex) -> None:
    # "Queen" as an artist name is the best artist hit; on tracks the artist field still matches.
    assert ids(index, "queen", "artist")[0] == "a-queen"


def test_popularity_breaks_ties(index: SearchIndex) -> None:
    assert ids(index, "same song")[:2] == ["t-dup-b", "t-dup-a"]


def test_words_are_anded_with_or_fallback(index: SearchIndex) -> None:
    # Both words match only Bohemian Rhapsody.
    assert ids(index, "queen rhapsody") == ["t-bohemian"]
    # No document has both words: fall back to any word rather than nothing.
    assert set(ids(index, "wonderwall imagine")) == {"t-wonderwall", "t-imagine"}


def test_grouped_results_with_totals_and_paging(index: SearchIndex) -> None:
    result = index.search("queen", {"track", "artist", "album"}, limit=1, offset=0, user_id=None)
    assert set(result) == {"track", "artist", "album"}
    assert result["track"].total >= 2
    assert len(result["track"].hits) == 1
    assert result["artist"].hits[0][0] == "a-queen"
    page2 = index.search("queen", {"track"}, limit=1, offset=1, user_id=None)["track"].hits
    assert page2 and page2[0][0] != result["track"].hits[0][0]


@pytest.mark.parametrize("offset", [10**6, 2**62, 2**63 - 1])
def test_offsets_past_every_hit_are_empty_pages(index: SearchIndex, offset: int) -> None:
    # tantivy sizes its heap by the limit it is given (10^12 aborts the process, 2^62 panics): the index
    # never asks for more hits than it has documents.
    result = index.search("queen", {"track", "artist"}, limit=500, offset=offset, user_id=None)
    assert result["track"].hits == [] and result["track"].total >= 2


def test_upsert_replaces(index: SearchIndex) -> None:
    before = index.count()
    index.upsert([_track("t-imagine", "Instant Karma", ["John Lennon"])])
    assert index.count() == before
    assert ids(index, "karma") == ["t-imagine"]
    assert ids(index, "imagine") == []


def test_delete(index: SearchIndex) -> None:
    index.delete(["t-hotel"])
    assert ids(index, "hotel california") == []
    assert index.count() == len(CORPUS) - 1


def test_rebuild_swaps(tmp_path: Path) -> None:
    root = tmp_path / "s"
    idx = SearchIndex.open(root)
    idx.upsert(CORPUS)
    idx.rebuild(iter([_track("n-1", "Brand New Song", ["Newcomer"])]))
    assert not idx.needs_rebuild
    assert idx.count() == 1
    assert ids(idx, "brand") == ["n-1"]
    assert ids(idx, "home") == []
    # Writes after a rebuild go to the new generation, and a reopen sees the rebuilt one.
    idx.upsert([_track("n-2", "Second Song")])
    reopened = SearchIndex.open(root)
    assert not reopened.needs_rebuild
    assert reopened.count() == 2
    assert len([p for p in root.iterdir() if p.name.startswith("gen-")]) == 1


def test_private_playlist_visibility(index: SearchIndex) -> None:
    assert ids(index, "secret", "playlist", user_id="alice") == ["p-private"]
    assert ids(index, "secret", "playlist", user_id="bob") == []
    assert ids(index, "secret", "playlist", user_id=None) == []
    assert ids(index, "mix", "playlist", user_id="bob") == ["p-public"]


@pytest.mark.parametrize(
    "query",
    ['"', "title:", "(((", "a" * 10000, "\x00\x01", "!!!", "", "   ", "name:home AND (", "*", "~2", "\\", "🎵🎵"],
)
def test_hostile_inputs_never_raise(index: SearchIndex, query: str) -> None:
    result = index.search(query, {"track", "album", "artist", "playlist"}, limit=10, offset=0, user_id=None)
    assert set(result) == {"track", "album", "artist", "playlist"}


@pytest.mark.parametrize("query", ['"', "(((", "!!!", "", "\x00\x01"])
def test_punctuation_only_is_empty(index: SearchIndex, query: str) -> None:
    result = index.search(query, {"track"}, limit=10, offset=0, user_id=None)
    assert result["track"].hits == [] and result["track"].total == 0


def test_long_query_is_capped(index: SearchIndex) -> None:
    # 10 kB of words must not blow up and the leading words still count.
    index.search("home " * 2000, {"track"}, limit=5, offset=0, user_id=None)
    assert ids(index, "bohemian " + "x" * 5000)[:1] in ([], ["t-bohemian"])


def test_reopen_reregisters_tokenizers(tmp_path: Path) -> None:
    root = tmp_path / "s"
    first = SearchIndex.open(root)
    first.upsert(CORPUS)
    del first
    second = SearchIndex.open(root)
    assert not second.needs_rebuild
    assert second.count() == len(CORPUS)
    assert ids(second, "R.E.M.", "artist")[0] == "a-rem"
    # Writing through the reopened index uses the custom analyzer too.
    second.upsert([_track("t-new", "Été Nouveau")])
    assert ids(second, "ete nouveau") == ["t-new"]


def test_corrupt_index_opens_empty(tmp_path: Path) -> None:
    root = tmp_path / "s"
    idx = SearchIndex.open(root)
    idx.upsert(CORPUS)
    del idx
    for meta in root.glob("gen-*/meta.json"):
        meta.write_text("{ not json")
    reopened = SearchIndex.open(root)
    assert reopened.needs_rebuild
    assert reopened.count() == 0
    reopened.rebuild(CORPUS)
    assert ids(reopened, "home")[0] == "t-home"


def test_typo_matching_takes_the_words_some_item_has_as_typed(tmp_path: Path) -> None:
    # Typo matching walks four term dictionaries per word: it is kept for the words no item has. "hotel" is a
    # word of a title, so it is not also read as "hostel" (one edit away); "califronia" and "hostle" are typos.
    idx = SearchIndex.open(tmp_path / "s")
    idx.upsert([_track("t-hotel", "Hotel California", ["Eagles"]), _track("t-hostel", "Hostel Nights", ["Someone"])])
    assert ids(idx, "hotel") == ["t-hotel"]
    assert ids(idx, "hotel califronia") == ["t-hotel"]
    assert ids(idx, "hostle") == ["t-hostel"]
