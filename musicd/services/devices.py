"""Devices of a user (issue 14): web player tabs and speakers online over the realtime channel, Subsonic
apps seen through their play reports.

A web player or a speaker registers with `device_register` on its realtime connection and is online for as
long as that connection is open. When the connection closes, the device is offline at once (it is no longer
listed nor commandable); if it was the active device and does not come back within `GRACE_S` (a speaker
reconnecting after a network blip plays out its buffer meanwhile), the player pauses the state at the last
known position (`on_lost`). A Subsonic app is listed for `SUBSONIC_SEEN_S` after its last report.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from musicd.domain.events import DevicesChanged
from musicd.domain.ids import random_id
from musicd.domain.player import Device
from musicd.errors import ForbiddenError, NotFoundError, ValidationError
from musicd.logs import get_logger
from musicd.services.bus import EventBus
from musicd.store.player import DeviceRepository

__all__ = ["GRACE_S", "SUBSONIC_SEEN_S", "DeviceService", "device_data"]

log = get_logger("musicd.devices")

GRACE_S = 5.0  # an active device that reconnects within this keeps playing; after it, the state pauses
SUBSONIC_SEEN_S = 600.0  # a Subsonic app is listed this long after its last report
MAX_NAME = 64
_TYPES = ("Computer", "Smartphone", "Speaker", "Tablet", "TV", "AVR", "STB", "AudioDongle", "GameConsole",
          "CastVideo", "CastAudio", "Automobile", "Unknown")
_KINDS = {"web": "Computer", "speaker": "Speaker"}


def device_data(d: Device) -> dict[str, Any]:
    """A device as the realtime messages carry it."""
    return {"id": d.id, "name": d.name, "kind": d.kind, "type": d.type, "supports_volume": d.supports_volume,
            "is_restricted": d.kind == "subsonic"}


class DeviceService:
    def __init__(self, repo: DeviceRepository, bus: EventBus) -> None:
        self.repo = repo
        self.bus = bus
        self._online: dict[str, dict[str, Device]] = {}  # user id -> device id -> device
        self._holder: dict[str, int] = {}  # device id -> the realtime connection it is online through
        self._by_conn: dict[int, set[tuple[str, str]]] = {}  # connection id -> (user id, device id)
        self._seen: dict[tuple[str, str], float] = {}  # (user, subsonic device) -> last report (monotonic)
        self._grace: dict[str, asyncio.Task[None]] = {}
        self.on_lost: Callable[[str, str], Awaitable[None]] | None = None

    # ---- online devices ----

    async def register(self, user_id: str, conn_id: int, msg: dict[str, Any]) -> Device:
        """Bring a device online on a realtime connection (a new id when none is given)."""
        kind = msg.get("kind", "web")
        if kind not in _KINDS:
            raise ValidationError("kind must be web or speaker", code="invalid_device")
        name = _name(msg.get("name"))
        dtype = msg.get("device_type", _KINDS[kind])
        if dtype not in _TYPES:
            raise ValidationError(f"device_type must be one of {', '.join(_TYPES)}", code="invalid_device")
        device_id = msg.get("device_id")
        if device_id is None:
            device_id = random_id()
        elif not (isinstance(device_id, str) and 8 <= len(device_id) <= 64 and device_id.isalnum()):
            raise ValidationError("device_id must be 8 to 64 letters and digits", code="invalid_device")
        known = await self.repo.get(device_id)
        if known is not None and known.user_id != user_id:
            raise ForbiddenError("that device belongs to someone else", code="forbidden")
        volume = msg.get("supports_volume", True)
        d = Device(id=device_id, user_id=user_id, name=name, kind=kind, type=dtype,
                   supports_volume=bool(volume), last_seen=time.time())
        await self.repo.upsert(d)
        old = self._holder.get(device_id)
        if old is not None and old != conn_id:
            self._by_conn.get(old, set()).discard((user_id, device_id))
        self._holder[device_id] = conn_id
        self._by_conn.setdefault(conn_id, set()).add((user_id, device_id))
        self._online.setdefault(user_id, {})[device_id] = d
        if (t := self._grace.pop(device_id, None)) is not None:
            t.cancel()
        self._changed(user_id)
        return d

    def disconnected(self, conn_id: int) -> None:
        """A realtime connection closed: its devices go offline (the active one gets a grace period)."""
        for user_id, device_id in self._by_conn.pop(conn_id, set()):
            if self._holder.get(device_id) != conn_id:
                continue
            del self._holder[device_id]
            self._online.get(user_id, {}).pop(device_id, None)
            self._changed(user_id)
            if self.on_lost is not None:
                self._grace[device_id] = asyncio.create_task(self._lost_after(user_id, device_id))

    async def _lost_after(self, user_id: str, device_id: str) -> None:
        await asyncio.sleep(GRACE_S)
        self._grace.pop(device_id, None)
        if device_id in self._holder or self.on_lost is None:
            return
        try:
            await self.on_lost(user_id, device_id)
        except Exception as e:  # the state stays as it was; the next command sets it right
            log.error("devices.lost_failed", device=device_id, error=str(e))

    def seen_subsonic(self, user_id: str, client: str) -> str:
        """A Subsonic app reported playback: its device id (listed for a while)."""
        digest = hashlib.sha256(f"{user_id}\0{client}".encode()).hexdigest()[:20]
        device_id = f"subsonic{digest}"
        self._seen[(user_id, device_id)] = time.monotonic()
        devs = self._online.setdefault(user_id, {})
        if device_id not in devs:
            devs[device_id] = Device(id=device_id, user_id=user_id, name=_name(client) if client else "Subsonic app",
                                     kind="subsonic", type="Smartphone", supports_volume=False,
                                     last_seen=time.time())
            self._changed(user_id)
        return device_id

    async def persist_subsonic(self, user_id: str, device_id: str) -> None:
        d = self._online.get(user_id, {}).get(device_id)
        if d is not None:
            await self.repo.upsert(msgspec.structs.replace(d, last_seen=time.time()))

    def is_online(self, user_id: str, device_id: str) -> bool:
        d = self._online.get(user_id, {}).get(device_id)
        if d is None:
            return False
        if d.kind == "subsonic":
            return time.monotonic() - self._seen.get((user_id, device_id), 0.0) < SUBSONIC_SEEN_S
        return True

    def restricted(self, user_id: str, device_id: str) -> bool:
        """Whether the server cannot command the device (a Subsonic app)."""
        d = self._online.get(user_id, {}).get(device_id)
        return d is not None and d.kind == "subsonic"

    def supports_volume(self, user_id: str, device_id: str) -> bool:
        d = self._online.get(user_id, {}).get(device_id)
        return d is not None and d.supports_volume

    def online(self, user_id: str) -> list[Device]:
        """The user's devices that can be listed now (most recently registered first)."""
        devs = [d for d in self._online.get(user_id, {}).values() if self.is_online(user_id, d.id)]
        return sorted(devs, key=lambda d: -d.last_seen)

    async def rename(self, user_id: str, device_id: str, name: str) -> Device:
        """Give one of the user's devices a new name."""
        name = _name(name)
        if not await self.repo.rename(user_id, device_id, name):
            raise NotFoundError("no such device", code="device_not_found")
        devs = self._online.get(user_id, {})
        if device_id in devs:
            devs[device_id] = msgspec.structs.replace(devs[device_id], name=name)
        self._changed(user_id)
        d = await self.repo.get(device_id)
        assert d is not None
        return d

    def _changed(self, user_id: str) -> None:
        self.bus.publish(DevicesChanged(user_id=user_id, devices=[device_data(d) for d in self.online(user_id)]))

    async def close(self) -> None:
        for t in list(self._grace.values()):
            t.cancel()
            with contextlib.suppress(BaseException):
                await t


def _name(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("a device needs a name", code="invalid_device")
    return value.strip()[:MAX_NAME]
