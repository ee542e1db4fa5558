"""The realtime hub without a transport: per-user seq and bounded history, resume (nothing twice, nothing
missed, gaps answered with resync_required), bounded send queues, topics that linger and are forgotten."""

from __future__ import annotations

import asyncio
import json
import time

from musicd.config import RealtimeConfig
from musicd.domain.models import User
from musicd.services.auth import AccessSession
from musicd.services.metrics import Metrics
from musicd.services.realtime import Delivery, RealtimeHub
from musicd.services.realtime_conn import Connection


def _hub(**cfg: object) -> RealtimeHub:
    hub = RealtimeHub(RealtimeConfig(**cfg), None, Metrics())  # type: ignore[arg-type]
    hub.event_types.update({"thing", "topical"})
    return hub


def _connect(hub: RealtimeHub, uid: str) -> Connection:
    user = User(id=uid, username=uid, email=None, display_name=uid, role="user", disabled=False, created_at="")
    conn = hub.connect(AccessSession(user, 0, None, time.time() + 900))
    assert conn is not None
    return conn


def _drain(conn: Connection) -> list[dict[str, object]]:
    out = [json.loads(m) for m in conn.outbox]
    conn.outbox.clear()
    conn.outbox_bytes = 0
    return out


async def _subscribe(hub: RealtimeHub, conn: Connection, topic: str) -> None:
    async def anyone(user: User, _: str) -> None:
        return None

    hub.topic(topic.split(":")[0], anyone)
    await hub.handle(conn, {"type": "subscribe", "topic": topic})
    assert _drain(conn)[-1]["type"] == "subscribed"


async def test_seq_per_user_and_bounded_history() -> None:
    hub = _hub(history_events=3, history_max_events=5, history_seconds=0.05, history_max_bytes=10_000)
    a, b = _connect(hub, "a"), _connect(hub, "b")
    start = a.stream.seq
    for i in range(4):
        hub.deliver(Delivery("thing", {"i": i}, users=("a",)))
    hub.deliver(Delivery("thing", {"i": 9}, users=("a", "b", "nobody")))
    got = _drain(a)
    assert [m["seq"] for m in got] == [start + n for n in range(1, 6)]
    assert [m["seq"] for m in _drain(b)] == [b.stream.seq]
    assert len(a.stream.history) == 5, "younger than history_seconds: up to history_max_events are kept"
    await asyncio.sleep(0.06)
    hub.deliver(Delivery("thing", {"i": 10}, users=("a",)))
    assert len(a.stream.history) == 3, "older ones beyond history_events go"
    big = "x" * 4000
    for _ in range(5):
        hub.deliver(Delivery("thing", {"pad": big}, users=("a",)))
    assert a.stream.bytes <= 10_000 and len(a.stream.history) == 2, "history_max_bytes holds too"


async def test_resume_replays_what_was_missed_once() -> None:
    hub = _hub()
    first = _connect(hub, "u")
    await _subscribe(hub, first, "album:x")
    hub.deliver(Delivery("thing", {"n": 1}, users=("u",)))
    seen = first.stream.seq
    hub.disconnect(first)  # the topic lingers: its events are still recorded
    hub.deliver(Delivery("thing", {"n": 2}, users=("u",)))
    hub.deliver(Delivery("topical", {"n": 3}, topic="album:x"))
    hub.deliver(Delivery("topical", {"n": 4}, topic="album:other"))
    again = _connect(hub, "u")
    hub.deliver(Delivery("thing", {"n": 5}, users=("u",)))  # live, before the client resumed
    live = _drain(again)
    await _subscribe(hub, again, "album:x")
    await hub.handle(again, {"type": "resume", "since": seen, "id": 1})
    replayed = _drain(again)
    assert [m["data"]["n"] for m in live] == [5]
    assert [m["data"].get("n") for m in replayed[:-1]] == [2, 3], "each missed event once, none twice"
    assert replayed[-1]["type"] == "resumed" and replayed[-1]["data"]["replayed"] == 2


async def test_resume_gaps_ask_for_a_resync() -> None:
    hub = _hub(history_events=2, history_max_events=2)
    c = _connect(hub, "u")
    start = c.stream.seq
    for i in range(5):
        hub.deliver(Delivery("thing", {"i": i}, users=("u",)))
    _drain(c)
    for since, reason in ((start, "too_far_behind"), (c.stream.seq + 1, "unknown_seq"), (-1, "unknown_seq")):
        await hub.handle(c, {"type": "resume", "since": since})
        msg = _drain(c)[-1]
        assert (msg["type"], msg["data"]["reason"]) == ("resync_required", reason)
    await _subscribe(hub, c, "album:new")  # recorded only from now on
    await hub.handle(c, {"type": "resume", "since": c.stream.seq - 1})
    assert _drain(c)[-1]["data"]["reason"] == "subscription_gap"


async def test_send_queue_overflow_resyncs_then_closes() -> None:
    hub = _hub(send_queue_messages=4)
    c = _connect(hub, "u")
    for i in range(5):
        hub.deliver(Delivery("thing", {"i": i}, users=("u",)))
    assert [json.loads(m)["type"] for m in c.outbox] == ["resync_required"]
    assert c.close_code is None
    for i in range(5):
        hub.deliver(Delivery("thing", {"i": i}, users=("u",)))
    assert c.close_code == 4009 and not c.outbox, "fell behind again before reading: closed, queue freed"


async def test_topics_that_nobody_follows_are_forgotten() -> None:
    hub = _hub(history_seconds=0.01)
    c = _connect(hub, "u")
    for i in range(50):
        await _subscribe(hub, c, f"album:{i}")
    hub.disconnect(c)
    await asyncio.sleep(0.02)
    hub._last_sweep = 0.0
    await hub.upkeep()
    assert not hub._topic_users and not c.stream.interests
