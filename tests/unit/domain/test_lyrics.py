"""LRC parsing: the offset, enhanced LRC word timing, bad time stamps, languages."""

from __future__ import annotations

import pytest

from musicd.domain.lyrics import (
    lrc_language,
    lrc_offset,
    normalise_language,
    parse_lrc,
    parse_lyrics,
    plain_text,
)


def test_offset_is_reported_and_applied() -> None:
    text = "[ti:Song]\n[offset:+500]\n[00:01.00]One\n[00:02.50]Two\n[00:00.20]Zero"
    parsed = parse_lyrics(text)
    assert parsed.offset_ms == 500 == lrc_offset(text)
    assert [(ln.start_ms, ln.text) for ln in parsed.lines] == [(200, "Zero"), (1000, "One"), (2500, "Two")]
    # The offset applied: a positive offset makes the lyrics come earlier (never before 0).
    assert parse_lrc(text) == [(0, "Zero"), (500, "One"), (2000, "Two")]
    assert parse_lrc("[offset:-250]\n[00:01.00]Late") == [(1250, "Late")]


def test_enhanced_lrc_words() -> None:
    parsed = parse_lyrics("[00:10.00]<00:10.00>Hel<00:10.40>lo <00:11.00>world<00:12.00>\n[00:13.00]plain")
    first, second = parsed.lines
    assert first.text == "Hello world"
    assert [(w.start_ms, w.text) for w in first.words] == [(10000, "Hel"), (10400, "lo "), (11000, "world")]
    assert second.words == [] and second.text == "plain"


def test_bad_time_stamps_are_dropped_and_counted() -> None:
    text = "[00:01.00]good\n[00:75.00]seconds past 59\n[1:xx.00]not a number\n[ar:Artist]\n[00:02.00]fine\nplain"
    parsed = parse_lyrics(text)
    assert [ln.text for ln in parsed.lines] == ["good", "fine"]
    assert parsed.bad_lines == 2
    assert plain_text(text) == "good\nfine"


def test_several_stamps_on_one_line() -> None:
    assert parse_lrc("[00:05.00][00:01.00]chorus") == [(1000, "chorus"), (5000, "chorus")]


@pytest.mark.parametrize(("raw", "want"), [("eng", "eng"), ("EN", "en"), ("pt_BR", "pt-br"), ("XXX", None),
                                           ("und", None), ("", None), (None, None), ("english!", None)])
def test_languages(raw: str | None, want: str | None) -> None:
    assert normalise_language(raw) == want


def test_lrc_language_tag() -> None:
    assert lrc_language("[la:fr]\n[00:01.00]Bonjour") == "fr"
    assert lrc_language("[lang:ja]\n[00:01.00]x") == "ja"
    assert lrc_language("[00:01.00]x") is None
