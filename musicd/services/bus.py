"""The in-process event bus (the seed's Kafka): typed domain events fan out to bounded subscriber queues.

`publish(event)` never blocks and never fails, so a service can publish on a request's hot path. Each
subscriber has its own bounded queue and reads at its own pace. A subscriber that falls behind by more
than its bound never makes memory grow: with the "resync" policy its queue is emptied and replaced by one
`Overflow` marker (it must then rebuild what it follows from the source of truth), with the "drop" policy
it is closed (its reader gets `SubscriptionClosed`).

`consume(name, handler, ...)` registers a consumer: a subscription plus a task (started by `start()`)
that hands every event to `handler` in order and calls `on_overflow` for a marker. `await
publish_and_wait(event)` publishes and returns once every running consumer registered with `awaited=True`
has handled the event: what a service uses when its caller must see the consequences (a revoked
session's caches dropped, a new playlist searchable). Consumers that only inform (the realtime channel,
metrics) are not awaited, so a backlog there never slows a request. Handlers must not call
`publish_and_wait` themselves (they would wait for their own queue); they may `publish`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Literal

import msgspec

from musicd.domain.events import Event
from musicd.logs import get_logger

__all__ = ["EventBus", "Overflow", "Subscription", "SubscriptionClosed"]

log = get_logger("musicd.bus")

Policy = Literal["resync", "drop"]
Handler = Callable[[Any], Awaitable[None]]
Spawner = Callable[[str, Coroutine[Any, Any, Any]], "asyncio.Task[Any]"]


class Overflow(msgspec.Struct, frozen=True):
    """Marker in a subscriber's queue: `dropped` events were thrown away; rebuild from the source of truth."""

    dropped: int


class SubscriptionClosed(Exception):
    """The subscription was dropped (it fell behind under the "drop" policy) or closed."""


class Subscription:
    """One subscriber's bounded queue of events (and at most one Overflow marker)."""

    def __init__(self, name: str, kinds: tuple[type[Event], ...] | None, maxsize: int, policy: Policy) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be >= 1")
        self.name = name
        self.kinds = kinds
        self.maxsize = maxsize
        self.policy = policy
        self.closed = False
        self.overflows = 0  # times the queue was emptied for a marker
        self.dropped = 0  # events thrown away by overflows
        self._items: deque[tuple[int, Any]] = deque()
        self._wakeup = asyncio.Event()
        self._accepted = 0  # position of the last event put in (dropped ones count)
        self._handled = 0  # position of the last event its consumer finished
        self._current = 0  # position of the item last taken
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []

    def wants(self, event: Event) -> bool:
        return self.kinds is None or isinstance(event, self.kinds)

    def depth(self) -> int:
        """Items waiting in the queue."""
        return len(self._items)

    def offer(self, event: Any) -> int | None:
        """Queue `event`; its position, or None when the subscription is (or just got) closed."""
        if self.closed:
            return None
        self._accepted += 1
        if len(self._items) >= self.maxsize:
            if self.policy == "drop":
                self.dropped += len(self._items) + 1
                self._items.clear()  # it cannot catch up: free what it holds
                self.close()
                return None
            # Everything queued and this event become one marker that stands for all of them.
            earlier = sum(it.dropped for _, it in self._items if isinstance(it, Overflow))
            fresh = sum(1 for _, it in self._items if not isinstance(it, Overflow)) + 1
            self._items.clear()
            self._items.append((self._accepted, Overflow(earlier + fresh)))
            self.overflows += 1
            self.dropped += fresh
        else:
            self._items.append((self._accepted, event))
        self._wakeup.set()
        return self._accepted

    async def get(self) -> Any:
        """The next event or Overflow marker, waiting for one; SubscriptionClosed once closed and empty."""
        while not self._items:
            if self.closed:
                raise SubscriptionClosed(self.name)
            self._wakeup.clear()
            await self._wakeup.wait()
        pos, item = self._items.popleft()
        self._current = pos
        return item

    def get_nowait(self) -> Any | None:
        """The next item, or None when the queue is empty."""
        if not self._items:
            return None
        pos, item = self._items.popleft()
        self._current = pos
        return item

    def task_done(self) -> None:
        """Mark the item last taken as handled (wakes `publish_and_wait` callers waiting for it)."""
        self._handled = max(self._handled, self._current)
        if self._waiters:
            ready = [w for w in self._waiters if w[0] <= self._handled]
            self._waiters = [w for w in self._waiters if w[0] > self._handled]
            for _, fut in ready:
                if not fut.done():
                    fut.set_result(None)

    def handled_future(self, pos: int) -> asyncio.Future[None]:
        """A future that completes once the item at `pos` (or a marker that replaced it) was handled."""
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self._handled >= pos or self.closed:
            fut.set_result(None)
        else:
            self._waiters.append((pos, fut))
        return fut

    def close(self) -> None:
        self.closed = True
        self._wakeup.set()
        for _, fut in self._waiters:
            if not fut.done():
                fut.set_result(None)
        self._waiters.clear()


class _Consumer:
    __slots__ = ("awaited", "handler", "on_overflow", "sub", "task")

    def __init__(self, sub: Subscription, handler: Handler, on_overflow: Callable[[], Awaitable[None]] | None,
                 awaited: bool) -> None:
        self.sub = sub
        self.handler = handler
        self.on_overflow = on_overflow
        self.awaited = awaited
        self.task: asyncio.Task[Any] | None = None


