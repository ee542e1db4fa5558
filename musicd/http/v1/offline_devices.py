"""/v1/me/devices: devices registered for offline listening (docs/offline.md), what each keeps offline; and
/v1/admin/devices, every user's devices for admins. Connect's playback devices are elsewhere
(/v1/me/player/devices)."""

from __future__ import annotations

from typing import Any, Literal

import msgspec
from litestar import Controller, delete, get, patch, post, put
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from musicd.domain.models import User
from musicd.http.auth import admin_only
from musicd.services.registry import Services

__all__ = ["AdminDevicesController", "MeDevicesController", "device_object"]


class NewDeviceBody(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    kind: str = "browser"


class RenameBody(msgspec.Struct, forbid_unknown_fields=True):
    name: str


class MarkBody(msgspec.Struct, forbid_unknown_fields=True):
    type: Literal["playlist", "album", "liked"]
    id: str = ""
    quality: str = "normal"


def device_object(rec: Any) -> dict[str, Any]:
    return {"id": rec.id, "name": rec.name, "kind": rec.kind, "key_version": rec.key_version,
            "revoked": rec.revoked_at is not None, "revoked_at": rec.revoked_at, "created_at": rec.created_at,
            "last_heartbeat_at": rec.last_heartbeat_at, "held_tracks": rec.held,
            "user": {"id": rec.user_id, "username": rec.username}}


def _mark_object(m: Any, tracks: list[str] | None = None, held: set[str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"type": m.source_type, "id": m.source_id or None, "quality": m.quality,
                           "created_at": m.created_at}
    if tracks is not None:
        out |= {"tracks": tracks, "total": len(tracks), "held": sum(1 for t in tracks if t in (held or set()))}
    return out


class MeDevicesController(Controller):
    path = "/v1/me/devices"
    tags = ["offline"]

    @get("/")
    async def list_devices(self, user: User, services: Services) -> dict[str, Any]:
        """The user's offline devices, revoked ones included."""
        items = [device_object(d) for d in await services.offline.devices(user)]
        return {"items": items, "total": len(items), "limit": services.config.offline.max_devices}

    @post("/", status_code=HTTP_201_CREATED)
    async def register(self, data: NewDeviceBody, user: User, services: Services) -> dict[str, Any]:
        """Register a device: `key` and `token` are in this answer only (the server keeps neither)."""
        reg = await services.offline.register(user, data.name, data.kind)
        return {**device_object(reg.device), "key": reg.key, "token": reg.token,
                "licence_public_key": reg.licence_public_key}

    @get("/{device_id:str}")
    async def get_device(self, device_id: str, user: User, services: Services) -> dict[str, Any]:
        return device_object(await services.offline.device(user, device_id))

    @patch("/{device_id:str}")
    async def rename(self, device_id: str, data: RenameBody, user: User, services: Services) -> dict[str, Any]:
        return device_object(await services.offline.rename(user, device_id, data.name))

    @delete("/{device_id:str}", status_code=HTTP_204_NO_CONTENT)
    async def revoke(self, device_id: str, user: User, services: Services) -> None:
        """Revoke a device: at its next heartbeat it deletes everything it keeps offline."""
        await services.offline.revoke(user, device_id)

    @get("/{device_id:str}/offline")
    async def offline_items(self, device_id: str, user: User, services: Services) -> dict[str, Any]:
        """What the device keeps offline: each marked source with its tracks now and how many it holds."""
        rec, marks, held = await services.offline.offline_state(user, device_id)
        items = [_mark_object(m, tracks, held) for m, tracks in marks]
        return {"device": device_object(rec), "items": items, "total": len({t for _, ts in marks for t in ts}),
                "held": len(held)}

    @put("/{device_id:str}/offline", status_code=HTTP_201_CREATED)
    async def mark(self, device_id: str, data: MarkBody, user: User, services: Services) -> dict[str, Any]:
        """Keep a playlist, an album or the liked songs offline on this device, in a quality."""
        return _mark_object(await services.offline_media.mark(user, device_id, data.type, data.id, data.quality))

    @delete("/{device_id:str}/offline", status_code=HTTP_204_NO_CONTENT)
    async def unmark(self, device_id: str, type: str, user: User, services: Services, id: str = "") -> None:
        """Stop keeping a source offline (`?type=playlist&id=...`): the device deletes its tracks."""
        await services.offline.unmark(user, device_id, type, id)


class AdminDevicesController(Controller):
    path = "/v1/admin/devices"
    tags = ["offline"]
    guards = [admin_only]

    @get("/")
    async def all_devices(self, user: User, services: Services) -> dict[str, Any]:
        """Every user's offline devices."""
        items = [device_object(d) for d in await services.offline.all_devices(user)]
        return {"items": items, "total": len(items)}

    @delete("/{device_id:str}", status_code=HTTP_204_NO_CONTENT)
    async def revoke(self, device_id: str, user: User, services: Services) -> None:
        """Revoke anyone's device."""
        await services.offline.revoke(user, device_id)
