"""Lyrics, one service for every client: a sidecar .lrc wins over embedded tags, several languages per track,
the LRC offset (applied for /v1, reported as OpenSubsonic's `offset`), lyrics users add or fix (kept in
the database, never in the files, surviving a rescan), and files with bad time stamps."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from mutagen.id3 import ID3, SYLT, TIT2, TPE1, USLT

from musicd.devtools.library_builder import encode_tone
from musicd.library.reader import read_track
from tests.integration.subsonic_support import Sub
from tests.live import USERS, LiveServer, start_server

SIDECAR = "[la:de]\n[offset:+250]\n[00:01.00]Sidecar eins\n[00:02.00]<00:02.00>Zwei <00:02.50>Wörter\n"
BAD = "[00:01.00]fine\n[00:99.00]past sixty\n[aa:bb.cc]letters\n[00:03.00]also fine\n"


def _mp3(path: Path, title: str, frames: list[object]) -> None:
    encode_tone(path, "mp3", 4.0)
    tags = ID3()
    tags.add(TIT2(encoding=3, text=title))
    tags.add(TPE1(encoding=3, text="Lyricist"))
    for f in frames:
        tags.add(f)
    tags.save(path)


@pytest.fixture(scope="module")
def lyrics_library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("lyrics") / "Music" / "Lyricist" / "Words"
    root.mkdir(parents=True)
    two_langs = [USLT(encoding=3, lang="eng", desc="", text="Hello world\nSecond line"),
                 USLT(encoding=3, lang="fra", desc="", text="Bonjour le monde"),
                 SYLT(encoding=3, lang="eng", format=2, type=1, text=[("Hello world", 1000), ("Second line", 2000)])]
    _mp3(root / "01 Two Languages.mp3", "Two Languages", two_langs)
    _mp3(root / "02 Sidecar Wins.mp3", "Sidecar Wins", [USLT(encoding=3, lang="eng", desc="", text="embedded text")])
    (root / "02 Sidecar Wins.lrc").write_text(SIDECAR)
    _mp3(root / "03 Bad Stamps.mp3", "Bad Stamps", [])
    (root / "03 Bad Stamps.lrc").write_text(BAD)
    _mp3(root / "04 No Lyrics.mp3", "No Lyrics", [])
    return root.parent.parent


def test_reader_languages_and_sidecar(lyrics_library: Path, tmp_path: Path) -> None:
    folder = lyrics_library / "Lyricist" / "Words"
    two = folder / "01 Two Languages.mp3"
    t = read_track(str(two), two.stat().st_size, 0, tmp_path)
    assert t.lyrics is not None and t.lyrics.lang == "eng" and t.lyrics.synced  # SYLT beats USLT of a language
    assert [(x.lang, x.text) for x in t.more_lyrics] == [("fra", "Bonjour le monde")]
    side = folder / "02 Sidecar Wins.mp3"
    s = read_track(str(side), side.stat().st_size, 0, tmp_path, str(folder / "02 Sidecar Wins.lrc"))
    assert s.lyrics is not None and s.lyrics.source == "lrc" and s.lyrics.lang == "de" and s.more_lyrics == []


@pytest.fixture(scope="module")
def server(lyrics_library: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with start_server(tmp_path_factory.mktemp("lyrics-live"), lyrics_library) as srv:
        yield srv


def _ids(srv: LiveServer) -> dict[str, str]:
    with srv.client("alice") as c:
        items = c.get("/v1/search", params={"q": "lyricist", "type": "track", "limit": 10}).json()["tracks"]["items"]
    return {t["name"]: t["id"] for t in items}


def test_languages_offset_and_words_for_every_client(server: LiveServer) -> None:
    ids = _ids(server)
    with server.client("alice") as c:
        two = c.get(f"/v1/tracks/{ids['Two Languages']}/lyrics").json()
        assert two["lang"] == "eng" and two["synced"] and [x["lang"] for x in two["languages"]] == ["eng", "fra"]
        fr = c.get(f"/v1/tracks/{ids['Two Languages']}/lyrics", params={"lang": "fr"}).json()
        assert fr["lang"] == "fra" and fr["text"] == "Bonjour le monde" and fr["synced"] is False
        side = c.get(f"/v1/tracks/{ids['Sidecar Wins']}/lyrics").json()
        assert side["source"] == "lrc" and side["offset_ms"] == 250 and [x["lang"] for x in side["languages"]] == ["de"]
        # /v1 applies the offset: a line at 1.00 s shows at 0.75 s; its words too.
        assert [(ln["start_ms"], ln["text"]) for ln in side["lines"]] == [(750, "Sidecar eins"), (1750, "Zwei Wörter")]
        assert [(w["start_ms"], w["text"]) for w in side["lines"][1]["words"]] == [(1750, "Zwei "), (2250, "Wörter")]
        bad = c.get(f"/v1/tracks/{ids['Bad Stamps']}/lyrics").json()
        assert [ln["text"] for ln in bad["lines"]] == ["fine", "also fine"] and bad["bad_lines"] == 2
    sub = Sub(server.base, "alice", USERS["alice"][0])
    got = sub.call("getLyricsBySongId", {"id": ids["Sidecar Wins"]})["lyricsList"]["structuredLyrics"]
    # OpenSubsonic: the file's times and the offset for the client to apply.
    assert got[0]["offset"] == 250 and [ln["start"] for ln in got[0]["line"]] == [1000, 2000]
    assert got[0]["lang"] == "de"
    both = sub.call("getLyricsBySongId", {"id": ids["Two Languages"], "enhanced": "true"})["lyricsList"]
    assert [(x["lang"], x["kind"]) for x in both["structuredLyrics"]] == [("eng", "main"), ("fra", "translation")]
    assert sub.call("getLyrics", {"artist": "Lyricist", "title": "Sidecar Wins"})["lyrics"]["value"] == \
        "Sidecar eins\nZwei Wörter"


def test_users_add_and_fix_lyrics_in_the_database(server: LiveServer, lyrics_library: Path) -> None:
    ids = _ids(server)
    files = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in lyrics_library.rglob("*") if p.is_file()}
    none_id = ids["No Lyrics"]
    with server.client("bob") as bob, server.client("guest") as guest, server.client("alice") as alice:
        assert bob.get(f"/v1/tracks/{none_id}/lyrics").json()["text"] is None
        r = guest.put(f"/v1/tracks/{none_id}/lyrics", json={"text": "[00:01.00]guest"})
        assert r.status_code == 403
        added = {"text": "[offset:-500]\n[00:01.00]Added by Bob", "lang": "en"}
        r = bob.put(f"/v1/tracks/{none_id}/lyrics", json=added)
        assert r.status_code == 200 and r.json()["source"] == "user" and r.json()["lines"][0]["start_ms"] == 1500
        # Everyone sees it, in every API.
        assert alice.get(f"/v1/tracks/{none_id}/lyrics").json()["text"].endswith("Added by Bob")
        sub = Sub(server.base, "alice", USERS["alice"][0])
        entry = sub.call("getLyricsBySongId", {"id": none_id})["lyricsList"]["structuredLyrics"][0]
        assert entry["offset"] == -500 and entry["lang"] == "en"
        found = alice.get("/v1/search", params={"q": "added by bob", "type": "track"}).json()["tracks"]["items"]
        assert [t["id"] for t in found] == [none_id]
        # A fix in the file's language replaces the file's text for everyone; removing it brings it back.
        fix = bob.put(f"/v1/tracks/{ids['Two Languages']}/lyrics", json={"text": "Bonjour, corrigé", "lang": "fra"})
        assert fix.status_code == 200
        fr = alice.get(f"/v1/tracks/{ids['Two Languages']}/lyrics", params={"lang": "fra"}).json()
        assert fr["text"] == "Bonjour, corrigé" and fr["source"] == "user"
        for bad in ({"text": ""}, {"text": "x" * 100_001}, {"text": "ok", "lang": "not a language"}):
            assert bob.put(f"/v1/tracks/{none_id}/lyrics", json=bad).status_code == 400
        assert bob.put("/v1/tracks/0000000000000000000000/lyrics", json={"text": "x"}).status_code == 404
        # A rescan that re-reads the file keeps what users wrote.
        song = next(lyrics_library.rglob("04 No Lyrics.mp3"))
        os.utime(song, (time.time() + 5, time.time() + 5))
        with server.client("admin") as admin:
            assert admin.post("/v1/admin/scan").status_code == 202
            deadline = time.monotonic() + 30
            while admin.get("/v1/admin/scan").json()["running"] and time.monotonic() < deadline:
                time.sleep(0.2)
            assert admin.get("/v1/admin/scan").json()["last"]["updated"] == 1
        assert alice.get(f"/v1/tracks/{none_id}/lyrics").json()["text"].endswith("Added by Bob")
        assert bob.delete(f"/v1/tracks/{ids['Two Languages']}/lyrics", params={"lang": "fra"}).status_code == 204
        assert alice.get(f"/v1/tracks/{ids['Two Languages']}/lyrics", params={"lang": "fra"}).json()["text"] == \
            "Bonjour le monde"
        assert bob.delete(f"/v1/tracks/{ids['Two Languages']}/lyrics", params={"lang": "fra"}).status_code == 404
    assert {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in lyrics_library.rglob("*") if p.is_file()} == files
