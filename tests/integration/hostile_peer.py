"""A fake federation peer on loopback that answers what a test tells it to: good pages, garbage, huge or
endless bodies, redirects, a catalogue that claims ten million tracks, pages that never advance."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


def track(i: int) -> dict[str, Any]:
    return {"id": f"t{i:09d}", "title": f"Hostile Song {i}", "artist": "Hostile Band",
            "artists": [["a1", "Hostile Band"]], "album_id": f"al{i // 10:08d}", "album": f"Hostile Album {i // 10}",
            "album_artist_id": "a1", "album_artist": "Hostile Band", "duration": 100.0 + i % 50, "format": "mp3",
            "size": 1000, "genres": ["Noise"]}


class Hostile:
    def __init__(self, instance_id: str) -> None:
        self.instance_id = instance_id
        self.mode = "good"
        self.requests: list[str] = []
        self.url = ""

    def answer(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        q = {k: v[0] for k, v in parse_qs(parts.query).items()}
        self.requests.append(parts.path)
        if parts.path == "/fed/v1/hello":
            return self._json(h, {"instance_id": self.instance_id, "name": "Hostile server",
                                  "scopes": ["library", "stream", "activity"], "protocol": 1})
        if parts.path == "/fed/v1/playlists":
            return self._json(h, {"items": []})
        if parts.path == "/fed/v1/changes":
            # The head going back below the cursor makes the receiver sync in full (through /catalog).
            head = {"good": 1, "ten_million": 10_000_000}.get(self.mode, 0)
            return self._json(h, {"items": [], "head": head, "next": None})
        if parts.path == "/fed/v1/notify":
            return self._json(h, {"ok": True})
        if parts.path != "/fed/v1/catalog":
            return self._json(h, {"error": {"status": 404, "code": "not_found", "message": "no"}}, 404)
        mode = self.mode
        if mode == "good":
            return self._json(h, {"items": [track(i) for i in range(3)], "cursor": 1, "total": 3, "next": None})
        if mode == "garbage":
            body = b'{"items": "this is not a list", "cursor": "x"'
            return self._raw(h, 200, body)
        if mode == "bad_values":
            bad = track(1) | {"duration": -5, "title": "x" * 100_000}
            return self._json(h, {"items": [bad], "cursor": 1, "total": 1, "next": None})
        if mode == "huge":
            h.send_response(200)
            h.send_header("content-type", "application/json")
            h.send_header("content-length", str(200 << 20))
            h.end_headers()
            h.wfile.write(b'{"items": [' + b" " * 65536)
            return None
        if mode == "endless":
            h.send_response(200)
            h.send_header("content-type", "application/json")
            h.send_header("transfer-encoding", "chunked")
            h.end_headers()
            chunk = b" " * 65536
            try:
                for _ in range(10_000):  # 640 MB at most: the client must give up long before
                    h.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            except OSError:
                pass
            return None
        if mode == "redirect":
            h.send_response(302)
            h.send_header("location", "http://127.0.0.1:9/elsewhere")
            h.send_header("content-length", "0")
            h.end_headers()
            return None
        if mode == "ten_million":
            after = q.get("after", "")
            start = int(after[1:]) + 1 if after else 0
            items = [track(i) for i in range(start, start + 500)]
            return self._json(h, {"items": items, "cursor": 10_000_000, "total": 10_000_000,
                                  "next": items[-1]["id"]})
        if mode == "stuck":
            return self._json(h, {"items": [track(1)], "cursor": 1, "total": 10, "next": q.get("after", "")})
        raise AssertionError(mode)

    @staticmethod
    def _json(h: BaseHTTPRequestHandler, obj: Any, status: int = 200) -> None:
        Hostile._raw(h, status, json.dumps(obj).encode())

    @staticmethod
    def _raw(h: BaseHTTPRequestHandler, status: int, body: bytes) -> None:
        h.send_response(status)
        h.send_header("content-type", "application/json")
        h.send_header("content-length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)


@contextmanager
def hostile_peer(instance_id: str) -> Iterator[Hostile]:
    state = Hostile(instance_id)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            state.answer(self)

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length") or 0))
            state.answer(self)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
