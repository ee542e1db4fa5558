"""Helpers of the realtime tests: the tables of docs/realtime.md, a websockets client, fresh users.

The tests take close codes, error codes and message types from the document's text, so the server is
checked against what the protocol page says.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import websockets
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from tests.live import LiveServer

DOC = Path(__file__).resolve().parents[2] / "docs" / "realtime.md"


def doc_tables() -> dict[str, list[list[str]]]:
    """Every table of docs/realtime.md by its first header cell: rows of cells, backticks removed."""
    tables: dict[str, list[list[str]]] = {}
    rows: list[list[str]] | None = None
    for line in DOC.read_text().splitlines():
        if not line.startswith("|"):
            rows = None
            continue
        cells = [c.strip().replace("`", "") for c in line.strip().strip("|").split("|")]
        if rows is None:
            key = cells[0]
            # Two tables share a header ("type"): the control one comes first.
            while key in tables:
                key += "+"
            rows = tables[key] = []
        elif not set("".join(cells)) <= set("- "):
            rows.append(cells)
    return tables


TABLES = doc_tables()
CLOSE = {row[1]: int(row[0]) for row in TABLES["code+"]}  # close name -> code
ERRORS = {row[0] for row in TABLES["code"]}
CONTROL = {row[0] for row in TABLES["type"]}
EVENTS = {row[0] for row in TABLES["type+"]}
CLIENT = {row[0] for row in TABLES["type++"]}


def ws_url(server: LiveServer) -> str:
    return server.base.replace("http://", "ws://") + "/v1/realtime"


def new_user(server: LiveServer, prefix: str = "rt", role: str = "user") -> tuple[str, str, str]:
    """A fresh account: (name, password, id)."""
    name = f"{prefix}-{secrets.token_hex(4)}"
    password = f"{name}-password"
    with server.client("admin") as c:
        r = c.post("/v1/admin/users", json={"username": name, "password": password, "role": role})
        assert r.status_code == 201, r.text
        return name, password, r.json()["id"]


def login(server: LiveServer, name: str, password: str) -> dict[str, Any]:
    return server.login(name, password)


def api(server: LiveServer, token: str) -> httpx.Client:
    return httpx.Client(base_url=server.base, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def metric(server: LiveServer, name: str, labels: str = "") -> float:
    """A value from /metrics (0 when absent)."""
    text = httpx.get(f"{server.base}/metrics", timeout=10).text
    want = f"{name}{{{labels}}}" if labels else name
    for line in text.splitlines():
        if line.startswith(want + " "):
            return float(line.split()[-1])
    return 0.0


class Client:
    """A realtime connection, with the messages it received kept in order."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.received: list[dict[str, Any]] = []
        self.ready: dict[str, Any] = {}

    @classmethod
    async def open(cls, server: LiveServer, token: str | None, **kw: Any) -> Client:
        """Connect and (with a token) authenticate; `ready` is checked."""
        c = cls(await websockets.connect(ws_url(server), max_size=None, **kw))
        if token is not None:
            await c.send({"type": "auth", "token": token})
            c.ready = await c.expect("ready")
        return c

    async def send(self, msg: dict[str, Any] | str) -> None:
        await self.ws.send(msg if isinstance(msg, str) else json.dumps(msg))

    async def next(self, within: float = 5) -> dict[str, Any]:
        raw = await asyncio.wait_for(self.ws.recv(), within)
        msg = json.loads(raw)
        assert set(msg) == {"type", "seq", "data"}, msg
        self.received.append(msg)
        return msg  # type: ignore[no-any-return]

    async def expect(self, kind: str, within: float = 5, where: Callable[[dict[str, Any]], bool] | None = None
                     ) -> dict[str, Any]:
        """Skip messages until one of `kind` (matching `where`) comes; its data."""
        deadline = time.monotonic() + within
        while True:
            msg = await self.next(max(0.01, deadline - time.monotonic()))
            if msg["type"] == "ping":
                await self.send({"type": "pong"})
            if msg["type"] == kind and (where is None or where(msg["data"])):
                return msg["data"]  # type: ignore[no-any-return]

    async def drain(self, quiet: float = 0.3) -> list[dict[str, Any]]:
        """Everything that arrives until nothing has for `quiet` seconds."""
        out = []
        while True:
            try:
                out.append(await self.next(quiet))
            except TimeoutError:
                return out

    async def closed(self, within: float = 8) -> tuple[int, str]:
        """Wait for the server to close; (code, reason)."""
        try:
            async with asyncio.timeout(within):
                while True:
                    await self.next(within)
        except ConnectionClosed as e:
            assert e.rcvd is not None, "the server closed without a close frame"
            return e.rcvd.code, e.rcvd.reason
        raise AssertionError("still open")

    async def close(self) -> None:
        await self.ws.close()

    def types(self) -> list[str]:
        return [m["type"] for m in self.received]


def close_name(reason: str) -> str:
    """The name part of a close reason (`name: explanation`)."""
    m = re.match(r"^([a-z_]+):", reason)
    assert m, reason
    return m.group(1)
