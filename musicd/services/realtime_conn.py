"""One realtime connection, transport aside: its bounded send queue, its subscriptions, its message budget.

The send queue is bounded in messages and bytes. A client that falls behind (it reads slower than events
come, or not at all) gets its queue emptied and one `resync_required` in its place; falling behind again
before that message went out closes it (`too_slow`). Memory per connection stays within the bounds
whatever the client does.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import deque
from typing import TYPE_CHECKING

from musicd.config import RealtimeConfig
from musicd.domain.models import User
from musicd.services.metrics import Metrics

if TYPE_CHECKING:
    from musicd.services.auth import AccessSession
    from musicd.services.realtime_streams import UserStream

__all__ = ["CLOSE_CODES", "CONTROL_TYPES", "ERROR_CODES", "RESYNC_REASONS", "Connection", "frame"]

# Close codes (docs/realtime.md lists the same; a test keeps them equal).
CLOSE_CODES: dict[str, int] = {
    "server_shutdown": 1001,
    "auth_timeout": 4001,
    "auth_required": 4002,
    "invalid_token": 4003,
    "token_expired": 4004,
    "session_revoked": 4005,
    "ping_timeout": 4008,
    "too_slow": 4009,
    "message_too_large": 4013,
    "rate_limited": 4029,
    "too_many_connections": 4030,
}

# Codes of `error` messages.
ERROR_CODES = (
    "malformed_json", "invalid_message", "unknown_type", "forbidden", "invalid_topic", "too_many_subscriptions",
    "rate_limited", "message_too_large", "wrong_user", "command_failed",
)
# Server messages that take no seq of their own.
CONTROL_TYPES = ("ready", "ping", "pong", "subscribed", "unsubscribed", "resumed", "resync_required", "ack", "error")
RESYNC_REASONS = ("too_far_behind", "unknown_seq", "subscription_gap", "slow_consumer", "server_overflow")

MAX_TOPICS = 100  # subscriptions per connection

_ids = itertools.count(1)


def frame(kind: str, seq: int, data_json: str) -> str:
    """A server message: `{"type": kind, "seq": seq, "data": <data_json>}` (kind is a plain identifier)."""
    return f'{{"type":"{kind}","seq":{seq},"data":{data_json}}}'


class Connection:
    """A connected, authenticated client of one user."""

    def __init__(self, session: AccessSession, stream: UserStream, cfg: RealtimeConfig, metrics: Metrics) -> None:
        self.id = next(_ids)
        self.session = session
        self.stream = stream
        self.cfg = cfg
        self.metrics = metrics
        self.topics: dict[str, int] = {}  # topic -> the stream's seq when this connection subscribed
        self.live_from = stream.seq  # events after this seq reach this connection live
        self.outbox: deque[str] = deque()
        self.outbox_bytes = 0
        self.resync_pending = False
        self.close_code: int | None = None
        self.close_reason = ""
        self.sent = 0
        self.closing = asyncio.Event()  # set with the first close request
        now = time.monotonic()
        self.last_received = now
        self.last_ping = now
        self._tokens = float(cfg.message_burst)
        self._refilled = now
        self._debt = 0
        self._wakeup = asyncio.Event()

    @property
    def user(self) -> User:
        return self.session.user

    # ---- sending ----

    def push(self, message: str) -> bool:
        """Queue a message; False when it did not fit (the queue became one resync_required, or the
        connection is closing because it fell behind twice)."""
        if self.close_code is not None:
            return False
        size = len(message)
        if len(self.outbox) < self.cfg.send_queue_messages and self.outbox_bytes + size <= self.cfg.send_queue_bytes:
            self.outbox.append(message)
            self.outbox_bytes += size
            self._wakeup.set()
            return True
        if self.resync_pending:
            self.request_close("too_slow", "the client does not read its messages fast enough")
        else:
            self.resync("slow_consumer")
        return False

    def resync(self, reason: str) -> None:
        """Drop what is queued and tell the client to fetch its state again."""
        self.outbox.clear()
        self.outbox_bytes = 0
        msg = frame("resync_required", self.stream.seq, f'{{"reason":"{reason}","seq":{self.stream.seq}}}')
        self.outbox.append(msg)
        self.outbox_bytes = len(msg)
        self.resync_pending = True
        self.metrics.realtime_resyncs.labels(reason).inc()
        self._wakeup.set()

    async def next_message(self) -> str | None:
        """The next message to send, waiting for one; None once the connection must close (after what was
        queued before a close that lets the queue out)."""
        while True:
            if self.outbox:
                msg = self.outbox.popleft()
                self.outbox_bytes -= len(msg)
                if msg.startswith('{"type":"resync_required"'):
                    self.resync_pending = False
                self.sent += 1
                return msg
            if self.close_code is not None:
                return None
            self._wakeup.clear()
            await self._wakeup.wait()

    def request_close(self, name: str, reason: str, flush: bool = False) -> None:
        """Ask the transport to close with CLOSE_CODES[name] (the first request wins): at once, dropping what
        is queued, or with `flush` after the queued messages (an error that explains the close)."""
        if self.close_code is None:
            self.close_code = CLOSE_CODES[name]
            self.close_reason = f"{name}: {reason}"[:120]
            if not flush:
                self.outbox.clear()
                self.outbox_bytes = 0
            self.metrics.realtime_closes.labels(name).inc()
            self.closing.set()
        self._wakeup.set()

    # ---- receiving ----

    def allow_message(self) -> bool:
        """Spend one message of the budget: True when allowed. Over budget, the first message answers an
        error; a client still sending after `message_burst` more is closed (rate_limited)."""
        now = time.monotonic()
        self.last_received = now
        self._tokens = min(float(self.cfg.message_burst),
                           self._tokens + (now - self._refilled) * self.cfg.messages_per_second)
        self._refilled = now
        if self._tokens >= 1:
            self._tokens -= 1
            self._debt = 0
            return True
        self._debt += 1
        if self._debt > self.cfg.message_burst:
            self.request_close("rate_limited", "too many messages", flush=True)
        return False

    @property
    def first_refusal(self) -> bool:
        """Whether the last refused message was the first of its run (it gets the one error message)."""
        return self._debt == 1
