"""Friends' tracks reach playback through this source: the local server fetches them from the origin (which
transcodes to the asked quality) and relays them, so a client never talks to the peer or sees its keys.

A whole-file answer is written to a size-bounded cache as it is relayed (`DATA/peer-cache`, LRU by the
same code as the tier cache); the next request for that track and quality is a local file, with Range,
ETag and zero-copy like any other. A ranged request for a track not cached yet is passed to the origin as
it is (206 relayed). An unreachable peer is `peer_unavailable` (503; the Subsonic error envelope under /rest).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

from musicd.domain.ids import FEDERATED_PREFIX
from musicd.domain.tiers import TIERS, content_type
from musicd.errors import ForbiddenError, NotFoundError, ValidationError
from musicd.logs import get_logger
from musicd.media import ranges
from musicd.media.cache import TranscodeCache
from musicd.net.federation import PeerError
from musicd.services.fed_views import FedViews
from musicd.services.federation import FederationService
from musicd.services.playback import Body, FileBody, ProxyBody
from musicd.store.fed_mirror import FedMirrorRepository, MirrorRow
from musicd.store.media_lookup import SourceRow

__all__ = ["PeerTrackSource"]

log = get_logger("musicd.federation")

_RELAYED = ("content-type", "content-length", "content-range", "accept-ranges", "etag", "last-modified")
_SERVED = ("original", "low", "normal", "high")


class PeerTrackSource:
    """The TrackSource of F-ids (musicd.services.playback.TrackSource)."""

    prefix = FEDERATED_PREFIX

    def __init__(self, mirror: FedMirrorRepository, federation: FederationService, views: FedViews, cache_dir: Path,
                 cache_max_bytes: int) -> None:
        self.mirror = mirror
        self.fed = federation
        self.views = views
        # The tier cache's LRU and size accounting fit as they are: one file per (track, quality, version).
        self.cache = TranscodeCache(cache_dir, cache_max_bytes) if cache_max_bytes > 0 else None
        self.relayed = 0
        self.cache_hits = 0

    def load(self) -> None:
        """Index the cache folder (blocking: run in a thread at start)."""
        if self.cache is not None:
            self.cache.load()

    async def _row(self, track_id: str) -> MirrorRow:
        row = await self.mirror.track(track_id)
        if row is None:
            raise NotFoundError(f"no track with id {track_id}", code="track_not_found")
        return row

    async def describe(self, track_id: str) -> SourceRow:
        r = await self._row(track_id)
        return SourceRow(r.id, "", r.format, r.size, 0, r.bitrate, r.duration, r.title)

    def _path(self, r: MirrorRow, served: str, quality: str) -> Path:
        assert self.cache is not None
        return self.cache.path_for(r.id, served, r.size, r.version, f"{r.remote_id}:{quality}")

    def _cached(self, r: MirrorRow, quality: str) -> FileBody | None:
        if self.cache is None:
            return None
        for served in _SERVED:
            path = self._path(r, served, quality)
            st = self.cache.lookup(path)
            if st is not None:
                ctype = content_type(r.format) if served == "original" else TIERS[served].content_type
                etag = ranges.file_etag(st.st_size, st.st_mtime_ns, f"peer-{served}")
                return FileBody(str(path), st.st_size, st.st_mtime, ctype, etag, None, served)
        return None

    async def open(self, track_id: str, quality: str, *, time_offset: float, head: bool,
                   range_header: str | None) -> Body:
        r = await self._row(track_id)
        peers = await self.views.peers()
        peer = peers.get(r.peer_id)
        if peer is None or peer.status != "active":
            raise PeerError("this track's server is no longer paired", code="peer_unavailable")
        if "stream" not in peer.scopes_received:
            raise ForbiddenError(f"{peer.name} does not let this server stream its tracks", code="stream_not_shared")
        if time_offset >= max(r.duration, 0.001) and time_offset > 0:
            raise ValidationError("time_offset is past the end of the track", code="invalid_offset")
        if time_offset <= 0 and (hit := self._cached(r, quality)) is not None:
            self.cache_hits += 1
            return hit
        whole = not range_header or range_header.replace(" ", "") == "bytes=0-"
        params: dict[str, object] = {"quality": quality}
        if time_offset > 0:
            params["time_offset"] = time_offset
        headers = {} if whole else {"range": range_header or ""}
        try:
            stream = await self.fed.client(peer).stream("HEAD" if head else "GET",
                                                        f"/fed/v1/tracks/{r.remote_id}/stream", params=params,
                                                        headers=headers, max_bytes=max(r.size * 4, 64 << 20))
        except PeerError as e:
            self.fed.mark(peer.id, False)
            raise PeerError(f"{peer.name} is unavailable: {e.message}", code="peer_unavailable") from None
        if stream.status not in (200, 206):
            await stream.close()
            if stream.status == 404:
                raise NotFoundError(f"{peer.name} no longer has this track", code="track_not_found")
            if stream.status == 416:
                raise ValidationError("the range asked for is outside the track", code="range_not_satisfiable")
            self.fed.mark(peer.id, stream.status not in (401, 403))
            raise PeerError(f"{peer.name} refused to stream this track ({stream.status})", code="peer_unavailable")
        self.fed.mark(peer.id, True)
        self.relayed += 1
        served = stream.headers.get("x-musicd-quality", "original")
        ctype = stream.headers.get("content-type", content_type(r.format))
        relay = [(k, stream.headers[k]) for k in _RELAYED if k in stream.headers]
        if head:
            await stream.close()
            return ProxyBody(stream.status, relay, None, _noop, served, ctype)
        chunks = stream.chunks()
        length = stream.headers.get("content-length", "")
        if (self.cache is not None and whole and time_offset <= 0 and stream.status == 200 and length.isdigit()
                and served in _SERVED):
            chunks = self._tee(chunks, self._path(r, served, quality), int(length))
        return ProxyBody(stream.status, relay, chunks, stream.close, served, ctype)

    async def _tee(self, chunks: AsyncIterator[bytes], path: Path, expected: int) -> AsyncIterator[bytes]:
        """Relay the chunks and keep a copy; the copy enters the cache only when it is whole."""
        assert self.cache is not None
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{secrets.token_hex(4)}.part")
        seen = 0
        done = False
        fh = await asyncio.to_thread(tmp.open, "wb")  # closed in finally, across the yields
        try:
            async for chunk in chunks:
                fh.write(chunk)
                seen += len(chunk)
                yield chunk
            done = seen == expected
        finally:
            fh.close()
            if done:
                os.replace(tmp, path)
                self.cache.add(path)
            else:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)


async def _noop() -> None:
    return None

