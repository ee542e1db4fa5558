"""/v1 Jam: group listening on one server timeline (musicd.services.jam, docs/connect.md)."""

from __future__ import annotations

from typing import Any, Literal

import msgspec
from litestar import Controller, delete, get, post, put
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from musicd.domain.models import User
from musicd.http.v1.shapes import ERRORS, parse_uri
from musicd.services.registry import Services

__all__ = ["JamController"]


class _Start(msgspec.Struct, forbid_unknown_fields=True):
    device_id: str


class _Join(msgspec.Struct, forbid_unknown_fields=True):
    code: str
    device_id: str


class JamController(Controller):
    path = "/v1"
    tags = ["jam"]

    @post("/me/jam", status_code=HTTP_201_CREATED, responses=ERRORS)
    async def start(self, user: User, data: _Start, services: Services) -> dict[str, Any]:
        """Start a Jam from your current playback, listening on `device_id`; share its `code`."""
        return (await services.jam.start(user, data.device_id)).data()

    @post("/jam/join", responses=ERRORS, status_code=200)
    async def join(self, user: User, data: _Join, services: Services) -> dict[str, Any]:
        """Join a Jam by its code, listening on `device_id`."""
        return (await services.jam.join(user, data.code, data.device_id)).data()

    @get("/jam/{jam_id:str}", responses=ERRORS)
    async def show(self, user: User, services: Services, jam_id: str) -> dict[str, Any]:
        """The Jam's timeline, queue and members (members only)."""
        return services.jam.get(user, jam_id).data()

    @post("/jam/{jam_id:str}/queue", status_code=HTTP_204_NO_CONTENT, responses=ERRORS)
    async def add(self, user: User, services: Services, jam_id: str, uri: str) -> None:
        """Add a track to the shared queue."""
        await services.jam.add(user, jam_id, parse_uri(uri, ("track",))[1])

    @put("/jam/{jam_id:str}/{action:str}", status_code=HTTP_204_NO_CONTENT, responses=ERRORS)
    async def control(self, user: User, services: Services, jam_id: str,
                      action: Literal["pause", "play", "next"]) -> None:
        """The host pauses, resumes or skips."""
        await services.jam.control(user, jam_id, action)

    @delete("/jam/{jam_id:str}", status_code=HTTP_204_NO_CONTENT, responses=ERRORS)
    async def leave(self, user: User, services: Services, jam_id: str) -> None:
        """Leave the Jam; the host ends it for everyone."""
        await services.jam.leave(user, jam_id)
