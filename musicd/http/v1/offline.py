"""/v1/offline: what a registered device does with its own credentials (docs/offline.md, "The protocol"):
heartbeats (a fresh signed licence), downloads of its containers with Range, and the plays it made offline.

These routes skip the Bearer middleware: the device authenticates with `Authorization: Device <id>.<token>`,
so a device whose user session has lapsed still learns it was revoked, and keeps downloading in the
background without a user token.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.response import Stream
from litestar.status_codes import HTTP_200_OK, HTTP_206_PARTIAL_CONTENT, HTTP_416_REQUESTED_RANGE_NOT_SATISFIABLE

from musicd.domain.models import User
from musicd.errors import AuthError, ValidationError
from musicd.media import ranges
from musicd.services.offline_media import CONTAINER_TYPE, OfflinePlay
from musicd.services.registry import Services

__all__ = ["OfflineController"]

_OPEN = {"exclude_from_auth": True}
_MAX_PLAYS = 1000


class HeartbeatBody(msgspec.Struct, forbid_unknown_fields=True):
    held: list[str] | None = None  # track ids the device holds complete (its progress)


class PlayBody(msgspec.Struct, forbid_unknown_fields=True):
    track_id: str
    played_at: int  # ms since the epoch, when the play started
    ms_played: int


class PlaysBody(msgspec.Struct, forbid_unknown_fields=True):
    plays: list[PlayBody]


def _device_auth(request: Request[Any, Any, Any]) -> tuple[str, str]:
    scheme, _, cred = request.headers.get("authorization", "").partition(" ")
    device_id, dot, token = cred.strip().partition(".")
    if scheme.lower() != "device" or not dot or not device_id or not token or len(cred) > 200:
        raise AuthError("this endpoint needs a device token (Authorization: Device <device id>.<token>)",
                        code="no_device_token")
    return device_id, token


class OfflineController(Controller):
    path = "/v1/offline"
    tags = ["offline"]

    @get("/licence-key")
    async def licence_key(self, user: User, services: Services) -> dict[str, str]:
        """The Ed25519 public key licences are signed with (raw, base64url)."""
        return {"alg": "Ed25519", "key": services.offline.licence_public_key()}

    @post("/heartbeat", opt=_OPEN, status_code=HTTP_200_OK)
    async def heartbeat(self, request: Request[Any, Any, Any], services: Services,
                        data: dict[str, Any] | None = None) -> dict[str, Any]:
        """A fresh signed licence; `delete` lists what the device holds and may no longer keep."""
        device_id, token = _device_auth(request)  # before the body is read, as for every authenticated call
        try:
            body = msgspec.convert(data or {}, HeartbeatBody)
        except msgspec.ValidationError as e:
            raise ValidationError(f"invalid heartbeat: {e}", code="invalid_heartbeat") from None
        hb = await services.offline.heartbeat(device_id, token, body.held)
        return {"licence": msgspec.to_builtins(hb.licence), "status": hb.payload.status,
                "reason": hb.payload.reason, "delete": hb.delete}

    @get("/tracks/{track_id:str}", opt=_OPEN)
    async def container(self, request: Request[Any, Any, Any], services: Services, track_id: str
                        ) -> Response[Any]:
        """The track's container for this device (`application/vnd.musicd.offline`), with Range and If-Range."""
        device_id, token = _device_auth(request)
        body = await services.offline_media.container(device_id, token, track_id)
        headers = {"ETag": body.etag, "Accept-Ranges": "bytes", "Cache-Control": "no-store",
                   "X-Musicd-Quality": body.quality, "X-Musicd-Content-Type": body.content_type}
        spans = None
        if ranges.if_range_allows(request.headers.get("if-range"), body.etag, 0):
            try:
                spans = ranges.parse_range(request.headers.get("range"), body.size)
            except ranges.RangeNotSatisfiable:
                return Response(b"", status_code=HTTP_416_REQUESTED_RANGE_NOT_SATISFIABLE,
                                headers={**headers, "Content-Range": f"bytes */{body.size}"})
        if spans and len(spans) == 1:
            first, last = spans[0]
            headers |= {"Content-Range": f"bytes {first}-{last}/{body.size}", "Content-Length": str(last - first + 1)}
            return Stream(body.read(first, last), status_code=HTTP_206_PARTIAL_CONTENT, media_type=CONTAINER_TYPE,
                          headers=headers)
        headers["Content-Length"] = str(body.size)
        return Stream(body.read(0, body.size - 1), status_code=HTTP_200_OK, media_type=CONTAINER_TYPE,
                      headers=headers)

    @post("/plays", opt=_OPEN, status_code=HTTP_200_OK)
    async def plays(self, request: Request[Any, Any, Any], services: Services, data: dict[str, Any]
                    ) -> dict[str, int]:
        """Plays the device made offline, sent when it is back online; they go to the listening history."""
        device_id, token = _device_auth(request)  # before the body is read: no token, no detail about it
        try:
            body = msgspec.convert(data, PlaysBody)
        except msgspec.ValidationError as e:
            raise ValidationError(f"invalid plays: {e}", code="invalid_event") from None
        if len(body.plays) > _MAX_PLAYS:
            raise ValidationError(f"at most {_MAX_PLAYS} plays per request", code="too_many_plays")
        plays = [OfflinePlay(p.track_id, p.played_at / 1000, p.ms_played) for p in body.plays]
        return {"accepted": await services.offline_media.report_plays(device_id, token, plays)}
