"""Every client can play: /rest/stream and /v1 stream answer MP3, AAC and Opus when asked (not Ogg Vorbis),
decoded here by ffprobe as that format, with Range and timeOffset, and the Subsonic song fields say so."""

from __future__ import annotations

import json
import subprocess
import urllib.parse
from pathlib import Path
from typing import Any

import httpx
import libopensonic
import libsonic
import pytest

from tests.integration.subsonic_support import Sub
from tests.live import USERS, LiveServer

# format asked -> (ffprobe codec, ffprobe container, Content-Type)
EXPECT = {
    "mp3": ("mp3", "mp3", "audio/mpeg"),
    "aac": ("aac", "aac", "audio/aac"),
    "opus": ("opus", "ogg", "audio/ogg; codecs=opus"),
}


def probe(data: bytes, tmp: Path) -> dict[str, Any]:
    """What ffprobe makes of the bytes: codec, container, bitrate and the decoded duration."""
    f = tmp / "probe.bin"
    f.write_bytes(data)
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "stream=codec_name,sample_rate:format=format_name",
         "-of", "json", str(f)], capture_output=True, text=True, check=True)
    info = json.loads(out.stdout)
    # The decoded length: every packet decoded (a CBR guess from the header could hide a truncated file).
    dec = subprocess.run(["ffmpeg", "-v", "error", "-i", str(f), "-f", "null", "-"], capture_output=True, text=True)
    assert dec.returncode == 0 and not dec.stderr.strip(), dec.stderr
    dur = subprocess.run(["ffprobe", "-v", "error", "-count_packets", "-show_entries", "format=duration", "-of",
                          "csv=p=0", str(f)], capture_output=True, text=True, check=True).stdout.strip()
    return {"codec": info["streams"][0]["codec_name"], "container": info["format"]["format_name"],
            "duration": float(dur) if dur not in ("", "N/A") else None}


@pytest.fixture(scope="module")
def sub(live_server: LiveServer) -> Sub:
    return Sub(live_server.base, "alice", USERS["alice"][0])


@pytest.fixture(scope="module")
def songs(sub: Sub) -> dict[str, dict[str, Any]]:
    """Every song of the test library by title (one search3 for all)."""
    everything = {"query": "", "songCount": 500, "albumCount": 0, "artistCount": 0}
    return {s["title"]: s for s in sub.call("search3", everything)["searchResult3"]["song"]}


