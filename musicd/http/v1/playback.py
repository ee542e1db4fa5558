"""/v1 playback: stream, download, zips, cover images, signed stream URLs and play events.

The media routes skip the Bearer middleware and authenticate here, because `<audio>` and `<img>`
cannot send headers: an `Authorization: Bearer` header or a signed `?st=` token bound to the item
both work (a verified access token is remembered for a few seconds, see PlaybackService). Media
requests are not rate limited (a player seeks and prefetches in bursts, and a file costs the server
almost nothing). The handler resolves what to send (errors are normal JSON
errors); the returned `MediaResponse` sends it with Range support and no database access.
"""

from __future__ import annotations

import math
import time
from typing import Any, Literal

import msgspec
from litestar import Controller, Request, post, route
from litestar.status_codes import HTTP_202_ACCEPTED

from musicd.domain.models import User
from musicd.errors import AuthError, ValidationError
from musicd.http.auth import bearer_token
from musicd.http.bounds import OptImageSize, Seconds
from musicd.http.streaming import IMAGE_CACHE, MediaResponse, send_stream
from musicd.services.play_events import PlayEvent
from musicd.services.playback import STREAM_TOKEN_TTL_S
from musicd.services.registry import Services

__all__ = ["PlaybackController", "PlayerEventsController", "media_user"]

_OPEN = {"exclude_from_auth": True}
_GET_HEAD = ["GET", "HEAD"]
_MAX_EVENTS = 500


async def media_user(request: Request[Any, Any, Any], services: Services, item_id: str, st: str | None) -> User:
    token = bearer_token(request)
    if token is not None:
        return await services.auth.user_for_access_token(token)
    if st:
        return await services.playback.user_for_stream_token(st, item_id)
    raise AuthError("this needs an access token (Authorization: Bearer ...) or a stream token (?st=...)",
                    code="no_token")


class _ZipResponse:
    __slots__ = ("chunks", "filename")

    def __init__(self, filename: str, chunks: Any) -> None:
        self.filename = filename
        self.chunks = chunks

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await send_stream(scope, send, self.filename, "application/zip", self.chunks)


class PlaybackController(Controller):
    path = "/v1"
    tags = ["playback"]

    @route("/tracks/{track_id:str}/stream", http_method=_GET_HEAD, opt=_OPEN)
    async def stream(
        self, request: Request[Any, Any, Any], services: Services, track_id: str,
        quality: Literal["low", "normal", "high", "lossless", "original"] | None = None,
        time_offset: Seconds = 0.0, device_id: str | None = None, st: str | None = None,
        format: Literal["ogg", "mp3", "aac", "opus"] | None = None,
    ) -> MediaResponse:
        """The track at a quality (default: the user's) in a tier `format` (default ogg), with Range;
        `time_offset` seeks inside a tier."""
        user = await media_user(request, services, track_id, st)
        q = await services.playback.quality_for(user, quality, device_id)
        body = await services.playback.open_track(track_id, q, time_offset=time_offset,
                                                  head=request.method == "HEAD",
                                                  range_header=request.headers.get("range"),
                                                  codec=services.playback.codec_for(format))
        return MediaResponse(body)

    @route("/tracks/{track_id:str}/download", http_method=_GET_HEAD, opt=_OPEN)
    async def download(self, request: Request[Any, Any, Any], services: Services, track_id: str,
                       st: str | None = None) -> MediaResponse:
        """The original file as an attachment (Range works: downloads can resume)."""
        user = await media_user(request, services, track_id, st)
        return MediaResponse(await services.playback.open_download(track_id, user))

    @route("/albums/{album_id:str}/download", http_method=_GET_HEAD, opt=_OPEN)
    async def album_download(self, request: Request[Any, Any, Any], services: Services, album_id: str,
                             st: str | None = None) -> _ZipResponse:
        """The album's original files as a zip, streamed as it is written."""
        user = await media_user(request, services, album_id, st)
        z = await services.downloads.album_zip(album_id, user)
        return _ZipResponse(z.filename, z.chunks)

    @route("/playlists/{playlist_id:str}/download", http_method=_GET_HEAD, opt=_OPEN)
    async def playlist_download(self, request: Request[Any, Any, Any], services: Services, playlist_id: str,
                                st: str | None = None) -> _ZipResponse:
        """A playlist's tracks as a zip in playlist order."""
        user = await media_user(request, services, playlist_id, st)
        z = await services.downloads.playlist_zip(playlist_id, user)
        return _ZipResponse(z.filename, z.chunks)

    @route("/images/{image_id:str}", http_method=_GET_HEAD, opt=_OPEN)
    async def image(self, request: Request[Any, Any, Any], services: Services, image_id: str,
                    size: OptImageSize = None, st: str | None = None) -> MediaResponse:
        """A cover image, scaled to fit `size` pixels when given."""
        await media_user(request, services, image_id, st)
        return MediaResponse(await services.playback.image(image_id, size), IMAGE_CACHE)

    @route("/tracks/{track_id:str}/stream-url", http_method=["GET"])
    async def stream_url(self, user: User, services: Services, track_id: str,
                         quality: Literal["low", "normal", "high", "lossless", "original"] | None = None
                         ) -> dict[str, Any]:
        """A signed URL for `<audio src>` (no header needed) and when it expires."""
        await services.playback.source(track_id)  # 404 for an unknown track
        st = services.playback.stream_token(user.id, track_id)
        url = f"/v1/tracks/{track_id}/stream?st={st}" + (f"&quality={quality}" if quality else "")
        return {"url": url, "token": st, "expires_at": int(time.time()) + STREAM_TOKEN_TTL_S}


def _seconds(ms: int) -> float:
    """Milliseconds to POSIX seconds; an integer too large for a float is no time at all (the service says so)."""
    return ms / 1000 if abs(ms) < 2**63 else math.inf


class EventBody(msgspec.Struct, forbid_unknown_fields=True):
    track_id: str
    event: Literal["start", "progress", "end"]
    position_ms: int = 0
    ms_played: int = 0
    context_uri: str | None = None
    device_id: str | None = None
    timestamp: int | None = None  # when it happened, ms since the epoch (default: now)


class EventsBody(msgspec.Struct, forbid_unknown_fields=True):
    events: list[EventBody]


class PlayerEventsController(Controller):
    path = "/v1/me/player"
    tags = ["playback"]

    @post("/events", status_code=HTTP_202_ACCEPTED)
    async def events(self, user: User, services: Services, data: dict[str, Any]) -> dict[str, int]:
        """Report playback: `start`, `progress` (every 30 s) and `end`, one event or `{"events": [...]}`.

        202 means the events are journaled (they survive a crash); they reach the history in batches."""
        try:
            items = (msgspec.convert(data, EventsBody).events if "events" in data
                     else [msgspec.convert(data, EventBody)])
        except msgspec.ValidationError as e:
            raise ValidationError(f"invalid event: {e}", code="invalid_event") from None
        if len(items) > _MAX_EVENTS:
            raise ValidationError(f"at most {_MAX_EVENTS} events per request", code="too_many_events")
        now = time.time()
        events = [PlayEvent(user.id, e.track_id, e.event, now if e.timestamp is None else _seconds(e.timestamp),
                            e.position_ms, e.ms_played, e.context_uri, e.device_id) for e in items]
        return {"accepted": await services.play_reports.submit(user, events)}
