"""`send_track`, the sender the Subsonic endpoints share: format/maxBitRate mapping, HEAD, no pathsend."""

from __future__ import annotations

from typing import Any

from musicd.devtools.library_builder import BuiltLibrary
from musicd.http.streaming import send_image, send_track


class Capture:
    def __init__(self) -> None:
        self.status = 0
        self.headers: dict[str, str] = {}
        self.body = b""
        self.pathsend: str | None = None

    async def __call__(self, m: dict[str, Any]) -> None:
        if m["type"] == "http.response.start":
            self.status = m["status"]
            self.headers = {k.decode(): v.decode() for k, v in m["headers"]}
        elif m["type"] == "http.response.body":
            self.body += m.get("body", b"")
        elif m["type"] == "http.response.pathsend":
            self.pathsend = m["path"]


def scope(method: str = "GET", headers: dict[str, str] | None = None, pathsend: bool = False) -> dict[str, Any]:
    return {"type": "http", "method": method, "headers": [(k.lower().encode(), v.encode())
                                                          for k, v in (headers or {}).items()],
            "extensions": {"http.response.pathsend": {}} if pathsend else {}}


def read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


async def receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


async def test_subsonic_parameters(services_for, built_library: BuiltLibrary) -> None:  # type: ignore[no-untyped-def]
    async with services_for(built_library.root) as s:
        await s.library.scan()
        user = await s.accounts.create("sub", "long-enough-pw")
        flac = await s.db.fetchone("SELECT id, path FROM tracks WHERE format = 'flac' LIMIT 1")
        mp3 = await s.db.fetchone("SELECT id, path FROM tracks WHERE format = 'mp3' LIMIT 1")

        c = Capture()
        await send_track(scope(), receive, c, s, flac[0], user=user, subsonic_format="raw")
        assert c.status == 200 and c.body == read(flac[1])

        c = Capture()
        await send_track(scope(pathsend=True), receive, c, s, flac[0], user=user, quality="original")
        assert c.status == 200 and c.pathsend == flac[1] and c.body == b""  # zero-copy when offered

        c = Capture()
        await send_track(scope(), receive, c, s, flac[0], user=user, subsonic_format="ogg", max_bitrate=160)
        assert c.status == 200 and c.headers["x-musicd-quality"] == "normal" and c.body[:4] == b"OggS"

        c = Capture()  # a 64 kbps mp3 already fits 320: sent as it is
        await send_track(scope(), receive, c, s, mp3[0], user=user, subsonic_format=None, max_bitrate=320)
        assert c.headers["x-musicd-quality"] == "original" and c.body == read(mp3[1])

        c = Capture()
        await send_track(scope("HEAD"), receive, c, s, flac[0], user=user, download=True)
        assert c.status == 200 and c.body == b"" and c.headers["content-disposition"].startswith("attachment")

        c = Capture()
        await send_track(scope(headers={"Range": "bytes=-10"}), receive, c, s, mp3[0], user=user, quality="original")
        assert c.status == 206 and c.body == read(mp3[1])[-10:]

        cover = await s.db.fetchone("SELECT id FROM covers LIMIT 1")
        c = Capture()
        await send_image(scope(), receive, c, s, cover[0], 16)
        assert c.status == 200 and c.headers["content-type"].startswith("image/")
