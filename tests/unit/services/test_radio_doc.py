"""docs/radio.md is the station protocol: its kinds table, its examples and its limits are what the parser
accepts, and its sequence rules are the radio's constants."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from musicd.domain.recommend import STATION_KINDS
from musicd.errors import ValidationError
from musicd.services.radio import ARTIST_GAP, REPEAT_GAP
from musicd.services.stations import MAX_AFTER, parse_station

DOC = (Path(__file__).resolve().parents[3] / "docs" / "radio.md").read_text()


def test_kinds_table_is_what_the_parser_knows() -> None:
    table = re.findall(r"^\| `([a-z]+)` +\|", DOC, re.M)
    assert tuple(table) == STATION_KINDS


def test_examples_parse_and_other_forms_are_refused() -> None:
    examples = re.findall(r"`((?:spotify|musicd):station:[a-z]+:[0-9A-Za-z_-]+)`", DOC)
    assert len(examples) >= 2
    for uri in examples:
        ref = parse_station(uri)
        assert ref.uri == uri
    assert parse_station("musicd:station:genre:ambient").uri == "spotify:station:genre:ambient"
    for bad in ("spotify:station:song:abc", "spotify:station:track:a/b", "spotify:station:track:" + "a" * 129,
                "spotify:track:abc", ""):
        with pytest.raises(ValidationError) as e:
            parse_station(bad)
        assert e.value.code == "bad_station"


def test_sequence_rules_match_the_text() -> None:
    assert f"never comes back within {REPEAT_GAP} positions" in DOC
    assert f"twice within {ARTIST_GAP} positions" in DOC
    assert f"`offset` 0 to {MAX_AFTER}" in DOC


def test_playback_paging_matches_the_text() -> None:
    from musicd.services.player import STATION_LOW, STATION_PAGE, is_station_uri

    assert f"first {STATION_PAGE} tracks and appends the next {STATION_PAGE}" in DOC
    assert f"fewer than {STATION_LOW} are left" in DOC
    assert all(is_station_uri(u) for u in re.findall(r"`((?:spotify|musicd):station:[a-z]+:[0-9A-Za-z_-]+)`", DOC))
