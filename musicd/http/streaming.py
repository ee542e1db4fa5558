"""Raw ASGI sending of audio, downloads and images, with exact HTTP Range semantics.

Litestar's `File` has no Range support and copies through a thread pool, so media goes out here:
a whole file through granian's zero-copy `http.response.pathsend` when the server offers it (else
large `pread` chunks), one range as 206 with `Content-Range`, several as `multipart/byteranges`,
416 when nothing is satisfiable, 304 for a matching `If-None-Match`, and a full 200 when `If-Range`
names an older version. Nothing here touches the database.

`send_track` and `send_image` are the entry points the /v1 and Subsonic handlers share.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import Any, Literal
from urllib.parse import quote

from musicd.domain.models import User
from musicd.errors import MusicdError
from musicd.services.playback import ChunkBody, FileBody, GrowingBody, LiveBody, ProxyBody, ranges
from musicd.services.registry import Services

__all__ = [
    "AUDIO_CACHE",
    "MediaResponse",
    "content_disposition",
    "send_body",
    "send_image",
    "send_stream",
    "send_track",
]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

AUDIO_CACHE = "private, max-age=86400"
IMAGE_CACHE = "private, max-age=604800"
LIVE_CACHE = "private, no-cache"
CHUNK = 512 * 1024
_INLINE_BYTES = 1024 * 1024  # read this much on the event loop (page cache); the rest on a thread


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII fallback name and the exact UTF-8 name (RFC 6266 / 5987)."""
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _req_headers(scope: Scope) -> dict[bytes, bytes]:
    wanted = {b"range", b"if-range", b"if-none-match"}
    return {k.lower(): v for k, v in scope.get("headers", ()) if k.lower() in wanted}


