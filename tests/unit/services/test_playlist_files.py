"""M3U/XSPF parsing and matching imported lines to library tracks (pure, no database)."""

from __future__ import annotations

import pytest

from musicd.errors import ValidationError
from musicd.services.playlist_files import ImportEntry, TrackMatcher, parse_playlist
from musicd.store.playlists import TrackKey

KEYS = [
    TrackKey("T1", "/music", "/music/Artist/Album/01 Intro.flac", "Intro", "Artist", "Album"),
    TrackKey("T2", "/music", "/music/Other/Record/01 Intro.flac", "Intro", "Other", "Record"),
    TrackKey("T3", "/music", "/music/Artist/Album/02 Song - Live.mp3", "Song - Live", "Artist", "Album"),
    TrackKey("T4", "/music", "/music/Artist/Best Of/02 Song - Live.mp3", "Song - Live", "Artist", "Best Of"),
]


@pytest.fixture
def m() -> TrackMatcher:
    return TrackMatcher(KEYS)


def test_paths_relative_absolute_url_and_windows(m: TrackMatcher) -> None:
    assert m.match(ImportEntry(0, location="Artist/Album/01 Intro.flac")) == "T1"
    assert m.match(ImportEntry(0, location="/music/Other/Record/01 Intro.flac")) == "T2"
    assert m.match(ImportEntry(0, location="/elsewhere/Other/Record/01 Intro.flac")) == "T2"
    assert m.match(ImportEntry(0, location="file:///mnt/x/Artist/Album/01%20Intro.flac")) == "T1"
    assert m.match(ImportEntry(0, location="C:\\Music\\Artist\\Album\\01 Intro.flac")) == "T1"
    assert m.match(ImportEntry(0, location="./album/01 intro.FLAC")) == "T1"  # case-insensitive parts


def test_an_ambiguous_file_name_alone_matches_nothing(m: TrackMatcher) -> None:
    assert m.match(ImportEntry(0, location="01 Intro.flac")) is None
    assert m.match(ImportEntry(0, location="/x/y/01 Intro.flac")) is None


def test_ids_then_names(m: TrackMatcher) -> None:
    assert m.match(ImportEntry(0, identifier="musicd:track:T3", location="nowhere.mp3")) == "T3"
    assert m.match(ImportEntry(0, location="spotify:track:T4")) == "T4"
    assert m.match(ImportEntry(0, title="song - live", artist="ARTIST", album="Best Of")) == "T4"
    assert m.match(ImportEntry(0, title="Song - Live", artist="Artist")) in ("T3", "T4")
    # "Artist - Song - Live": every split of the #EXTINF text is tried.
    assert m.match(ImportEntry(0, extinf="Artist - Song - Live", album="Album")) == "T3"
    assert m.match(ImportEntry(0, title="Unknown", artist="Nobody")) is None


def test_parse_m3u_extended_and_plain() -> None:
    text = "#EXTM3U\n#PLAYLIST:My list\n#EXTINF:123,A - B\n#EXTALB:Al\na/b.mp3\n\n# comment\nc/d.flac\n"
    p = parse_playlist(text.encode())
    assert p.name == "My list"
    assert p.entries == [ImportEntry(0, location="a/b.mp3", extinf="A - B", album="Al"),
                         ImportEntry(1, location="c/d.flac")]
    latin = parse_playlist("Bj\xf6rk/Hom\xe9genic/01.mp3\n".encode("latin-1"))
    assert latin.entries[0].location == "Björk/Homégenic/01.mp3"
    with pytest.raises(ValidationError):
        parse_playlist(b"\x00\x01\x02")


def test_parse_xspf_with_and_without_namespace() -> None:
    doc = (b'<?xml version="1.0"?><playlist version="1" xmlns="http://xspf.org/ns/0/"><title>T</title>'
           b"<annotation>D</annotation><trackList><track><location>a%20b.mp3</location><title>S</title>"
           b"<creator>A</creator><album>L</album><identifier>musicd:track:X</identifier></track></trackList>"
           b"</playlist>")
    p = parse_playlist(doc)
    assert (p.name, p.description) == ("T", "D")
    assert p.entries == [ImportEntry(0, location="a%20b.mp3", title="S", artist="A", album="L",
                                     identifier="musicd:track:X")]
    bare = parse_playlist(b"<playlist><trackList><track><title>x</title></track></trackList></playlist>")
    assert bare.entries[0].title == "x"
    for bad in (b"<playlist><trackList>", b"<?xml version='1.0'?><rss/>",
                b'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY e SYSTEM "file:///etc/passwd">]><playlist>&e;</playlist>'):
        with pytest.raises(ValidationError):
            parse_playlist(bad)
