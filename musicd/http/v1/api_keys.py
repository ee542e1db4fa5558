"""/v1/me/api-keys: the web player's page for the keys Subsonic apps log in with (OpenSubsonic apiKey)."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, delete, get, post
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from musicd.domain.models import User
from musicd.http.urls import base_url
from musicd.services.registry import Services

__all__ = ["ApiKeysController"]


class NewKeyBody(msgspec.Struct, forbid_unknown_fields=True):
    name: str = ""


def _key_object(rec: Any) -> dict[str, Any]:
    return {"id": rec.id, "name": rec.name, "prefix": rec.prefix, "created_at": rec.created_at,
            "last_used_at": rec.last_used_at}


class ApiKeysController(Controller):
    path = "/v1/me/api-keys"
    tags = ["accounts"]

    @get("/")
    async def list_keys(self, request: Request[Any, Any, Any], user: User, services: Services) -> dict[str, Any]:
        """The user's API keys (never the keys themselves) and the URL to give Subsonic apps."""
        keys = await services.api_keys.list(user)
        return {"items": [_key_object(k) for k in keys], "total": len(keys), "server_url": base_url(request),
                "username": user.username}

    @post("/", status_code=HTTP_201_CREATED)
    async def create_key(self, request: Request[Any, Any, Any], data: NewKeyBody, user: User,
                         services: Services) -> dict[str, Any]:
        """A new key: the `key` is in this answer only, the server keeps a hash."""
        rec, key = await services.api_keys.create(user, data.name)
        return {**_key_object(rec), "key": key, "server_url": base_url(request), "username": user.username}

    @delete("/{key_id:str}", status_code=HTTP_204_NO_CONTENT)
    async def revoke_key(self, key_id: str, user: User, services: Services) -> None:
        """Revoke a key: apps using it stop working at once."""
        await services.api_keys.revoke(user, key_id)
