from __future__ import annotations

import pytest

from musicd.domain.lyrics import is_synced, parse_lrc, plain_text
from musicd.domain.tags import group_key, parse_gain, parse_number_pair, parse_year, split_artists


@pytest.mark.parametrize(
    ("tag", "want"),
    [
        ("Röyksopp feat. Kari Nordmann", ["Röyksopp", "Kari Nordmann"]),
        ("A ft. B", ["A", "B"]),
        ("A featuring B", ["A", "B"]),
        ("A Feat. B", ["A", "B"]),
        ("A (feat. X & Y)", ["A", "X", "Y"]),
        ("A [feat. X, Y and Z]", ["A", "X", "Y", "Z"]),
        ("Simon & Garfunkel", ["Simon & Garfunkel"]),
        ("Simon & Garfunkel feat. Z", ["Simon & Garfunkel", "Z"]),
        ("Solo", ["Solo"]),
        ("", []),
        (None, []),
    ],
)
def test_split_artists(tag: str | None, want: list[str]) -> None:
    assert split_artists(tag) == want


def test_artists_tag_wins() -> None:
    assert split_artists("A feat. B", ["X", " Y ", "X", ""]) == ["X", "Y"]
    assert split_artists("A feat. B", []) == ["A", "B"]


@pytest.mark.parametrize(
    ("value", "want"),
    [("3/12", (3, 12)), ("3", (3, None)), (" 04 / 10 ", (4, 10)), ("", (None, None)), (None, (None, None)),
     ("junk", (None, None)), ("0/0", (None, None)), ("2/x", (2, None))],
)
def test_parse_number_pair(value: str | None, want: tuple[int | None, int | None]) -> None:
    assert parse_number_pair(value) == want


@pytest.mark.parametrize(
    ("value", "want"),
    [("2001", (2001, "2001")), ("2001-05-03", (2001, "2001-05-03")), ("2001-05-03T10:00", (2001, "2001-05-03")),
     ("2001-05", (2001, "2001-05")), ("", (None, None)), (None, (None, None)), ("abc", (None, None)),
     ("0999", (None, None))],
)
def test_parse_year(value: str | None, want: tuple[int | None, str | None]) -> None:
    assert parse_year(value) == want


@pytest.mark.parametrize(
    ("value", "want"),
    [("-6.50 dB", -6.5), ("+2.1 dB", 2.1), ("3", 3.0), ("", None), (None, None), ("dB", None)],
)
def test_parse_gain(value: str | None, want: float | None) -> None:
    assert parse_gain(value) == want


def test_group_key() -> None:
    assert group_key("Greatest  Hits") == group_key("greatest hits")
    assert group_key(" R.E.M. ") == "r.e.m."
    assert group_key("Été") != group_key("Ete")
    assert group_key("E\u0301te\u0301") == group_key("Été")  # NFD and NFC group together
    assert group_key("STRASSE") == group_key("straße")


def test_parse_lrc_multiple_stamps_and_offset() -> None:
    text = "[ar:Someone]\n[offset:+500]\n[00:01.00][00:10.00]Chorus\n[00:05.5]Verse\n\n[01:02.123]End\n"
    assert parse_lrc(text) == [(500, "Chorus"), (5000, "Verse"), (9500, "Chorus"), (61623, "End")]
    assert is_synced(text)


def test_parse_lrc_negative_offset_and_plain() -> None:
    assert parse_lrc("[offset:-250]\n[00:00.00]Start") == [(250, "Start")]
    assert not is_synced("just words\nmore words")
    assert plain_text("  just words\n") == "just words"
    assert plain_text("[00:02.00]b\n[00:01.00]a") == "a\nb"