class EventBus:
    """Typed publish/subscribe with bounded per-subscriber queues; see the module docstring."""

    def __init__(self, default_maxsize: int = 10_000) -> None:
        self.default_maxsize = default_maxsize
        self._subs: list[Subscription] = []
        self._consumers: list[_Consumer] = []
        self.published: dict[str, int] = {}  # events published, by event type
        self.handler_errors = 0

    # ---- typed events ----

    def listen(self, name: str, kinds: tuple[type[Event], ...] | None = None, *, maxsize: int | None = None,
               policy: Policy = "resync") -> Subscription:
        """A new bounded queue of the events of `kinds` (all when None) published from now on."""
        sub = Subscription(name, kinds, maxsize or self.default_maxsize, policy)
        self._subs.append(sub)
        return sub

    def unlisten(self, sub: Subscription) -> None:
        sub.close()
        if sub in self._subs:
            self._subs.remove(sub)

    def publish(self, event: Event) -> int:
        """Hand `event` to every subscriber that wants it (never blocks); how many took it."""
        return len(self._fan_out(event))

    async def publish_and_wait(self, event: Event, within: float = 30.0) -> None:
        """Publish, then wait (at most `within` s) until every running awaited consumer has handled the event."""
        waits = [c.sub.handled_future(pos) for c, pos in self._fan_out(event)
                 if c is not None and c.awaited and c.task is not None and not c.task.done()]
        if not waits:
            return
        _, pending = await asyncio.wait(waits, timeout=within)
        if pending:
            log.warning("bus.slow_consumer", kind=type(event).__name__, waiting=len(pending))
            for f in pending:
                f.cancel()

    def _fan_out(self, event: Event) -> list[tuple[_Consumer | None, int]]:
        name = type(event).__name__
        self.published[name] = self.published.get(name, 0) + 1
        by_sub = {id(c.sub): c for c in self._consumers}
        out: list[tuple[_Consumer | None, int]] = []
        gone: list[Subscription] = []
        for sub in self._subs:
            if not sub.wants(event):
                continue
            pos = sub.offer(event)
            if pos is None:
                if sub.closed:
                    gone.append(sub)
                    log.warning("bus.subscriber_dropped", subscriber=sub.name, dropped=sub.dropped)
                continue
            out.append((by_sub.get(id(sub)), pos))
        for sub in gone:
            self._subs.remove(sub)
        return out

    # ---- consumers ----

    def consume(self, name: str, handler: Handler, kinds: tuple[type[Event], ...] | None = None, *,
                on_overflow: Callable[[], Awaitable[None]] | None = None, maxsize: int | None = None,
                awaited: bool = True) -> Subscription:
        """Register a consumer: `handler(event)` for each event of `kinds`, in order, once `start()` ran.
        On overflow `on_overflow()` is called instead of the lost events (give it for consumers that must
        not miss anything: it rebuilds from the source of truth). `awaited`: `publish_and_wait` waits for it."""
        sub = self.listen(name, kinds, maxsize=maxsize, policy="resync")
        self._consumers.append(_Consumer(sub, handler, on_overflow, awaited))
        return sub

    def start(self, spawn: Spawner | None = None) -> None:
        """Start a task per registered consumer (through `spawn` when given, so the app owns them)."""
        for c in self._consumers:
            if c.task is None or c.task.done():
                coro = self._run(c)
                c.task = spawn(f"bus:{c.sub.name}", coro) if spawn else asyncio.create_task(coro)

    async def _run(self, c: _Consumer) -> None:
        sub = c.sub
        while True:
            try:
                item = await sub.get()
            except SubscriptionClosed:
                return
            try:
                if isinstance(item, Overflow):
                    log.warning("bus.overflow", subscriber=sub.name, dropped=item.dropped)
                    if c.on_overflow is not None:
                        await c.on_overflow()
                else:
                    await c.handler(item)
            except asyncio.CancelledError:
                raise
            except Exception as e:  # one bad event must not stop a consumer
                self.handler_errors += 1
                log.error("bus.handler_failed", subscriber=sub.name, kind=type(item).__name__, error=str(e))
            finally:
                sub.task_done()
            # Let other tasks run between events (the realtime writers drain their queues meanwhile).
            await asyncio.sleep(0)

    async def drain(self, within: float = 30.0) -> None:
        """Wait (at most `within` s) until every running consumer has emptied its queue."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        for c in self._consumers:
            if c.task is None or c.task.done():
                continue
            fut = c.sub.handled_future(c.sub._accepted)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(fut, max(0.0, deadline - loop.time()))

    async def stop(self, within: float = 10.0) -> None:
        """Let the consumers finish what is queued (at most `within` s), then stop them."""
        await self.drain(within)
        tasks = [c.task for c in self._consumers if c.task is not None]
        for c in self._consumers:
            c.sub.close()
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(BaseException):
                await t

    def stats(self) -> list[tuple[str, int, int, int]]:
        """(name, queue depth, overflows, dropped events) of every subscription."""
        return [(s.name, s.depth(), s.overflows, s.dropped) for s in self._subs]
