"""`/fed/v1`: what paired servers ask of this one, each request signed (docs/federation.md).

Every handler first authenticates the peer (`_peer`): the signature over method, path, query, content
digest and recipient, the ±300 s window, the nonce, the pairing's status and the scope. Failures are 401
(403 for a scope not granted, 429 past the peer's rate) with the usual JSON error; nothing of the local
users' API is reachable from here.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

import msgspec
from litestar import Controller, Request, get, post, route
from litestar.params import Parameter
from litestar.response import Response
from litestar.status_codes import HTTP_200_OK

from musicd.domain.tiers import QUALITIES
from musicd.errors import ValidationError
from musicd.http.auth import client_address
from musicd.http.bounds import Int64, Seconds
from musicd.http.streaming import MediaResponse
from musicd.services.federation import PeerAuth
from musicd.services.registry import Services

__all__ = ["FedController", "WellKnownController"]

_JSON = "application/json"
# A page of the catalogue or the change feed: FedExportService answers 400 outside 1..500 itself.
PageSize = Annotated[int, Parameter(ge=-(2**31), le=2**31, description="Items per page (1 to 500)")]


def _target(request: Request[Any, Any, Any]) -> str:
    """The request target as it arrived (what the peer signed as @path and @query)."""
    raw = request.scope.get("raw_path") or quote(request.scope["path"]).encode()
    qs = request.scope.get("query_string", b"")
    return (raw + (b"?" + qs if qs else b"")).decode("latin-1")


async def _peer(request: Request[Any, Any, Any], services: Services, scope: str | None) -> PeerAuth:
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.scope["headers"]]
    body = await request.body()
    return await services.fed.service.authenticate(request.method, _target(request), headers, body,
                                                   client_address(request), scope)


def _json(value: Any) -> Response[bytes]:
    return Response(msgspec.json.encode(value), media_type=_JSON, status_code=HTTP_200_OK)


class WellKnownController(Controller):
    path = "/.well-known"
    include_in_schema = False

    @get("/musicd")
    async def well_known(self, services: Services) -> dict[str, object]:
        """Who this server is: instance id, name, version and public key (no auth)."""
        return services.fed.service.well_known()


class FedController(Controller):
    path = "/fed/v1"
    include_in_schema = False

    @post("/pair", status_code=HTTP_200_OK)
    async def pair(self, request: Request[Any, Any, Any], services: Services) -> Response[bytes]:
        """A server joining with an invite (signed with the key it offers)."""
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.scope["headers"]]
        reply = await services.fed.service.accept_pair(request.method, _target(request), headers,
                                                       await request.body())
        return _json(reply)

    @get("/hello")
    async def hello(self, request: Request[Any, Any, Any], services: Services) -> Response[bytes]:
        """Who answers, and which scopes it grants the caller."""
        return _json(services.fed.service.hello(await _peer(request, services, None)))

    @get("/catalog")
    async def catalog(self, request: Request[Any, Any, Any], services: Services, after: str = "",
                      limit: PageSize = 500) -> Response[bytes]:
        """Tracks by id after `after` (keyset pages); `cursor` is the change seq to follow afterwards."""
        await _peer(request, services, "library")
        return _json(await services.fed.export.catalog(after[:128], limit))

    @get("/changes")
    async def changes(self, request: Request[Any, Any, Any], services: Services, since: Int64 = 0,
                      limit: PageSize = 500) -> Response[bytes]:
        """Changes after `since`, oldest first, with tombstones."""
        await _peer(request, services, "library")
        return _json(await services.fed.export.changes(since, limit))

    @get("/playlists")
    async def playlists(self, request: Request[Any, Any, Any], services: Services) -> Response[bytes]:
        """The playlists their owners shared with the calling server."""
        peer = await _peer(request, services, "library")
        return _json(await services.fed.export.shared_playlists(peer.peer_id))

    @route("/tracks/{track_id:str}/stream", http_method=["GET", "HEAD"])
    async def stream(self, request: Request[Any, Any, Any], services: Services, track_id: str,
                     quality: str = "original", time_offset: Seconds = 0.0) -> MediaResponse:
        """A track's bytes at a quality (transcoded here), with Range."""
        await _peer(request, services, "stream")
        if quality not in QUALITIES:
            raise ValidationError(f"quality must be one of {', '.join(QUALITIES)}", code="invalid_quality")
        body = await services.fed.export.open_track(track_id, quality, time_offset, request.method == "HEAD")
        return MediaResponse(body)

    @get("/users/{username:str}")
    async def user(self, request: Request[Any, Any, Any], services: Services, username: str) -> Response[bytes]:
        """A user of this server, to be followed from a peer."""
        await _peer(request, services, "activity")
        return _json(await services.fed.export.user(username))

    @get("/users/{username:str}/activity")
    async def activity(self, request: Request[Any, Any, Any], services: Services,
                       username: str) -> Response[bytes]:
        """What the user last played, if they share their listening (off unless they turned it on)."""
        await _peer(request, services, "activity")
        return _json(await services.fed.export.activity(username))

    @post("/notify", status_code=HTTP_200_OK)
    async def notify(self, request: Request[Any, Any, Any], services: Services) -> dict[str, bool]:
        """The peer's catalogue or shared playlists changed (or it started): mirror it again soon."""
        peer = await _peer(request, services, None)
        services.fed.sync.wake(peer.peer_id)
        return {"ok": True}

    @post("/revoke", status_code=HTTP_200_OK)
    async def revoke(self, request: Request[Any, Any, Any], services: Services) -> dict[str, bool]:
        """The peer ended the pairing: forget its items now."""
        peer = await _peer(request, services, None)
        await services.fed.service.revoke(peer.peer_id, tell_peer=False)
        return {"ok": True}
