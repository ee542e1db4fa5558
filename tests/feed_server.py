"""A local podcast feed server for the tests: feeds and enclosures on 127.0.0.1, with ETags, redirects,
paged feeds, throttled and lying enclosures. Real audio is made with ffmpeg (library_builder)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.sax.saxutils import escape

from musicd.devtools.library_builder import encode_tone

PODCAST_NS = "https://podcastindex.org/namespace/1.0"


@dataclass
class Route:
    """What one path answers: a body (bytes, or a callable giving them) with headers, or a redirect."""

    body: bytes | Callable[[], bytes] = b""
    content_type: str = "application/rss+xml"
    status: int = 200
    etag: str | None = None
    redirect: str | None = None
    content_length: int | None = None  # a lying Content-Length (None: the true one)
    omit_length: bool = False  # send no Content-Length (the body ends when the connection closes)
    chunk: int = 0  # send the body in chunks of this size ...
    delay: float = 0.0  # ... with this pause before each one


@dataclass
class FeedServer:
    host: str
    port: int
    routes: dict[str, Route] = field(default_factory=dict)
    hits: dict[str, int] = field(default_factory=dict)
    not_modified: dict[str, int] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str) -> str:
        return f"{self.base}{path}"


def _handler(server: FeedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            server.hits[path] = server.hits.get(path, 0) + 1
            route = server.routes.get(path)
            if route is None:
                self._send(404, b"not found", "text/plain")
                return
            if route.redirect is not None:
                self.send_response(route.status if route.status in (301, 302, 303, 307, 308) else 302)
                self.send_header("Location", route.redirect)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if route.etag and self.headers.get("If-None-Match") == route.etag:
                server.not_modified[path] = server.not_modified.get(path, 0) + 1
                self.send_response(304)
                self.send_header("ETag", route.etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = route.body() if callable(route.body) else route.body
            self._send(route.status, body, route.content_type, route)

        def _send(self, status: int, body: bytes, ctype: str, route: Route | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            if route is not None and route.etag:
                self.send_header("ETag", route.etag)
                self.send_header("Last-Modified", formatdate(usegmt=True))
            if route is not None and route.omit_length:
                self.send_header("Connection", "close")
                self.close_connection = True
            else:
                length = route.content_length if route is not None and route.content_length is not None else len(body)
                self.send_header("Content-Length", str(length))
            self.end_headers()
            try:
                if route is not None and route.chunk:
                    for i in range(0, len(body), route.chunk):
                        time.sleep(route.delay)
                        self.wfile.write(body[i : i + route.chunk])
                        self.wfile.flush()
                else:
                    self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass
            if route is not None and route.content_length is not None and route.content_length != len(body):
                self.close_connection = True

    return Handler


@contextmanager
def feed_server() -> Iterator[FeedServer]:
    """A threaded HTTP server on a free loopback port, stopped when the block ends."""
    state = FeedServer("127.0.0.1", 0)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    state.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()


def make_episode_audio(folder: Path, name: str, seconds: float, freq: float = 440.0, fmt: str = "mp3") -> bytes:
    """Real audio of `seconds` made by ffmpeg (cached in `folder`)."""
    path = folder / f"{name}.{fmt}"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        encode_tone(path, fmt, seconds, freq)
    return path.read_bytes()


@dataclass
class Item:
    guid: str | None
    title: str
    enclosure: str | None
    length: int | None = None
    type: str = "audio/mpeg"
    pub: str = "Mon, 01 Jan 2024 10:00:00 GMT"
    duration: str | None = None
    notes: str = ""
    chapters: str | None = None
    transcripts: list[tuple[str, str, str | None]] = field(default_factory=list)


def rss(title: str, items: list[Item], *, description: str = "", next_page: str | None = None,
        image: str | None = None, author: str = "Test Author", extra: str = "") -> bytes:
    """An RSS 2.0 podcast feed with iTunes and Podcasting 2.0 tags."""
    parts = [f'<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
             f'xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" xmlns:podcast="{PODCAST_NS}" '
             f'xmlns:atom="http://www.w3.org/2005/Atom" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
             f"<channel><title>{escape(title)}</title><link>http://example.com/</link>"
             f"<description>{escape(description)}</description><itunes:author>{escape(author)}</itunes:author>"
             "<language>en</language>"]
    if image:
        parts.append(f'<itunes:image href="{escape(image)}"/>')
    if next_page:
        parts.append(f'<atom:link rel="next" href="{escape(next_page)}"/>')
    parts.append(extra)
    for it in items:
        parts.append(f"<item><title>{escape(it.title)}</title><pubDate>{it.pub}</pubDate>")
        if it.guid is not None:
            parts.append(f'<guid isPermaLink="false">{escape(it.guid)}</guid>')
        if it.enclosure is not None:
            length = f' length="{it.length}"' if it.length is not None else ""
            parts.append(f'<enclosure url="{escape(it.enclosure)}" type="{it.type}"{length}/>')
        if it.duration:
            parts.append(f"<itunes:duration>{it.duration}</itunes:duration>")
        if it.notes:
            parts.append(f"<content:encoded><![CDATA[{it.notes}]]></content:encoded>")
        if it.chapters:
            parts.append(f'<podcast:chapters url="{escape(it.chapters)}" type="application/json+chapters"/>')
        for url, kind, lang in it.transcripts:
            lang_attr = f' language="{lang}"' if lang else ""
            parts.append(f'<podcast:transcript url="{escape(url)}" type="{kind}"{lang_attr}/>')
        parts.append("</item>")
    parts.append("</channel></rss>")
    return "".join(parts).encode()
