"""GET /v1/realtime: the WebSocket transport of the realtime channel (docs/realtime.md).

This module frames: it accepts, waits for the `auth` message (5 s), enforces the message size and
rate limits, parses JSON, and runs one reader and one writer per connection. What a message means, who
receives what, the history and resume are musicd.services.realtime's.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import msgspec
from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect

from musicd.http.v1.friends import friend_activity_object
from musicd.logs import get_logger
from musicd.services.friends import FriendActivity
from musicd.services.realtime import RealtimeHub
from musicd.services.realtime_conn import CLOSE_CODES, Connection
from musicd.services.registry import Services

__all__ = ["install_realtime", "realtime_socket"]

log = get_logger("musicd.realtime")

_CLOSE_WAIT_S = 1.0  # a close frame that cannot be written in this long (the client does not read) is skipped
_decode = msgspec.json.Decoder()


def install_realtime(services: Services) -> None:
    """Give the hub the wire shapes of read models (friend activity as on /v1/me/friends/activity)."""
    base = services.config.server.public_url.rstrip("/")

    def wire(data: Any) -> Any:
        if isinstance(data, FriendActivity):
            return friend_activity_object(base, data)
        if isinstance(data, dict):
            return {k: wire(v) for k, v in data.items()}
        if isinstance(data, list | tuple):
            return [wire(v) for v in data]
        return data

    services.realtime.set_encoder(wire)


async def _receive(socket: WebSocket[Any, Any, Any]) -> str | bytes | None:
    """The next client message, None when the client went away."""
    event = await socket.receive()
    if event["type"] != "websocket.receive":
        return None
    text = event.get("text")
    return text if text is not None else (event.get("bytes") or b"")


async def _close(socket: WebSocket[Any, Any, Any], name: str, reason: str) -> None:
    with contextlib.suppress(Exception):
        await asyncio.wait_for(socket.close(CLOSE_CODES[name], f"{name}: {reason}"[:120]), _CLOSE_WAIT_S)


async def _handshake(socket: WebSocket[Any, Any, Any], hub: RealtimeHub) -> Connection | None:
    """Wait for a valid `auth` message; close with the matching code otherwise."""
    cfg = hub.cfg
    try:
        raw = await asyncio.wait_for(_receive(socket), cfg.auth_timeout_seconds)
    except TimeoutError:
        await _close(socket, "auth_timeout", f"no auth message within {cfg.auth_timeout_seconds:g} s")
        return None
    if raw is None:
        return None
    if len(raw) > cfg.max_message_bytes or (isinstance(raw, str) and len(raw.encode()) > cfg.max_message_bytes):
        await _close(socket, "message_too_large", f"messages are at most {cfg.max_message_bytes} bytes")
        return None
    try:
        msg = _decode.decode(raw)
    except msgspec.DecodeError:
        msg = None
    if not isinstance(msg, dict) or msg.get("type") != "auth":
        await _close(socket, "auth_required", 'the first message must be {"type": "auth", "token": ...}')
        return None
    session = await hub.authenticate(msg.get("token"))
    if isinstance(session, str):
        await _close(socket, session, "the access token was refused")
        return None
    conn = hub.connect(session)
    if conn is None:
        await _close(socket, "too_many_connections", f"at most {cfg.connections_per_user} per user")
    return conn


async def _read(socket: WebSocket[Any, Any, Any], hub: RealtimeHub, conn: Connection) -> None:
    limit = hub.cfg.max_message_bytes
    while conn.close_code is None:
        raw = await _receive(socket)
        if raw is None:
            return
        if not conn.allow_message():
            if conn.first_refusal:
                conn.push(hub.error(conn, "rate_limited", f"at most {hub.cfg.messages_per_second:g} messages a second"))
            continue
        if len(raw) > limit or (isinstance(raw, str) and len(raw.encode()) > limit):
            conn.push(hub.error(conn, "message_too_large", f"messages are at most {limit} bytes"))
            conn.request_close("message_too_large", f"messages are at most {limit} bytes", flush=True)
            return
        try:
            msg = _decode.decode(raw)
        except msgspec.DecodeError:
            conn.push(hub.error(conn, "malformed_json", "a message must be one JSON object"))
            continue
        if not isinstance(msg, dict):
            conn.push(hub.error(conn, "invalid_message", "a message must be a JSON object with a `type`"))
            continue
        await hub.handle(conn, msg)


async def _write(socket: WebSocket[Any, Any, Any], conn: Connection, services: Services) -> None:
    sent = services.metrics.realtime_sent
    while (message := await conn.next_message()) is not None:
        await socket.send_text(message)  # waits while the client's socket buffer is full
        sent.inc()


@websocket("/v1/realtime", opt={"exclude_from_auth": True})
async def realtime_socket(socket: WebSocket[Any, Any, Any]) -> None:
    """The realtime channel: authenticate with the first message, then events, subscriptions and resume."""
    services: Services = socket.app.state.services
    hub = services.realtime
    await socket.accept()
    conn = await _handshake(socket, hub)
    if conn is None:
        return
    conn.push(hub.ready(conn))
    tasks = [asyncio.create_task(_read(socket, hub, conn)), asyncio.create_task(_write(socket, conn, services)),
             asyncio.create_task(conn.closing.wait())]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        reader = tasks[0]  # a failed send is a client gone away; a failed read of a message is a bug
        if reader in done and (exc := reader.exception()) is not None and not isinstance(
                exc, WebSocketDisconnect | OSError):
            log.error("realtime.connection_failed", user=conn.user.id, error=f"{type(exc).__name__}: {exc}")
        if tasks[1] not in done and conn.close_code is not None:
            # Let the writer send what a close leaves queued (an error that explains it), for a moment.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(tasks[1]), _CLOSE_WAIT_S)
    except (WebSocketDisconnect, OSError):
        pass
    finally:
        hub.disconnect(conn)
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(BaseException):
                await t
    if conn.close_code is not None:
        name = next(k for k, v in CLOSE_CODES.items() if v == conn.close_code)
        await _close(socket, name, conn.close_reason.partition(": ")[2])
