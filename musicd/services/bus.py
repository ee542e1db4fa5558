"""The in-process event bus (the seed's Kafka): topics fan out to unbounded asyncio queues.

Publishing never blocks and never fails, so a request handler can publish on its hot path; each
consumer drains its own queue in batches at its own pace.
"""

from __future__ import annotations

import asyncio
from typing import Any

__all__ = ["EventBus"]


class EventBus:
    def __init__(self) -> None:
        self._subs: dict[str, list[asyncio.Queue[Any]]] = {}
        self.published: dict[str, int] = {}

    def subscribe(self, topic: str) -> asyncio.Queue[Any]:
        """A new queue that receives every event published on `topic` from now on."""
        q: asyncio.Queue[Any] = asyncio.Queue()
        self._subs.setdefault(topic, []).append(q)
        return q

    def unsubscribe(self, topic: str, queue: asyncio.Queue[Any]) -> None:
        subs = self._subs.get(topic, [])
        if queue in subs:
            subs.remove(queue)

    def publish(self, topic: str, event: Any) -> int:
        """Hand `event` to every subscriber of `topic`; returns how many there were."""
        subs = self._subs.get(topic, ())
        for q in subs:
            q.put_nowait(event)
        self.published[topic] = self.published.get(topic, 0) + 1
        return len(subs)

    def depth(self, topic: str) -> int:
        """Events waiting in the fullest queue of `topic`."""
        return max((q.qsize() for q in self._subs.get(topic, ())), default=0)
