"""/v1/speakers: how a `musicd speaker` signs in (a pairing code the user approves, or an API key)."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, post
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from musicd.domain.models import User
from musicd.http.auth import client_address
from musicd.http.v1.shapes import ERRORS
from musicd.services.registry import Services

__all__ = ["SpeakersController"]

_PUBLIC = {"exclude_from_auth": True}


class _NameBody(msgspec.Struct, forbid_unknown_fields=True):
    name: str


class _SecretBody(msgspec.Struct, forbid_unknown_fields=True):
    secret: str


class _KeyBody(msgspec.Struct, forbid_unknown_fields=True):
    api_key: str
    name: str | None = None


class _CodeBody(msgspec.Struct, forbid_unknown_fields=True):
    code: str


class SpeakersController(Controller):
    path = "/v1"
    tags = ["speakers"]

    @post("/speakers/pairings", opt=_PUBLIC, status_code=HTTP_201_CREATED, responses=ERRORS)
    async def start(self, request: Request[Any, Any, Any], data: _NameBody, services: Services) -> dict[str, Any]:
        """A pairing code for a new speaker to show; poll `/speakers/pairings/{id}/token` with the secret."""
        return msgspec.structs.asdict(await services.speakers.start(data.name, client_address(request)))

    @post("/speakers/pairings/{pairing_id:str}/token", opt=_PUBLIC, status_code=HTTP_200_OK, responses=ERRORS)
    async def claim(self, pairing_id: str, data: _SecretBody, services: Services) -> dict[str, Any]:
        """The speaker's tokens once the user approved its code (`authorization_pending` until then)."""
        return msgspec.structs.asdict(await services.speakers.claim(pairing_id, data.secret))

    @post("/speakers/token", opt=_PUBLIC, status_code=HTTP_200_OK, responses=ERRORS)
    async def with_key(self, request: Request[Any, Any, Any], data: _KeyBody, services: Services) -> dict[str, Any]:
        """Tokens for the owner of an API key (a speaker started with `--api-key`)."""
        return msgspec.structs.asdict(await services.speakers.with_api_key(data.api_key, client_address(request)))

    @post("/me/speakers/approve", status_code=HTTP_200_OK, responses=ERRORS)
    async def approve(self, request: Request[Any, Any, Any], user: User, data: _CodeBody, services: Services
                      ) -> dict[str, Any]:
        """Approve the code a speaker shows: it becomes one of your devices."""
        return {"name": await services.speakers.approve(user, data.code, client_address(request))}
