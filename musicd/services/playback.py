"""Playback: which bytes answer "play track X at quality Q for this user", and who may fetch them.

The answer is a *body* the HTTP layer sends: a `FileBody` (an original, or a tier already in the
cache: sent with Range support at file speed), a `LiveBody` (a tier being transcoded right now,
shared with every other listener of it) or a `ChunkBody` (a transcode started at a time offset).
Nothing here writes to the database: the stream path stays read-only and in memory.

Route by origin: a track whose id starts with a prefix registered with `route` (a friend's track "F…",
musicd.domain.ids) is described and opened by that `TrackSource`, which may answer with a `ProxyBody`
(bytes relayed from elsewhere); local tracks are this service's own.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from musicd.config import TranscodeConfig
from musicd.domain.models import User
from musicd.domain.tiers import (
    FORMAT_CODECS,
    QUALITIES,
    Tier,
    clamp_quality,
    content_type,
    effective_tier,
    subsonic_codec,
    subsonic_quality,
)
from musicd.errors import AuthError, ForbiddenError, NotFoundError, ValidationError
from musicd.media import ranges
from musicd.media.images import MAX_SIZE, ImageResizer
from musicd.media.transcoder import Production, Source, TranscodeError, Transcoder
from musicd.services.accounts import AccountService
from musicd.services.catalog import CatalogService
from musicd.services.metrics import Metrics
from musicd.store.media_lookup import MediaLookup, SourceRow

__all__ = [
    "STREAM_TOKEN_TTL_S",
    "Body",
    "ChunkBody",
    "FileBody",
    "GrowingBody",
    "LiveBody",
    "Origin",
    "PlaybackService",
    "ProxyBody",
    "TrackSource",
    "TranscodeError",
    "ranges",
]

STREAM_TOKEN_TTL_S = 6 * 3600
_SOURCE_CACHE_MAX = 200_000
_USER_CACHE_S = 30.0
_EXPIRY_HEX = re.compile(r"[0-9a-f]{1,16}")
_DEVICE_CACHE_S = 30.0


@dataclass(frozen=True, slots=True)
class FileBody:
    """A file sent as it is: Range, ETag and zero-copy apply."""

    path: str
    size: int
    mtime: float
    content_type: str
    etag: str
    filename: str | None = None  # set for downloads: sent as an attachment under this name
    quality: str = "original"


@dataclass(slots=True)
class LiveBody:
    """A tier being transcoded now; `production` is None for HEAD (nothing is started)."""

    content_type: str
    production: Production | None
    quality: str
    # Waits for the production to finish and returns it as a cached file (for ranged requests).
    settle: Callable[[], Awaitable[FileBody | None]] | None = None


@dataclass(slots=True)
class ChunkBody:
    """Bytes produced once for one listener (a seek into a tier); not cached."""

    content_type: str
    first: bytes
    rest: AsyncIterator[bytes] | None
    quality: str


@dataclass(slots=True)
class GrowingBody:
    """A file still being written (a podcast episode downloading): `size` is its final size when known
    (Range then works as for a whole file, waiting for bytes not written yet), None when it is not."""

    content_type: str
    size: int | None
    etag: str
    mtime: float
    # span(first, last): bytes first..last (inclusive; last None = to the end) as they arrive.
    span: Callable[[int, int | None], AsyncIterator[bytes]]
    quality: str = "original"


@dataclass(slots=True)
class ProxyBody:
    """Bytes relayed from another server (a friend's track): its status and headers, then its body as it comes.

    `chunks` is None for HEAD; `close` releases the upstream response (called once the body is sent or the
    client went away)."""

    status: int
    headers: list[tuple[str, str]]
    chunks: AsyncIterator[bytes] | None
    close: Callable[[], Awaitable[None]]
    quality: str
    content_type: str = field(default="application/octet-stream")


Body = FileBody | LiveBody | ChunkBody | GrowingBody | ProxyBody


class Origin(Protocol):
    """Where items that are not library tracks come from (podcast episodes): the playback path asks an
    origin only for ids the catalogue does not have."""

    async def source(self, item_id: str) -> SourceRow | None:
        """The item as a source (format and bitrate pick a tier), None when it is not this origin's."""

    async def open(self, row: SourceRow, quality: str, time_offset: float, head: bool, codec: str = "vorbis") -> Body:
        """The body for the item at a quality (a tier in `codec`)."""


class TrackSource(Protocol):
    """Where the bytes of tracks of one origin come from (a friend's server, a podcast feed, ...)."""

    async def describe(self, track_id: str) -> SourceRow:
        """What quality decisions need (format, bitrate, duration, title); NotFoundError when unknown."""
        ...

    async def open(self, track_id: str, quality: str, *, time_offset: float, head: bool,
                   range_header: str | None) -> Body:
        """The body for the track at a quality; `range_header` is the client's Range, if any."""
        ...


def _b64(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


class PlaybackService:
    def __init__(
        self, lookup: MediaLookup, transcoder: Transcoder, images: ImageResizer, accounts: AccountService,
        catalog: CatalogService, token_key: bytes, cfg: TranscodeConfig, metrics: Metrics,
    ) -> None:
        self.lookup = lookup
        self.transcoder = transcoder
        self.images = images
        self.accounts = accounts
        self.catalog = catalog
        self.cfg = cfg
        self.metrics = metrics
        self.tiers = tuple(t for t in ("low", "normal", "high") if t in cfg.tiers)
        self._key = hashlib.sha256(b"musicd stream token\x00" + token_key).digest()
        self._sources: dict[str, SourceRow] = {}
        self._users: dict[str, tuple[User, float]] = {}
        self._devices: dict[tuple[str, str], tuple[str | None, float]] = {}
        self._routes: dict[str, TrackSource] = {}
        self._origins: list[Origin] = []
        self.last_stream = time.monotonic()  # when a local file was last opened to stream (the start counts)

    def add_origin(self, origin: Origin) -> None:
        """Serve another kind of item through the same stream endpoints (route by origin)."""
        self._origins.append(origin)

    async def _from_origin(self, item_id: str) -> tuple[Origin, SourceRow] | None:
        for origin in self._origins:
            row = await origin.source(item_id)
            if row is not None:
                return origin, row
        return None

    def route(self, prefix: str, source: TrackSource) -> None:
        """Send tracks whose id starts with `prefix` (one character) to `source`."""
        self._routes[prefix] = source

    def forget_user(self, user_id: str | None) -> None:
        """Drop a cached user (None: all); the bus consumer of account changes calls this."""
        if user_id is None:
            self._users.clear()
        else:
            self._users.pop(user_id, None)

    # ---- the catalogue, in memory ----

    async def _track_row(self, track_id: str) -> SourceRow | None:
        """Where a library track's file is (kept in memory; forgotten after every scan)."""
        row = self._sources.get(track_id)
        if row is None:
            found = await self.lookup.sources([track_id])
            row = found.get(track_id)
            if row is None:
                return None
            if len(self._sources) >= _SOURCE_CACHE_MAX:
                self._sources.clear()
            self._sources[track_id] = row
        return row

    async def source(self, track_id: str) -> SourceRow:
        """A track's (a friend's, or another origin's item's) source; NotFoundError when nothing has that id."""
        if (routed := self._routes.get(track_id[:1])) is not None:
            return await routed.describe(track_id)
        row = await self._track_row(track_id)
        if row is None:
            if (other := await self._from_origin(track_id)) is not None:
                return other[1]  # not kept: an episode's source changes as it downloads
            raise NotFoundError(f"no track with id {track_id}", code="track_not_found")
        return row

    def forget_sources(self) -> None:
        self._sources.clear()

    @staticmethod
    def media_source(row: SourceRow) -> Source:
        return Source(row.id, row.path, row.format, row.size, row.mtime_ns, row.duration)

    # ---- quality ----

    async def quality_for(self, user: User | None, quality: str | None, device_id: str | None = None) -> str:
        """The quality to send: the request's, else the user's default; capped by the device's maximum."""
        q = (quality or (user.settings.default_quality if user else "") or "normal").lower()
        if q not in QUALITIES:
            raise ValidationError(f"quality must be one of {', '.join(QUALITIES)}", code="invalid_quality")
        if device_id and user is not None:
            q = clamp_quality(q, await self._device_max(device_id, user.id))
        return q

    async def _device_max(self, device_id: str, user_id: str) -> str | None:
        key = (device_id, user_id)
        hit = self._devices.get(key)
        now = time.monotonic()
        if hit is not None and now - hit[1] < _DEVICE_CACHE_S:
            return hit[0]
        cap = await self.lookup.device_max_quality(device_id, user_id)
        if len(self._devices) > 10_000:
            self._devices.clear()
        self._devices[key] = (cap, now)
        return cap

    def tier_for(self, row: SourceRow, quality: str, codec: str = "vorbis") -> Tier | None:
        """The tier a quality means for this source in `codec`, or None for the file itself."""
        return effective_tier(quality, row.format, row.bitrate, self.tiers, codec)

    @staticmethod
    def codec_for(fmt: str | None) -> str:
        """The codec a /v1 `format` names (None or "ogg": Vorbis); a ValidationError for any other."""
        codec = FORMAT_CODECS.get((fmt or "ogg").lower())
        if codec is None:
            raise ValidationError(f"format must be one of {', '.join(sorted(FORMAT_CODECS))}", code="invalid_format")
        return codec

    def subsonic_quality(self, row: SourceRow, fmt: str | None, max_bitrate_kbps: int | None) -> tuple[str, str]:
        """A Subsonic `format` / `maxBitRate` pair as (quality, codec)."""
        return subsonic_quality(fmt, max_bitrate_kbps, row.format, row.bitrate), subsonic_codec(fmt)

    # ---- bodies ----

    @staticmethod
    def _file(path: str, ctype: str, variant: str, filename: str | None = None, quality: str = "original",
              st: os.stat_result | None = None) -> FileBody:
        if st is None:
            try:
                st = os.stat(path)
            except OSError:
                raise NotFoundError(f"file {Path(path).name} is missing", code="file_missing") from None
        etag = ranges.file_etag(st.st_size, st.st_mtime_ns, variant)
        return FileBody(path, st.st_size, st.st_mtime, ctype, etag, filename, quality)

    async def _located(self, track_id: str) -> tuple[SourceRow, os.stat_result]:
        """The track's row and the stat of its file now (a remembered path that is gone is looked up again)."""
        row = await self._track_row(track_id)
        if row is None:
            raise NotFoundError(f"no track with id {track_id}", code="track_not_found")
        try:
            return row, os.stat(row.path)
        except OSError:
            self._sources.pop(track_id, None)  # moved since (a scan in another process): ask the catalogue
        row = await self._track_row(track_id)
        if row is None:
            raise NotFoundError(f"no track with id {track_id}", code="track_not_found")
        try:
            return row, os.stat(row.path)
        except OSError:
            raise NotFoundError("the file of this track is missing; rescan the library", code="file_missing") from None

    async def open_track(
        self, track_id: str, quality: str, *, time_offset: float = 0.0, head: bool = False,
        range_header: str | None = None, codec: str = "vorbis",
    ) -> Body:
        """The body for a track (a friend's, or another origin's item) at a quality (see `quality_for`) in `codec`
        (a friend's track comes in the Vorbis tiers its server makes); starts or joins a transcode if needed."""
        if (routed := self._routes.get(track_id[:1])) is not None:
            return await routed.open(track_id, quality, time_offset=time_offset, head=head, range_header=range_header)
        if await self._track_row(track_id) is None and (other := await self._from_origin(track_id)) is not None:
            origin, row = other
            return await origin.open(row, quality, time_offset, head, codec)
        row, st = await self._located(track_id)
        return await self.open_file(row, st, quality, time_offset=time_offset, head=head, codec=codec)

    async def open_file(self, row: SourceRow, st: os.stat_result, quality: str, *, time_offset: float = 0.0,
                        head: bool = False, codec: str = "vorbis") -> Body:
        """The body for a source file as it is now (`st`) at a quality in `codec`."""
        self.last_stream = time.monotonic()
        tier = self.tier_for(row, quality, codec)
        if tier is None:
            return self._file(row.path, content_type(row.format), "orig", st=st)
        # The file as it is now names the tier: a file changed since the last scan gets a fresh transcode.
        src = Source(row.id, row.path, row.format, st.st_size, st.st_mtime_ns, row.duration)
        if time_offset > 0:
            if time_offset >= max(row.duration, 0.001):
                raise ValidationError("time_offset is past the end of the track", code="invalid_offset")
            if head:
                return ChunkBody(tier.content_type, b"", None, tier.name)
            chunks = self.transcoder.seek(src, tier, time_offset)
            first = await anext(chunks, b"")
            return ChunkBody(tier.content_type, first, chunks, tier.name)
        hit = self.transcoder.cached(src, tier)
        if hit is not None:
            self.metrics.transcode_cache_requests.labels("hit").inc()
            return self._file(str(hit[0]), tier.content_type, "tier", quality=tier.name)
        if (reason := self.transcoder.failure(src, tier)) is not None:
            raise TranscodeError(f"transcode failed: {reason.strip().splitlines()[-1]}")
        if head:
            return LiveBody(tier.content_type, None, tier.name)
        active = self.transcoder.active()
        prod = self.transcoder.produce(src, tier)
        joined = self.transcoder.active() == active
        self.metrics.transcode_cache_requests.labels("joined" if joined else "miss").inc()
        await prod.started()

        async def settle() -> FileBody | None:
            await prod.wait_done()
            if prod.error:
                raise TranscodeError(f"transcode failed: {prod.error}")
            hit = self.transcoder.cached(src, tier)
            return self._file(str(hit[0]), tier.content_type, "tier", quality=tier.name) if hit else None

        return LiveBody(tier.content_type, prod, tier.name, settle)

    async def open_download(self, track_id: str, user: User) -> FileBody:
        """The original file of a track as an attachment, if the user may download."""
        self.check_download(user)
        if track_id[:1] in self._routes:
            raise ForbiddenError("tracks from other servers can be played but not downloaded",
                                 code="download_not_available")
        row, st = await self._located(track_id)
        ext = Path(row.path).suffix or f".{row.format}"
        return self._file(row.path, content_type(row.format), "orig", filename=f"{row.title}{ext}", st=st)

    @staticmethod
    def check_download(user: User) -> None:
        if not user.settings.download_allowed:
            raise ForbiddenError("downloads are turned off for this account", code="download_not_allowed")

    async def image(self, cover_id: str, size: int | None) -> FileBody:
        """A cover image, scaled to fit `size` pixels when asked (cached), with its own ETag."""
        if size is not None and not 0 < size <= 10_000:
            raise ValidationError("size must be between 1 and 10000", code="invalid_size")
        cover = await self.catalog.cover_path(cover_id)
        if size is not None and size < MAX_SIZE:
            try:
                resized = await self.images.resized(cover_id, cover.path, size)
            except OSError as e:
                raise NotFoundError(f"cover {cover_id} cannot be read: {e}", code="cover_not_found") from None
            except Exception as e:  # Pillow raises many types for damaged images
                raise ValidationError(f"cover {cover_id} is not a readable image: {e}", code="bad_image") from None
            if resized is not None:
                return self._file(str(resized.path), resized.mime, f"img{size}")
        return self._file(str(cover.path), cover.mime, "img")

    # ---- signed stream URLs (for <audio>, <img> and Subsonic-less clients that cannot send headers) ----

    def stream_token(self, user_id: str, item_id: str, ttl_s: int = STREAM_TOKEN_TTL_S) -> str:
        """A token for `?st=` that lets `user_id` fetch `item_id` (a track or image) for `ttl_s` seconds."""
        exp = int(time.time()) + ttl_s
        return f"{user_id}.{exp:x}.{self._sign(user_id, item_id, exp)}"

    def _sign(self, user_id: str, item_id: str, exp: int) -> str:
        mac = hmac.new(self._key, f"{user_id}\x00{item_id}\x00{exp}".encode(), hashlib.sha256).digest()
        return _b64(mac[:18])

    async def user_for_stream_token(self, token: str, item_id: str) -> User:
        """The user a stream token was issued to, if it is valid for `item_id` and unexpired."""
        parts = token.split(".")
        # The expiry is what stream_token wrote: at most 16 ASCII hex digits (int(x, 16) alone would take
        # non-ASCII digits, and thousands of hex digits that then fail to print in _sign).
        if len(parts) != 3 or not _EXPIRY_HEX.fullmatch(parts[1]):
            raise AuthError("invalid stream token", code="invalid_token")
        user_id, exp_hex, sig = parts
        exp = int(exp_hex, 16)
        if not hmac.compare_digest(sig, self._sign(user_id, item_id, exp)):
            raise AuthError("invalid stream token", code="invalid_token")
        if exp < time.time():
            raise AuthError("stream token expired", code="token_expired")
        now = time.monotonic()
        hit = self._users.get(user_id)
        if hit is None or now - hit[1] > _USER_CACHE_S:
            try:
                user = await self.accounts.get(user_id)
            except NotFoundError:
                raise AuthError("this account no longer exists", code="token_revoked") from None
            if len(self._users) > 10_000:
                self._users.clear()
            hit = self._users[user_id] = (user, now)
        if hit[0].disabled:
            raise AuthError("this account is disabled", code="account_disabled")
        return hit[0]