@pytest.mark.parametrize("fmt", ["mp3", "aac", "opus"])
def test_stream_format_decodes_as_that_format(sub: Sub, songs: dict[str, dict[str, Any]], fmt: str,
                                              tmp_path: Path) -> None:
    codec, container, ctype = EXPECT[fmt]
    song = songs["Northern Lights"]  # flac, 3 s
    live = sub.raw("stream", {"id": song["id"], "format": fmt, "maxBitRate": 128})
    assert live.status_code == 200 and live.headers["content-type"] == ctype
    got = probe(live.content, tmp_path)
    assert (got["codec"], got["container"]) == (codec, container)
    # again: now from the cache, byte for byte the same, with Range
    cached = sub.raw("stream", {"id": song["id"], "format": fmt, "maxBitRate": 128})
    assert cached.content == live.content and cached.headers["accept-ranges"] == "bytes"
    part = sub.raw("stream", {"id": song["id"], "format": fmt, "maxBitRate": 128}, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == live.content[100:200]
    assert part.headers["content-type"] == ctype
    # a seek: the same format, a second shorter
    seek = sub.raw("stream", {"id": song["id"], "format": fmt, "maxBitRate": 128, "timeOffset": 1})
    assert seek.status_code == 200 and seek.headers["content-type"] == ctype
    sought = probe(seek.content, tmp_path)
    assert sought["codec"] == codec
    assert got["duration"] and sought["duration"] and 0.6 < got["duration"] - sought["duration"] < 1.4


def test_ranged_request_into_a_tier_not_made_yet(sub: Sub, songs: dict[str, dict[str, Any]], tmp_path: Path) -> None:
    song = songs["Midnight Sun"]  # flac
    part = sub.raw("stream", {"id": song["id"], "format": "aac", "maxBitRate": 320}, headers={"Range": "bytes=10-49"})
    assert part.status_code == 206 and part.headers["content-type"] == "audio/aac"
    whole = sub.raw("stream", {"id": song["id"], "format": "aac", "maxBitRate": 320})
    assert whole.content[10:50] == part.content and probe(whole.content, tmp_path)["codec"] == "aac"


def test_bitrate_limit_alone_answers_mp3(sub: Sub, songs: dict[str, dict[str, Any]], tmp_path: Path) -> None:
    # iOS apps and cars send maxBitRate without a format: they get MP3, not Ogg
    r = sub.raw("stream", {"id": songs["Κύματα"]["id"], "maxBitRate": 128})  # wav
    assert r.status_code == 200 and r.headers["content-type"] == "audio/mpeg"
    assert probe(r.content, tmp_path)["codec"] == "mp3"
    # an Ogg Vorbis source below every tier still becomes MP3 when MP3 is asked for
    r = sub.raw("stream", {"id": songs["Звезда"]["id"], "format": "mp3", "maxBitRate": 320})
    assert r.status_code == 200 and probe(r.content, tmp_path)["codec"] == "mp3"
    # an mp3 source within the limit is sent as it is
    spring = songs["Spring"]
    assert sub.raw("stream", {"id": spring["id"], "format": "mp3", "maxBitRate": 320}).headers["content-type"] \
        == "audio/mpeg"


def test_v1_stream_format(live_server: LiveServer, songs: dict[str, dict[str, Any]], tmp_path: Path) -> None:
    token = live_server.token("alice")
    with httpx.Client(base_url=live_server.base, headers={"Authorization": f"Bearer {token}"}, timeout=60) as c:
        tid = songs["Fjord Song"]["id"]
        for fmt, (codec, _, ctype) in EXPECT.items():
            r = c.get(f"/v1/tracks/{tid}/stream", params={"quality": "low", "format": fmt})
            assert r.status_code == 200 and r.headers["content-type"] == ctype
            assert probe(r.content, tmp_path)["codec"] == codec
        ogg = c.get(f"/v1/tracks/{tid}/stream", params={"quality": "low"})
        assert ogg.headers["content-type"] == "audio/ogg" and probe(ogg.content, tmp_path)["codec"] == "vorbis"
        bad = c.get(f"/v1/tracks/{tid}/stream", params={"quality": "low", "format": "wma"})
        assert bad.status_code == 400 and bad.json()["error"]["status"] == 400


def test_song_fields_with_real_clients(live_server: LiveServer, songs: dict[str, dict[str, Any]]) -> None:
    u = urllib.parse.urlsplit(live_server.base)
    ps = libsonic.Connection(f"http://{u.hostname}", "alice", USERS["alice"][0], port=u.port or 80,
                             serverPath="/rest", appName="musicd-tests")
    flac = ps.getSong(songs["Northern Lights"]["id"])["song"]
    assert (flac["suffix"], flac["contentType"]) == ("flac", "audio/flac")
    assert (flac["transcodedSuffix"], flac["transcodedContentType"]) == ("mp3", "audio/mpeg")
    mp3 = ps.getSong(songs["Spring"]["id"])["song"]
    assert (mp3["suffix"], mp3["contentType"]) == ("mp3", "audio/mpeg") and "transcodedSuffix" not in mp3
    os_ = libopensonic.Connection(f"http://{u.hostname}", "alice", USERS["alice"][0], port=u.port or 80,
                                  app_name="musicd-tests")
    m4a = os_.get_song(songs["夜明け"]["id"])
    assert (m4a.suffix, m4a.content_type) == ("m4a", "audio/mp4")
    assert (m4a.transcoded_suffix, m4a.transcoded_content_type) == ("mp3", "audio/mpeg")