def _h(pairs: list[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    return [(k.encode("latin-1"), v.encode("latin-1")) for k, v in pairs]


async def _start(send: Send, status: int, headers: list[tuple[str, str]]) -> None:
    await send({"type": "http.response.start", "status": status, "headers": _h(headers)})


async def _end(send: Send, body: bytes = b"") -> None:
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def _send_error(send: Send, status: int, code: str, message: str, extra: list[tuple[str, str]]) -> None:
    body = json.dumps({"error": {"status": status, "code": code, "message": message}}).encode()
    await _start(send, status, [("content-type", "application/json"), ("content-length", str(len(body))), *extra])
    await _end(send, body)


async def _send_span(send: Send, fd: int, first: int, last: int) -> None:
    """Bytes first..last (inclusive) of an open file as `more_body` messages."""
    pos, end = first, last + 1
    while pos < end:
        n = min(CHUNK, end - pos)
        if pos - first < _INLINE_BYTES:
            data = os.pread(fd, n, pos)
        else:
            data = await asyncio.to_thread(os.pread, fd, n, pos)
        if not data:
            raise OSError("file shrank while it was being sent")
        await send({"type": "http.response.body", "body": data, "more_body": True})
        pos += len(data)


async def _wanted(send: Send, req: dict[bytes, bytes], size: int, etag: str, mtime: float,
                  base: list[tuple[str, str]]) -> list[ranges.ByteRange] | Literal[False] | None:
    """The ranges a request asks for (None: the whole body; `If-Range` naming another version counts as no
    Range); False once a 416 has been sent for ranges that lie outside the `size` bytes."""
    range_h = req.get(b"range")
    if not range_h or not ranges.if_range_allows(req.get(b"if-range", b"").decode("latin-1"), etag, mtime):
        return None
    try:
        return ranges.parse_range(range_h.decode("latin-1"), size)
    except ranges.RangeNotSatisfiable:
        await _send_error(send, 416, "range_not_satisfiable", f"no byte of {range_h.decode('latin-1')[:80]} "
                          f"lies within the {size} bytes", [("content-range", f"bytes */{size}"), *base])
        return False


async def send_file(scope: Scope, send: Send, body: FileBody, cache_control: str,
                    extra: tuple[tuple[str, str], ...] = ()) -> None:
    """Send a file honouring If-None-Match, Range and If-Range; HEAD gets the same headers, no body."""
    req = _req_headers(scope)
    head = scope.get("method") == "HEAD"
    common = [("etag", body.etag), ("last-modified", ranges.http_date(body.mtime)), ("cache-control", cache_control)]
    if ranges.if_none_match(req.get(b"if-none-match", b"").decode("latin-1"), body.etag):
        await _start(send, 304, common)
        await _end(send)
        return
    base = [("accept-ranges", "bytes"), *common, *extra]
    if body.filename:
        base.append(("content-disposition", content_disposition(body.filename)))
    wanted = await _wanted(send, req, body.size, body.etag, body.mtime, base)
    if wanted is False:
        return
    if wanted is None:
        await _start(send, 200, [("content-type", body.content_type), ("content-length", str(body.size)), *base])
        if head:
            await _end(send)
        elif "http.response.pathsend" in scope.get("extensions", {}):
            await send({"type": "http.response.pathsend", "path": body.path})
        else:
            await _send_fd(send, body.path, [(0, body.size - 1)] if body.size else [], None)
        return
    if len(wanted) == 1:
        first, last = wanted[0]
        await _start(send, 206, [("content-type", body.content_type), ("content-length", str(last - first + 1)),
                                 ("content-range", f"bytes {first}-{last}/{body.size}"), *base])
        if head:
            await _end(send)
        else:
            await _send_fd(send, body.path, wanted, None)
        return
    boundary = secrets.token_hex(12)
    parts, tail, total = ranges.multipart_layout(wanted, body.size, body.content_type, boundary)
    await _start(send, 206, [("content-type", f"multipart/byteranges; boundary={boundary}"),
                             ("content-length", str(total)), *base])
    if head:
        await _end(send)
    else:
        await _send_fd(send, body.path, [r for _, r in parts], ([h for h, _ in parts], tail))


async def send_growing(scope: Scope, send: Send, body: GrowingBody, extra: tuple[tuple[str, str], ...]) -> None:
    """A file still being written: one Range (206) or the whole (200) once its final size is known, sent
    as its bytes arrive; without a known size the whole body goes out chunked and Range is not offered."""
    req = _req_headers(scope)
    head = scope.get("method") == "HEAD"
    if body.size is None:
        await _start(send, 200, [("content-type", body.content_type), ("cache-control", LIVE_CACHE), *extra])
        spans: list[tuple[int, int | None]] = [] if head else [(0, None)]
    else:
        base = [("accept-ranges", "bytes"), ("etag", body.etag), ("cache-control", LIVE_CACHE), *extra]
        wanted = await _wanted(send, req, body.size, body.etag, body.mtime, base)
        if wanted is False:
            return
        if wanted is not None:
            first, last = wanted[0][0], wanted[-1][1]  # several ranges: their span, as one (simpler, still exact)
            await _start(send, 206, [("content-type", body.content_type), ("content-length", str(last - first + 1)),
                                     ("content-range", f"bytes {first}-{last}/{body.size}"), *base])
        else:
            first, last = 0, body.size - 1
            await _start(send, 200, [("content-type", body.content_type), ("content-length", str(body.size)), *base])
        spans = [] if head or body.size == 0 else [(first, last)]
    for first, last in spans:
        chunks = body.span(first, last)
        try:
            async for chunk in chunks:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        finally:
            await chunks.aclose()  # type: ignore[attr-defined]
    await _end(send)


async def _send_fd(send: Send, path: str, spans: list[ranges.ByteRange],
                   multipart: tuple[list[bytes], bytes] | None) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        for i, (first, last) in enumerate(spans):
            if multipart is not None:
                await send({"type": "http.response.body", "body": multipart[0][i], "more_body": True})
            await _send_span(send, fd, first, last)
        await _end(send, multipart[1] if multipart is not None else b"")
    finally:
        os.close(fd)


async def _send_chunks(send: Send, content_type: str, chunks: AsyncIterator[bytes], head: bool,
                       extra: tuple[tuple[str, str], ...], first: bytes = b"") -> None:
    # No Content-Length: the size is known only at the end (chunked transfer on HTTP/1.1).
    await _start(send, 200, [("content-type", content_type), ("cache-control", LIVE_CACHE),
                             ("accept-ranges", "bytes"), *extra])
    if head:
        await _end(send)
        return
    if first:
        await send({"type": "http.response.body", "body": first, "more_body": True})
    async for chunk in chunks:
        await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await _end(send)


async def _empty() -> AsyncIterator[bytes]:
    return
    yield b""  # pragma: no cover


async def _send_proxy(send: Send, body: ProxyBody, extra: tuple[tuple[str, str], ...]) -> None:
    """Relay another server's answer (a friend's track): its status and headers, then its bytes."""
    try:
        await _start(send, body.status, [*body.headers, ("cache-control", LIVE_CACHE), *extra])
        if body.chunks is not None:
            async for chunk in body.chunks:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await _end(send)
    except MusicdError:
        # The peer stopped mid-body: the status line is gone already; end the response short.
        await _end(send)
    finally:
        await body.close()


async def send_body(scope: Scope, receive: Receive, send: Send,
                    body: FileBody | LiveBody | ChunkBody | GrowingBody | ProxyBody,
                    cache_control: str = AUDIO_CACHE) -> None:
    """Send any playback body; a client that goes away mid-body ends the response quietly."""
    head = scope.get("method") == "HEAD"
    extra = (("x-musicd-quality", body.quality),)
    try:
        if isinstance(body, FileBody):
            await send_file(scope, send, body, cache_control, extra)
        elif isinstance(body, GrowingBody):
            await send_growing(scope, send, body, extra)
        elif isinstance(body, ProxyBody):
            await _send_proxy(send, body, extra)
        elif isinstance(body, LiveBody):
            range_h = _req_headers(scope).get(b"range", b"").replace(b" ", b"")
            if range_h and range_h != b"bytes=0-" and not head and body.settle is not None:
                # A ranged request into a tier still being made: answer it exactly from the finished file.
                settled = await body.settle()
                if settled is not None:
                    await send_file(scope, send, settled, cache_control, extra)
                    return
            chunks = body.production.stream() if body.production is not None else _empty()
            await _send_chunks(send, body.content_type, chunks, head, extra)
        else:
            rest = body.rest if body.rest is not None else _empty()
            try:
                await _send_chunks(send, body.content_type, rest, head, extra, body.first)
            finally:
                if body.rest is not None:
                    await body.rest.aclose()  # type: ignore[attr-defined]
    except OSError:
        return  # the client went away, or the file vanished mid-send: nothing more can be said


async def send_track(
    scope: Scope, receive: Receive, send: Send, services: Services, track_id: str, *, user: User | None,
    quality: str | None = None, device_id: str | None = None, subsonic_format: str | None = None,
    max_bitrate: int | None = None, time_offset: float = 0.0, download: bool = False,
) -> None:
    """Resolve and send one track (the /v1 and /rest stream and download endpoints all end here).

    Errors raised before the response starts (unknown track, bad quality, a failed transcode) are
    MusicdErrors for the caller to answer in its own envelope.
    """
    pb = services.playback
    if download:
        if user is None:
            raise ValueError("a download needs the user (download_allowed)")
        body: FileBody | LiveBody | ChunkBody | GrowingBody | ProxyBody = await pb.open_download(track_id, user)
    else:
        codec = "vorbis"
        if subsonic_format is not None or max_bitrate is not None:
            q, codec = pb.subsonic_quality(await pb.source(track_id), subsonic_format, max_bitrate)
            if device_id and user is not None:
                q = await pb.quality_for(user, q, device_id)
        else:
            q = await pb.quality_for(user, quality, device_id)
        range_h = _req_headers(scope).get(b"range")
        body = await pb.open_track(track_id, q, time_offset=time_offset, head=scope.get("method") == "HEAD",
                                   range_header=range_h.decode("latin-1") if range_h else None, codec=codec)
    await send_body(scope, receive, send, body)


async def send_image(scope: Scope, receive: Receive, send: Send, services: Services, cover_id: str,
                     size: int | None = None) -> None:
    """Send a cover image, resized to fit `size` pixels when given (cached)."""
    body = await services.playback.image(cover_id, size)
    await send_body(scope, receive, send, body, IMAGE_CACHE)


async def send_stream(scope: Scope, send: Send, filename: str, content_type: str,
                      chunks: AsyncIterator[bytes]) -> None:
    """Send a generated attachment (a zip) as it is produced."""
    head = scope.get("method") == "HEAD"
    try:
        await _start(send, 200, [("content-type", content_type), ("cache-control", "private, no-store"),
                                 ("content-disposition", content_disposition(filename))])
        if not head:
            async for chunk in chunks:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await _end(send)
    except OSError:
        return
    finally:
        await chunks.aclose()  # type: ignore[attr-defined]


class MediaResponse:
    """An ASGI app a Litestar handler returns: the handler resolves, this sends (Range and all)."""

    __slots__ = ("body", "cache_control")

    def __init__(self, body: FileBody | LiveBody | ChunkBody | GrowingBody | ProxyBody,
                 cache_control: str = AUDIO_CACHE) -> None:
        self.body = body
        self.cache_control = cache_control

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send_body(scope, receive, send, self.body, self.cache_control)
