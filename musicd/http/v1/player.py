"""/v1/me/player: Spotify's player endpoints over the server-held playback state (issue 14).

Shapes and errors are Spotify's (a failed command answers `{"error": {"status", "code", "message",
"reason"}}` with `reason` NO_ACTIVE_DEVICE, DEVICE_NOT_FOUND, VOLUME_CONTROL_DISALLOW, ...), so spotipy's
player methods work unchanged. Commands answer 204. Our own clients may add `state_version` (the version
they acted on): a command against an older version is refused with 409 `stale_state`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, Response, delete, get, post, put
from litestar.params import Parameter
from litestar.status_codes import HTTP_204_NO_CONTENT

from musicd.domain.models import User
from musicd.domain.numbers import INT64_MAX, INT64_MIN
from musicd.errors import ValidationError
from musicd.http.bounds import Int64
from musicd.http.urls import base_url
from musicd.http.v1.shapes import ERRORS, parse_id, parse_uri, track_full
from musicd.services.player import Context, DeviceView, PlayerView, is_station_uri
from musicd.services.registry import Services

__all__ = ["PlayerController", "device_object"]

DeviceId = Annotated[str | None, Parameter(description="The device to act on (default: the active one)")]
Version = Annotated[int | None, Parameter(ge=0, le=INT64_MAX, description="The state_version a command was made on")]
Percent = Annotated[int, Parameter(ge=INT64_MIN, le=INT64_MAX, description="0 to 100 (checked by the player)")]
_NO = HTTP_204_NO_CONTENT


class _Offset(msgspec.Struct, forbid_unknown_fields=True):
    position: Int64 | None = None
    uri: str | None = None


class _PlayBody(msgspec.Struct, forbid_unknown_fields=True):
    context_uri: str | None = None
    uris: list[str] | None = None
    offset: _Offset | None = None
    position_ms: Int64 | None = None


class _TransferBody(msgspec.Struct, forbid_unknown_fields=True):
    device_ids: list[str]
    play: bool | None = None


class _RenameBody(msgspec.Struct, forbid_unknown_fields=True):
    name: str


async def _body(request: Request[Any, Any, Any], kind: type[Any]) -> Any:
    raw = await request.body()
    if not raw.strip():
        return None
    try:
        return msgspec.json.decode(raw, type=kind)
    except (msgspec.DecodeError, msgspec.ValidationError) as e:
        raise ValidationError(f"invalid body: {e}", code="bad_body") from None


def device_object(d: DeviceView) -> dict[str, Any]:
    """Spotify's device object."""
    dev = d.device
    return {"id": dev.id, "is_active": d.is_active, "is_private_session": False,
            "is_restricted": dev.kind == "subsonic", "name": dev.name, "type": dev.type,
            "volume_percent": d.volume, "supports_volume": dev.supports_volume, "kind": dev.kind}


def _context(uri: str | None) -> dict[str, Any] | None:
    if uri is None:
        return None
    kind, cid = uri.split(":", 2)[1:]  # a station's id is `<kind>:<id>` (spotify:station:track:<id>)
    return {"type": kind, "uri": uri, "href": None, "external_urls": {}, "id": cid}


def _playback(base: str, v: PlayerView, with_device: bool = True) -> dict[str, Any]:
    s = v.state
    out: dict[str, Any] = {
        "timestamp": v.timestamp_ms, "context": _context(s.context_uri), "progress_ms": v.position_ms,
        "is_playing": s.playing, "item": track_full(base, v.track) if v.track else None,
        "currently_playing_type": "track",
        "actions": {"disallows": {"resuming": s.playing, "pausing": not s.playing}},
        "state_version": s.version,
    }
    if with_device:
        out.update({"device": device_object(v.device) if v.device else None, "repeat_state": s.repeat,
                    "shuffle_state": s.shuffle, "smart_shuffle": False})
    return out


def _none() -> Response[None]:
    return Response(None, status_code=_NO)


