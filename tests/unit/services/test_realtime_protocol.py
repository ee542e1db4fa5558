"""docs/realtime.md against the server: every message type, close code, error code, resync reason and limit
the document lists is the server's, and the server speaks nothing the document does not list."""

from __future__ import annotations

import re

import msgspec

from musicd.config import RealtimeConfig
from musicd.services.realtime_conn import CLOSE_CODES, CONTROL_TYPES, ERROR_CODES, RESYNC_REASONS
from tests.integration.realtime_support import CLIENT, CLOSE, CONTROL, ERRORS, EVENTS, TABLES


def test_close_error_and_control_tables() -> None:
    assert dict(CLOSE_CODES) == CLOSE
    assert set(ERROR_CODES) == ERRORS
    assert set(CONTROL_TYPES) == CONTROL
    assert {row[0] for row in TABLES["reason"]} == set(RESYNC_REASONS)


async def test_event_and_client_types_are_the_hubs(services_for) -> None:  # type: ignore[no-untyped-def]
    async with services_for() as s:
        hub = s.realtime
        assert hub.event_types == EVENTS
        assert set(hub.client_types) == CLIENT
        topics = {row[0].split(":")[0] for row in TABLES["topic"]}
        assert topics == set(hub._topics)


def test_limits_are_the_defaults() -> None:
    defaults = msgspec.structs.asdict(RealtimeConfig())
    named = 0
    for what, default, setting in TABLES["limit"]:
        for key in re.findall(r"realtime\.(\w+)", setting):
            assert key in defaults, (what, key)
            named += 1
        numbers = {float(n.replace(",", "")) for n in re.findall(r"\d[\d,]*(?:\.\d+)?", default)}
        keys = re.findall(r"realtime\.(\w+)", setting)
        for key in keys:
            v = float(defaults[key])
            # Defaults are written as people read them: 10 minutes for 600 s, 1 MiB for 1048576 bytes.
            assert v in numbers or v / 60 in numbers or v / 1048576 in numbers, (what, key, v, default)
    assert named == len(defaults) - 1, "every setting but the bus's queue size is in the limits table"
