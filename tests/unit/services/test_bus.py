"""The typed bus: bounded queues, overflow -> one resync marker, drop policy, consumers, publish_and_wait."""

from __future__ import annotations

import asyncio

import pytest

from musicd.domain.events import PlaylistDeleted, SavesChanged, UserDeleted
from musicd.services.bus import EventBus, Overflow, SubscriptionClosed


def _saves(i: int) -> SavesChanged:
    return SavesChanged(user_id=f"u{i}", kind="track", ids=(f"t{i}",), saved=True)


async def test_events_reach_only_subscribers_of_their_kind() -> None:
    bus = EventBus()
    saves = bus.listen("saves", (SavesChanged,))
    everything = bus.listen("all")
    bus.publish(_saves(1))
    bus.publish(UserDeleted(user_id="u1"))
    assert [type(await saves.get())] == [SavesChanged]
    assert saves.depth() == 0
    assert [type(await everything.get()), type(await everything.get())] == [SavesChanged, UserDeleted]
    assert bus.published == {"SavesChanged": 1, "UserDeleted": 1}


async def test_a_full_queue_becomes_one_overflow_marker_and_memory_stays_bounded() -> None:
    bus = EventBus()
    slow = bus.listen("slow", maxsize=10)
    for i in range(10_000):
        bus.publish(_saves(i))
        assert slow.depth() <= 10
    # 10,000 events through a queue of 10: what is left is one marker standing for the lost events,
    # then the events published after the last overflow, in order.
    first = await slow.get()
    assert isinstance(first, Overflow)
    rest = [slow.get_nowait() for _ in range(slow.depth())]
    assert all(isinstance(e, SavesChanged) for e in rest)
    assert first.dropped + len(rest) == 10_000
    assert [e.user_id for e in rest] == [f"u{i}" for i in range(10_000 - len(rest), 10_000)]
    assert slow.overflows >= 1 and slow.dropped == first.dropped


async def test_drop_policy_closes_the_subscriber() -> None:
    bus = EventBus()
    sub = bus.listen("fragile", maxsize=3, policy="drop")
    for i in range(4):
        bus.publish(_saves(i))
    assert sub.closed
    with pytest.raises(SubscriptionClosed):
        await sub.get()
    assert all(name != "fragile" for name, *_ in bus.stats()), "a dropped subscriber is forgotten"
    bus.publish(_saves(5))  # publishing after a drop is fine


async def test_consumer_handles_in_order_and_publish_and_wait_waits_for_it() -> None:
    bus = EventBus()
    seen: list[str] = []
    gate = asyncio.Event()

    async def handler(e: SavesChanged) -> None:
        await gate.wait()
        seen.append(e.user_id)

    bus.consume("c", handler, (SavesChanged,))
    bus.start()
    bus.publish(_saves(1))
    waiter = asyncio.create_task(bus.publish_and_wait(_saves(2)))
    await asyncio.sleep(0.01)
    assert not waiter.done(), "publish_and_wait returns only once the consumer handled the event"
    gate.set()
    await asyncio.wait_for(waiter, 2)
    assert seen == ["u1", "u2"]
    # An event no consumer wants returns at once.
    await asyncio.wait_for(bus.publish_and_wait(PlaylistDeleted(playlist_id="p", owner_id="o", by="o")), 1)
    await bus.stop()


async def test_consumer_recovers_from_overflow_and_survives_a_failing_handler() -> None:
    bus = EventBus()
    seen: list[str] = []
    resyncs: list[int] = []
    gate = asyncio.Event()

    async def handler(e: SavesChanged) -> None:
        await gate.wait()
        if e.user_id == "u3":
            raise RuntimeError("boom")
        seen.append(e.user_id)

    async def resync() -> None:
        resyncs.append(len(seen))

    bus.consume("index", handler, (SavesChanged,), on_overflow=resync, maxsize=5)
    bus.start()
    bus.publish(_saves(0))
    await asyncio.sleep(0.01)  # u0 is taken and waits on the gate; the queue is empty
    for i in range(1, 50):
        bus.publish(_saves(i))
    gate.set()
    last = _saves(99)
    await asyncio.wait_for(bus.publish_and_wait(last), 2)
    assert resyncs == [1], "one resync for everything that overflowed"
    assert seen[0] == "u0" and seen[-1] == "u99"
    await bus.publish_and_wait(_saves(3))
    assert bus.handler_errors == 1, "a failing handler is counted and the consumer keeps going"
    await bus.publish_and_wait(_saves(100))
    assert seen[-1] == "u100"
    await bus.stop()


async def test_stop_drains_what_is_queued() -> None:
    bus = EventBus()
    seen: list[str] = []

    async def handler(e: SavesChanged) -> None:
        await asyncio.sleep(0)
        seen.append(e.user_id)

    bus.consume("c", handler, (SavesChanged,))
    bus.start()
    for i in range(20):
        bus.publish(_saves(i))
    await bus.stop()
    assert len(seen) == 20
