"""The player's part of the realtime channel (docs/realtime.md, "Devices and playback").

Events: `player_state` (every new version of the user's playback state) and `devices_changed`, to every
connection of the user. Commands: `device_register` (this connection is a device), `device_rename`,
`player_report` (the active device says what it really played), `player_get`, and `time_sync` (the
server's clock, for Jam members). `jam_state` goes to the members of a Jam.
"""

from __future__ import annotations

import time
from typing import Any

from musicd.domain.events import DevicesChanged, JamChanged, PlayerStateChanged
from musicd.domain.models import User
from musicd.errors import ValidationError
from musicd.services.devices import DeviceService, device_data
from musicd.services.player import PlayerService, state_message
from musicd.services.realtime import Delivery, RealtimeHub
from musicd.services.realtime_conn import Connection

__all__ = ["install_player"]


def _int(msg: dict[str, Any], key: str, default: int | None = None) -> int:
    v = msg.get(key, default)
    if not isinstance(v, int) or isinstance(v, bool):
        raise ValidationError(f"{key} must be an integer", code="invalid_message")
    return v


def _bool(msg: dict[str, Any], key: str, default: bool) -> bool:
    v = msg.get(key, default)
    if not isinstance(v, bool):
        raise ValidationError(f"{key} must be true or false", code="invalid_message")
    return v


def install_player(hub: RealtimeHub, player: PlayerService, devices: DeviceService) -> None:
    """Route the player's events and commands through the realtime hub."""

    async def state_route(e: PlayerStateChanged) -> list[Delivery]:
        return [Delivery("player_state", e.state, users=(e.user_id,))]

    async def devices_route(e: DevicesChanged) -> list[Delivery]:
        return [Delivery("devices_changed", {"devices": e.devices}, users=(e.user_id,))]

    hub.route(PlayerStateChanged, state_route, sends=("player_state",))  # type: ignore[arg-type]
    hub.route(DevicesChanged, devices_route, sends=("devices_changed",))  # type: ignore[arg-type]

    async def jam_route(e: JamChanged) -> list[Delivery]:
        return [Delivery("jam_state", e.data, users=tuple(e.users))]

    hub.route(JamChanged, jam_route, sends=("jam_state",))  # type: ignore[arg-type]

    async def register(conn: Connection, msg: dict[str, Any]) -> dict[str, Any]:
        d = await devices.register(conn.user.id, conn.id, msg)
        return {"device": device_data(d), "state": state_message(await player.state(conn.user.id))}

    async def rename(user: User, msg: dict[str, Any]) -> dict[str, Any]:
        device_id = msg.get("device_id")
        if not isinstance(device_id, str):
            raise ValidationError("device_id must be a string", code="invalid_message")
        return {"device": device_data(await devices.rename(user.id, device_id, msg.get("name", "")))}

    async def report(user: User, msg: dict[str, Any]) -> dict[str, Any]:
        device_id, track_id = msg.get("device_id"), msg.get("track_id")
        if not isinstance(device_id, str) or not (track_id is None or isinstance(track_id, str)):
            raise ValidationError("device_id and track_id must be strings", code="invalid_message")
        at = msg.get("at")
        if at is not None and not isinstance(at, int | float):
            raise ValidationError("at must be epoch milliseconds", code="invalid_message")
        s = await player.report(user, device_id, _int(msg, "state_version"), track_id, _int(msg, "position_ms"),
                                _bool(msg, "is_playing", True), _bool(msg, "ended", False),
                                None if at is None else at / 1000)
        return {"state_version": s.version}

    async def get(user: User, msg: dict[str, Any]) -> dict[str, Any]:
        return {"state": state_message(await player.state(user.id)),
                "devices": [device_data(d) for d in devices.online(user.id)]}

    hub.connection_command("device_register", register)
    hub.command("device_rename", rename)
    hub.command("player_report", report)
    hub.command("player_get", get)

    async def time_sync(user: User, msg: dict[str, Any]) -> dict[str, Any]:
        return {"server_time": time.time() * 1000}

    hub.command("time_sync", time_sync)
    hub.on_disconnect(lambda conn: devices.disconnected(conn.id))
