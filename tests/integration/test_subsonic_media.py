"""stream, download, getCoverArt and lyrics through /rest, checked against the files of the test library."""

from __future__ import annotations

from typing import Any

import pytest

from musicd.devtools.library_builder import BuiltLibrary
from tests.integration.subsonic_support import Sub
from tests.live import USERS, LiveServer


@pytest.fixture(scope="module")
def sub(live_server: LiveServer) -> Sub:
    return Sub(live_server.base, "alice", USERS["alice"][0])


@pytest.fixture(scope="module")
def songs(sub: Sub) -> dict[str, dict[str, Any]]:
    return {s["title"]: s for s in sub.call("search3", {"query": "", "songCount": 500, "albumCount": 0,
                                                        "artistCount": 0})["searchResult3"]["song"]}


def test_stream_raw_range_and_transcode(sub: Sub, songs: dict[str, dict[str, Any]], built_library: BuiltLibrary
                                        ) -> None:
    song = songs["Spring"]  # mp3
    data = (built_library.root / song["path"]).read_bytes()
    for params in ({"id": song["id"]}, {"id": song["id"], "format": "raw"}):
        r = sub.raw("stream", params)
        assert r.status_code == 200 and r.content == data
        assert r.headers["content-type"] == "audio/mpeg" and r.headers["accept-ranges"] == "bytes"
    r = sub.raw("stream", {"id": song["id"]}, headers={"Range": "bytes=100-199"})
    assert r.status_code == 206 and r.content == data[100:200]
    assert r.headers["content-range"] == f"bytes 100-199/{len(data)}"
    r = sub.raw("stream", {"id": song["id"]}, http="POST")
    assert r.status_code == 200 and r.content == data
    r = sub.raw("stream", {"id": song["id"]}, http="HEAD")
    assert r.status_code == 200 and int(r.headers["content-length"]) == len(data) and not r.content
    ogg = sub.raw("stream", {"id": songs["Northern Lights"]["id"], "format": "ogg", "maxBitRate": 96})
    assert ogg.status_code == 200 and ogg.content[:4] == b"OggS" and b"vorbis" in ogg.content[:100]
    # a tier not made yet: with estimateContentLength the length is known before the body is sent
    exact = sub.raw("stream", {"id": songs["Polar Drift"]["id"], "format": "ogg", "maxBitRate": 96,
                               "estimateContentLength": "true"})
    assert exact.content[:4] == b"OggS" and int(exact.headers["content-length"]) == len(exact.content)
    offset = sub.raw("stream", {"id": songs["Polar Drift"]["id"], "format": "ogg", "maxBitRate": 96,
                                "timeOffset": 1})
    assert offset.status_code == 200 and offset.content[:4] == b"OggS" and len(offset.content) < len(exact.content)
    assert sub.error("stream", {"id": "nope"}) == 70
    assert sub.error("stream") == 10


def test_download_and_cover_art(sub: Sub, songs: dict[str, dict[str, Any]], built_library: BuiltLibrary) -> None:
    song = songs["Northern Lights"]
    r = sub.raw("download", {"id": song["id"]})
    assert r.status_code == 200 and r.content == (built_library.root / song["path"]).read_bytes()
    assert r.headers["content-disposition"].startswith("attachment")
    cover = sub.raw("getCoverArt", {"id": song["coverArt"]})
    assert cover.status_code == 200 and cover.headers["content-type"].startswith("image/")
    small = sub.raw("getCoverArt", {"id": song["coverArt"], "size": 32})
    assert small.status_code == 200 and small.content[:4] in (b"\x89PNG", b"\xff\xd8\xff\xe0", b"\xff\xd8\xff\xdb")
    # some clients send the album's or the song's id as the cover art id
    by_album = sub.raw("getCoverArt", {"id": song["albumId"]})
    assert by_album.status_code == 200 and by_album.content == cover.content
    assert sub.error("getCoverArt", {"id": "nope"}) == 70
    assert sub.error("getCoverArt", {"id": songs["Take Me Home"]["albumId"]}) == 70  # an album with no cover
    assert sub.error("getAvatar", {"username": "alice"}) == 70


def test_lyrics(sub: Sub, songs: dict[str, dict[str, Any]]) -> None:
    plain = sub.xml("getLyrics", {"artist": "Röyksopp", "title": "Fjord Song"})
    assert plain[0].text and plain[0].text.startswith("Cold water under a silver sky")
    ly = sub.call("getLyrics", {"artist": "Été Çiçek", "title": "Crème brûlée"})["lyrics"]
    assert ly["value"] and "[" not in ly["value"] and ly["title"] == "Crème brûlée"
    # the OpenSubsonic songId form, and nothing found: an element with an empty value
    assert sub.call("getLyrics", {"songId": songs["Fjord Song"]["id"]})["lyrics"]["value"].startswith("Cold water")
    assert sub.call("getLyrics", {"artist": "Nobody", "title": "Nothing"})["lyrics"]["value"] == ""
    synced = sub.call("getLyricsBySongId", {"id": songs["Crème brûlée"]["id"]})["lyricsList"]["structuredLyrics"]
    assert synced[0]["synced"] is True and synced[0]["line"][0]["start"] >= 0
    assert synced[0]["displayTitle"] == "Crème brûlée" and "kind" not in synced[0]
    assert all(line["value"] and "[" not in line["value"] for line in synced[0]["line"])
    sub.xml("getLyricsBySongId", {"id": songs["Crème brûlée"]["id"], "enhanced": "true"})
    enhanced = sub.call("getLyricsBySongId", {"id": songs["Crème brûlée"]["id"], "enhanced": "true"})
    assert enhanced["lyricsList"]["structuredLyrics"][0]["kind"] == "main"
    unsynced = sub.call("getLyricsBySongId", {"id": songs["Fjord Song"]["id"]})["lyricsList"]["structuredLyrics"]
    assert unsynced[0]["synced"] is False and "start" not in unsynced[0]["line"][0]
    assert [x["value"] for x in unsynced[0]["line"]][:2] == ["Cold water under a silver sky", "The fjord is singing"]
    assert sub.call("getLyricsBySongId", {"id": songs["Spring"]["id"]})["lyricsList"]["structuredLyrics"] == []
    assert sub.error("getLyricsBySongId", {"id": "nope"}) == 70