class PlayerController(Controller):
    path = "/v1/me/player"
    tags = ["player"]

    @get("", responses=ERRORS)
    async def playback(self, request: Request[Any, Any, Any], user: User, services: Services) -> Response[Any]:
        """The playback state: track, progress, device, shuffle, repeat (204 when nothing is current)."""
        v = await services.player.view(user)
        return Response(_playback(base_url(request), v)) if v else _none()

    @get("/currently-playing", responses=ERRORS)
    async def currently_playing(self, request: Request[Any, Any, Any], user: User, services: Services
                                ) -> Response[Any]:
        """The current track and progress (204 when nothing is current)."""
        v = await services.player.view(user)
        return Response(_playback(base_url(request), v, with_device=False)) if v else _none()

    @put("", status_code=_NO, responses=ERRORS)
    async def transfer(self, request: Request[Any, Any, Any], user: User, services: Services,
                       state_version: Version = None) -> None:
        """Move playback to another device (`{"device_ids": [id], "play": true}`)."""
        body = await _body(request, _TransferBody)
        if body is None or len(body.device_ids) != 1:
            raise ValidationError("device_ids must name exactly one device", code="bad_body")
        await services.player.transfer(user, body.device_ids[0], body.play, by="api", expected=state_version)

    @get("/devices", responses=ERRORS)
    async def devices(self, user: User, services: Services) -> dict[str, Any]:
        """The devices playback can move to."""
        return {"devices": [device_object(d) for d in await services.player.device_list(user)]}

    @put("/devices/{device_id:str}", responses=ERRORS)
    async def rename(self, request: Request[Any, Any, Any], user: User, services: Services,
                     device_id: str) -> dict[str, Any]:
        """Rename one of your devices (`{"name": ...}`)."""
        body = await _body(request, _RenameBody)
        if body is None:
            raise ValidationError("give a name", code="bad_body")
        d = await services.devices.rename(user.id, device_id, body.name)
        return {"id": d.id, "name": d.name, "type": d.type, "kind": d.kind}

    @put("/play", status_code=_NO, responses=ERRORS)
    async def play(self, request: Request[Any, Any, Any], user: User, services: Services,
                   device_id: DeviceId = None, state_version: Version = None) -> None:
        """Start a context (`context_uri`) or tracks (`uris`) at `offset` and `position_ms`, or resume."""
        body = await _body(request, _PlayBody) or _PlayBody()
        ctx = None
        if body.context_uri is not None and is_station_uri(body.context_uri):
            ctx = Context("station", body.context_uri.strip())  # docs/radio.md; the station checks it
        elif body.context_uri is not None:
            kind, cid = parse_uri(body.context_uri, ("album", "playlist", "artist"))
            ctx = Context(kind, cid)
        elif body.uris is not None:
            if not body.uris:
                raise ValidationError("uris is empty", code="missing_uris")
            ctx = Context(track_ids=[parse_uri(u, ("track",))[1] for u in body.uris])
        offset: int | str | None = None
        if body.offset is not None:
            if ctx is None:
                raise ValidationError("offset needs context_uri or uris", code="invalid_offset")
            offset = body.offset.position if body.offset.uri is None else parse_id(body.offset.uri, "track")
        await services.player.play(user, ctx, offset, body.position_ms, device_id, by="api", expected=state_version)

    @put("/pause", status_code=_NO, responses=ERRORS)
    async def pause(self, user: User, services: Services, device_id: DeviceId = None,
                    state_version: Version = None) -> None:
        """Pause playback."""
        await services.player.pause(user, device_id, by="api", expected=state_version)

    @post("/next", status_code=_NO, responses=ERRORS)
    async def next(self, user: User, services: Services, device_id: DeviceId = None,
                   state_version: Version = None) -> None:
        """Skip to the next track (the play-next queue first)."""
        await services.player.skip(user, 1, device_id, by="api", expected=state_version)

    @post("/previous", status_code=_NO, responses=ERRORS)
    async def previous(self, user: User, services: Services, device_id: DeviceId = None,
                       state_version: Version = None) -> None:
        """Back to the previous track (or the start of this one after 3 s)."""
        await services.player.skip(user, -1, device_id, by="api", expected=state_version)

    @put("/seek", status_code=_NO, responses=ERRORS)
    async def seek(self, user: User, services: Services, position_ms: Int64, device_id: DeviceId = None,
                   state_version: Version = None) -> None:
        """Seek to `position_ms` (past the end plays the next track)."""
        await services.player.seek(user, position_ms, device_id, by="api", expected=state_version)

    @put("/volume", status_code=_NO, responses=ERRORS)
    async def volume(self, user: User, services: Services, volume_percent: Percent, device_id: DeviceId = None,
                     state_version: Version = None) -> None:
        """Set the volume (0..100)."""
        await services.player.set_volume(user, volume_percent, device_id, by="api", expected=state_version)

    @put("/shuffle", status_code=_NO, responses=ERRORS)
    async def shuffle(self, user: User, services: Services, on: Annotated[bool, Parameter(query="state")],
                      device_id: DeviceId = None, state_version: Version = None) -> None:
        """Shuffle on or off (`state`; the current track stays current)."""
        await services.player.set_shuffle(user, on, device_id, by="api", expected=state_version)

    @put("/repeat", status_code=_NO, responses=ERRORS)
    async def repeat(self, user: User, services: Services,
                     mode: Annotated[Literal["track", "context", "off"], Parameter(query="state")],
                     device_id: DeviceId = None, state_version: Version = None) -> None:
        """Repeat (`state`) the track, the context, or nothing."""
        await services.player.set_repeat(user, mode, device_id, by="api", expected=state_version)

    @get("/queue", responses=ERRORS)
    async def queue(self, request: Request[Any, Any, Any], user: User, services: Services) -> dict[str, Any]:
        """The current track and what comes next (the play-next queue, then the context)."""
        v = await services.player.view(user, with_queue=True)
        base = base_url(request)
        if v is None:
            return {"currently_playing": None, "queue": []}
        return {"currently_playing": track_full(base, v.track) if v.track else None,
                "queue": [track_full(base, t) for t in v.queue]}

    @post("/queue", status_code=_NO, responses=ERRORS)
    async def add_to_queue(self, user: User, services: Services, uri: str, device_id: DeviceId = None) -> None:
        """Play a track next (after what is already queued)."""
        await services.player.add_to_queue(user, parse_uri(uri, ("track",))[1], device_id, by="api")

    @delete("/queue", status_code=_NO, responses=ERRORS)
    async def remove_from_queue(self, user: User, services: Services, uri: str, index: Int64,
                                device_id: DeviceId = None, state_version: Version = None) -> None:
        """(musicd) Take out the `index`-th coming track of GET /queue, when it is still `uri`."""
        await services.player.remove_from_queue(user, index, parse_uri(uri, ("track",))[1], device_id, by="api",
                                                expected=state_version)

    @put("/queue/move", status_code=_NO, responses=ERRORS)
    async def move_in_queue(self, user: User, services: Services, uri: str, index: Int64, to: Int64,
                            device_id: DeviceId = None, state_version: Version = None) -> None:
        """(musicd) Move the `index`-th coming track of GET /queue (still `uri`) to be the `to`-th."""
        await services.player.move_in_queue(user, index, parse_uri(uri, ("track",))[1], to, device_id, by="api",
                                            expected=state_version)

    @put("/queue/play", status_code=_NO, responses=ERRORS)
    async def play_from_queue(self, user: User, services: Services, uri: str, index: Int64,
                              device_id: DeviceId = None, state_version: Version = None) -> None:
        """(musicd) Play the `index`-th coming track of GET /queue (still `uri`) now."""
        await services.player.play_from_queue(user, index, parse_uri(uri, ("track",))[1], device_id, by="api",
                                              expected=state_version)
