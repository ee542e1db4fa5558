"""The artist index keys: articles skipped, sort names honoured, case and accents folded."""

from __future__ import annotations

from musicd.domain.catalog import index_letter, index_sort_key


def test_index_sort_key_skips_articles_and_folds() -> None:
    assert index_sort_key("The Beatles") == "beatles"
    assert index_sort_key("Los Lobos") == "lobos"
    assert index_sort_key("The") == "the"  # an article alone is a name
    assert index_sort_key("a-ha") == "a-ha"
    assert index_sort_key("Été Çiçek") == "ete cicek"
    assert index_sort_key("Beatles, The", "Beatles") == "beatles"
    names = ["The Zombies", "ABBA", "Élan", "the Beatles"]
    assert sorted(names, key=index_sort_key) == ["ABBA", "the Beatles", "Élan", "The Zombies"]


def test_index_letter() -> None:
    assert index_letter("The Beatles") == "B"
    assert index_letter("Été Çiçek") == "E"
    assert index_letter("2Pac") == "#"
    assert index_letter("...And You Will Know Us") == "#"
    assert index_letter("Виктор Орлов") == "В"
    assert index_letter("山田花子") == "山"
