"""Streaming over real HTTP (granian in a subprocess): Range forms byte for byte, HEAD, ETags,
every source format, tiers made on the fly and then served from the cache, shared transcodes,
damaged sources, seeking, signed stream URLs, downloads, zips and cover images."""

from __future__ import annotations

import io
import re
import shutil
import sqlite3
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import unquote

import httpx
import pytest
from mutagen.oggvorbis import OggVorbis
from PIL import Image

from musicd.devtools.library_builder import FORMATS, BuiltLibrary
from tests.live import LiveServer, start_server


@pytest.fixture(scope="module")
def srv(built_library: BuiltLibrary, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server of our own on a private copy of the library (one test damages a file), with no
    background transcoding, so which tiers are cached depends only on these tests."""
    work = tmp_path_factory.mktemp("streaming")
    lib = work / "Music"
    shutil.copytree(built_library.root, lib)
    with start_server(work, lib, MUSICD_TRANSCODE_PRE_TRANSCODE="false") as server:
        yield server


def rows(srv: LiveServer, sql: str, params: tuple[object, ...] = ()) -> list[tuple]:  # type: ignore[type-arg]
    with sqlite3.connect(f"file:{srv.data_dir / 'musicd.db'}?mode=ro", uri=True) as db:
        return db.execute(sql, params).fetchall()


def track_of(srv: LiveServer, fmt: str, offset: int = 0) -> tuple[str, Path]:
    r = rows(srv, "SELECT id, path FROM tracks WHERE format = ? ORDER BY duration DESC, id LIMIT 1 OFFSET ?",
             (fmt, offset))
    assert r, fmt
    return r[0][0], Path(r[0][1])


def metric(srv: LiveServer, name: str, label: str) -> float:
    text = httpx.get(f"{srv.base}/metrics", timeout=10).text
    m = re.search(rf'^{name}\{{result="{label}"\}} ([0-9.e+]+)$', text, re.MULTILINE)
    return float(m.group(1)) if m else 0.0


def test_every_format_byte_exact(srv: LiveServer) -> None:
    with srv.client("alice") as c:
        for fmt in FORMATS:
            tid, path = track_of(srv, fmt)
            r = c.get(f"/v1/tracks/{tid}/stream", params={"quality": "original"})
            assert r.status_code == 200, (fmt, r.text)
            assert r.content == path.read_bytes(), fmt
            assert r.headers["content-length"] == str(path.stat().st_size)
            assert r.headers["accept-ranges"] == "bytes"
            assert r.headers["etag"].startswith('"')
            assert "max-age" in r.headers["cache-control"]
            want = {"mp3": "audio/mpeg", "flac": "audio/flac", "ogg": "audio/ogg", "opus": "audio/ogg; codecs=opus",
                    "m4a": "audio/mp4", "wav": "audio/wav", "aiff": "audio/aiff"}[fmt]
            assert r.headers["content-type"] == want


def test_every_range_form(srv: LiveServer) -> None:
    tid, path = track_of(srv, "flac")
    data, size = path.read_bytes(), path.stat().st_size
    url = f"/v1/tracks/{tid}/stream?quality=original"
    with srv.client("alice") as c:
        for header, lo, hi in (("bytes=1000-1999", 1000, 1999), ("bytes=1000-", 1000, size - 1),
                               ("bytes=-500", size - 500, size - 1), ("bytes=0-0", 0, 0),
                               (f"bytes={size - 10}-{size + 100}", size - 10, size - 1)):
            r = c.get(url, headers={"Range": header})
            assert r.status_code == 206, header
            assert r.headers["content-range"] == f"bytes {lo}-{hi}/{size}"
            assert r.headers["content-length"] == str(hi - lo + 1)
            assert r.content == data[lo : hi + 1], header

        r = c.get(url, headers={"Range": "bytes=0-99, 200-299, -50"})
        assert r.status_code == 206
        m = re.match(r"multipart/byteranges; boundary=(\S+)", r.headers["content-type"])
        assert m
        parts = r.content.split(b"--" + m.group(1).encode())
        assert parts[-1] == b"--\r\n"
        got = []
        for part in parts[1:-1]:
            head, _, body = part.partition(b"\r\n\r\n")
            cr = re.search(rb"Content-Range: bytes (\d+)-(\d+)/(\d+)", head)
            assert cr and int(cr.group(3)) == size and b"Content-Type: audio/flac" in head
            lo, hi = int(cr.group(1)), int(cr.group(2))
            assert body.removesuffix(b"\r\n") == data[lo : hi + 1]
            got.append((lo, hi))
        assert got == [(0, 99), (200, 299), (size - 50, size - 1)]
        assert int(r.headers["content-length"]) == len(r.content)

        r = c.get(url, headers={"Range": f"bytes={size}-"})
        assert r.status_code == 416
        assert r.headers["content-range"] == f"bytes */{size}"
        assert r.json()["error"]["code"] == "range_not_satisfiable"

        r = c.get(url, headers={"Range": "bytes=5-1"})  # invalid: ignored, whole body
        assert r.status_code == 200 and r.content == data

        etag = r.headers["etag"]
        r = c.get(url, headers={"Range": "bytes=10-19", "If-Range": '"stale"'})
        assert r.status_code == 200 and r.content == data, "a stale If-Range gets the whole new body"
        r = c.get(url, headers={"Range": "bytes=10-19", "If-Range": etag})
        assert r.status_code == 206 and r.content == data[10:20]
        r = c.get(url, headers={"If-None-Match": etag})
        assert r.status_code == 304 and r.content == b"" and r.headers["etag"] == etag

        h = c.head(url)
        assert h.status_code == 200 and h.content == b""
        assert h.headers["content-length"] == str(size) and h.headers["etag"] == etag
        h = c.head(url, headers={"Range": "bytes=10-19"})
        assert h.status_code == 206 and h.headers["content-range"] == f"bytes 10-19/{size}" and h.content == b""


def test_tier_live_then_cached(srv: LiveServer) -> None:
    tid, _ = track_of(srv, "flac", 1)
    duration = rows(srv, "SELECT duration FROM tracks WHERE id = ?", (tid,))[0][0]
    with srv.client("alice") as c:
        h = c.head(f"/v1/tracks/{tid}/stream", params={"quality": "high"})
        assert h.status_code == 200 and h.headers["content-type"] == "audio/ogg" and "content-length" not in h.headers
        bodies = {}
        for q in ("low", "normal", "high"):
            live = c.get(f"/v1/tracks/{tid}/stream", params={"quality": q})
            assert live.status_code == 200, live.text
            assert live.headers["x-musicd-quality"] == q and live.headers["content-type"] == "audio/ogg"
            assert "content-length" not in live.headers  # sent as it is produced
            cached = c.get(f"/v1/tracks/{tid}/stream", params={"quality": q})
            assert cached.content == live.content
            assert cached.headers["content-length"] == str(len(live.content)) and "etag" in cached.headers
            r = c.get(f"/v1/tracks/{tid}/stream", params={"quality": q}, headers={"Range": "bytes=100-"})
            assert r.status_code == 206 and r.content == live.content[100:]
            out = srv.data_dir / f"check-{q}.ogg"
            out.write_bytes(live.content)
            info = OggVorbis(out).info
            assert abs(info.length - duration) < 1.0
            bodies[q] = live.content
        assert len(bodies["low"]) < len(bodies["normal"]) < len(bodies["high"])
        # The user's default quality applies when the request names none.
        r = c.get(f"/v1/tracks/{tid}/stream")
        assert r.headers["x-musicd-quality"] == "normal" and r.content == bodies["normal"]


def test_concurrent_requests_share_one_transcode(srv: LiveServer) -> None:
    tid, _ = track_of(srv, "wav")
    before = {k: metric(srv, "musicd_transcode_cache_requests_total", k) for k in ("miss", "joined", "hit")}
    with srv.client("bob") as c, ThreadPoolExecutor(6) as pool:
        outs = list(pool.map(lambda _: c.get(f"/v1/tracks/{tid}/stream?quality=high").content, range(6)))
    after = {k: metric(srv, "musicd_transcode_cache_requests_total", k) for k in before}
    assert len(set(outs)) == 1 and outs[0][:4] == b"OggS"
    assert after["miss"] - before["miss"] == 1, "one ffmpeg for all of them"
    assert (after["joined"] - before["joined"]) + (after["hit"] - before["hit"]) == 5


def test_ranged_request_into_a_running_transcode(srv: LiveServer) -> None:
    tid, _ = track_of(srv, "aiff", 1)
    with srv.client("alice") as c:
        r = c.get(f"/v1/tracks/{tid}/stream?quality=low", headers={"Range": "bytes=500-999"})
        assert r.status_code == 206
        full = c.get(f"/v1/tracks/{tid}/stream?quality=low")
        assert r.content == full.content[500:1000]
        assert r.headers["content-range"] == f"bytes 500-999/{len(full.content)}"


def test_seek_with_time_offset(srv: LiveServer) -> None:
    tid, _ = track_of(srv, "flac")
    duration = rows(srv, "SELECT duration FROM tracks WHERE id = ?", (tid,))[0][0]
    with srv.client("alice") as c:
        r = c.get(f"/v1/tracks/{tid}/stream", params={"quality": "low", "time_offset": 2})
        assert r.status_code == 200 and r.content[:4] == b"OggS"
        out = srv.data_dir / "seek.ogg"
        out.write_bytes(r.content)
        assert abs(OggVorbis(out).info.length - (duration - 2)) < 1.0
        r = c.get(f"/v1/tracks/{tid}/stream", params={"quality": "low", "time_offset": duration + 5})
        assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_offset"


def test_damaged_source(srv: LiveServer) -> None:
    tid, path = track_of(srv, "aiff")
    path.write_bytes(b"\x00garbage" * 4000)
    with srv.client("alice") as c:
        for _ in range(2):  # the second answer comes from the remembered failure
            r = c.get(f"/v1/tracks/{tid}/stream", params={"quality": "normal"})
            assert r.status_code == 502
            err = r.json()["error"]
            assert err["code"] == "transcode_failed" and err["message"].startswith("transcode failed: ")
    assert not [p for p in (srv.data_dir / "transcodes").rglob(f"{tid}_*") if p.suffix in (".ogg", ".part")]


def test_errors_and_auth(srv: LiveServer) -> None:
    tid, path = track_of(srv, "mp3")
    with srv.client(None) as anon, srv.client("alice") as c:
        assert anon.get(f"/v1/tracks/{tid}/stream").status_code == 401
        assert c.get("/v1/tracks/nope/stream").json()["error"]["code"] == "track_not_found"
        assert c.get(f"/v1/tracks/{tid}/stream?quality=ultra").status_code == 400
        url = c.get(f"/v1/tracks/{tid}/stream-url").json()["url"]
        r = anon.get(url)
        assert r.status_code == 200 and r.content == path.read_bytes()
        r = anon.get(url, headers={"Range": "bytes=0-9"})
        assert r.status_code == 206 and r.content == path.read_bytes()[:10]
        other, _ = track_of(srv, "ogg")
        st = url.split("st=")[1]
        assert anon.get(f"/v1/tracks/{other}/stream?st={st}").status_code == 401, "a token is bound to its track"
        assert anon.get(f"/v1/tracks/{tid}/stream?st={st[:-2]}xx").status_code == 401


def test_download_and_zip(srv: LiveServer) -> None:
    tid, path = track_of(srv, "opus")
    title = rows(srv, "SELECT title FROM tracks WHERE id = ?", (tid,))[0][0]
    with srv.client("alice") as c:
        r = c.get(f"/v1/tracks/{tid}/download")
        assert r.status_code == 200 and r.content == path.read_bytes()
        cd = r.headers["content-disposition"]
        assert cd.startswith("attachment; filename=") and "filename*=UTF-8''" in cd
        assert unquote(cd.split("''")[1]) == f"{title}.opus"

        album_id, n = rows(srv, "SELECT album_id, count(*) FROM tracks GROUP BY album_id ORDER BY 2 DESC LIMIT 1")[0]
        r = c.get(f"/v1/albums/{album_id}/download")
        assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
        assert r.headers["content-disposition"].startswith("attachment")
        files = {p: Path(p).read_bytes() for (p,) in rows(srv, "SELECT path FROM tracks WHERE album_id = ?",
                                                           (album_id,))}
        with zipfile.ZipFile(io.BytesIO(r.content)) as z:
            assert z.testzip() is None
            names = z.namelist()
            assert len(names) == n and len({n.split("/")[0] for n in names}) == 1
            assert sorted(z.read(name) for name in names) == sorted(files.values())

        pl = c.post("/v1/me/playlists", json={"name": "Zip me", "public": False}).json()["id"]
        ids = [t for (t,) in rows(srv, "SELECT id FROM tracks ORDER BY id LIMIT 3")]
        assert c.post(f"/v1/playlists/{pl}/tracks", json={"uris": [f"musicd:track:{i}" for i in ids]}
                      ).status_code == 201
        r = c.get(f"/v1/playlists/{pl}/download")
        assert r.status_code == 200
        with zipfile.ZipFile(io.BytesIO(r.content)) as z:
            names = z.namelist()
            assert [n.split("/")[1][:2] for n in names] == ["01", "02", "03"]
            for name, i in zip(names, ids, strict=True):
                p = rows(srv, "SELECT path FROM tracks WHERE id = ?", (i,))[0][0]
                assert z.read(name) == Path(p).read_bytes()
    with srv.client("bob") as b:
        assert b.get(f"/v1/playlists/{pl}/download").status_code == 404, "bob may not read alice's playlist"
        bob = srv.user_id("bob")
        with srv.client("admin") as admin:
            assert admin.patch(f"/v1/admin/users/{bob}", json={"settings": {"download_allowed": False}}
                               ).status_code == 200
            try:
                r = b.get(f"/v1/tracks/{tid}/download")
                assert r.status_code == 403 and r.json()["error"]["code"] == "download_not_allowed"
            finally:
                admin.patch(f"/v1/admin/users/{bob}", json={"settings": {"download_allowed": True}})


def test_cover_images(srv: LiveServer) -> None:
    cover_id, mime = rows(srv, "SELECT id, mime FROM covers ORDER BY size DESC LIMIT 1")[0]
    with srv.client("alice") as c:
        full = c.get(f"/v1/images/{cover_id}")
        assert full.status_code == 200 and full.headers["content-type"] == mime
        with Image.open(io.BytesIO(full.content)) as im:
            w, h = im.size
        small = c.get(f"/v1/images/{cover_id}", params={"size": 32})
        assert small.status_code == 200
        with Image.open(io.BytesIO(small.content)) as im:
            assert max(im.size) == 32 and abs(im.size[0] / im.size[1] - w / h) < 0.1
        assert small.headers["etag"] != full.headers["etag"]
        r = c.get(f"/v1/images/{cover_id}", params={"size": 32}, headers={"If-None-Match": small.headers["etag"]})
        assert r.status_code == 304
        big = c.get(f"/v1/images/{cover_id}", params={"size": max(w, h) + 100})
        assert big.content == full.content, "never upscaled"
        assert c.get("/v1/images/nope").status_code == 404


def test_play_events_are_stored_and_flushed_on_shutdown(built_library: BuiltLibrary, tmp_path: Path) -> None:
    with start_server(tmp_path, built_library.root, MUSICD_TRANSCODE_PRE_TRANSCODE="false",
                      MUSICD_TRANSCODE_POOL_SIZE="0") as server:
        tracks = rows(server, "SELECT id, duration FROM tracks ORDER BY id LIMIT 5")
        with server.client("alice") as c:
            for tid, duration in tracks:
                ms = int(duration * 1000)
                r = c.post("/v1/me/player/events", json={"events": [
                    {"track_id": tid, "event": "start", "device_id": "web"},
                    {"track_id": tid, "event": "end", "ms_played": ms, "position_ms": ms, "device_id": "web"},
                ]})
                assert r.status_code == 202 and r.json() == {"accepted": 2}
            r = c.post("/v1/me/player/events", json={"track_id": tracks[0][0], "event": "start"})
            assert r.status_code == 202
            assert c.post("/v1/me/player/events", json={"track_id": "x", "event": "jump"}).status_code == 400
            assert c.post("/v1/me/player/events", json={"events": [{"event": "start"}]}).status_code == 400
            # Within the 10 s window nothing is written yet: the requests never touched the database.
            assert rows(server, "SELECT count(*) FROM listening_history")[0][0] == 0
    assert rows(server, "SELECT count(*) FROM listening_history")[0][0] == 5
    assert rows(server, "SELECT sum(play_count) FROM tracks")[0][0] == 5
