"""A user's realtime stream: the per-user `seq`, the bounded history that `resume` replays, the topics the
user's connections follow, and those connections.

Every event recorded for a user takes the next seq. A stream's first seq is the server's clock in
milliseconds, so seqs keep increasing across restarts and a resume from before a restart is answered
with resync_required rather than with the wrong events. The history keeps at least the last
`history_events` events or the last `history_seconds` seconds (whichever is more), never more than
`history_max_events` events nor `history_max_bytes`. A topic stays recorded for `history_seconds` after
its last subscriber left, so a client that reconnects and subscribes again can resume it.
"""

from __future__ import annotations

import time
from collections import deque
from typing import TYPE_CHECKING

from musicd.config import RealtimeConfig
from musicd.services.realtime_conn import frame

if TYPE_CHECKING:
    from musicd.services.realtime_conn import Connection

__all__ = ["Entry", "UserStream"]


class Entry:
    """One recorded event: its seq, when, its topic (None: for all the user's connections), the message."""

    __slots__ = ("at", "message", "seq", "topic")

    def __init__(self, seq: int, at: float, topic: str | None, message: str) -> None:
        self.seq = seq
        self.at = at
        self.topic = topic
        self.message = message


class _Interest:
    __slots__ = ("refs", "since", "until")

    def __init__(self, since: int) -> None:
        self.refs = 0
        self.since = since  # the stream's seq when recording started
        self.until = 0.0  # when the last subscriber left: recorded until this (monotonic) time


class UserStream:
    def __init__(self, user_id: str, first_seq: int, cfg: RealtimeConfig) -> None:
        self.user_id = user_id
        self.seq = first_seq
        self.cfg = cfg
        self.history: deque[Entry] = deque()
        self.bytes = 0  # size of the messages in the history
        self.conns: set[Connection] = set()
        self.interests: dict[str, _Interest] = {}
        self.idle_since = time.monotonic()

    def record(self, topic: str | None, kind: str, data_json: str) -> Entry:
        """Give an event the next seq and keep it in the history."""
        self.seq += 1
        now = time.monotonic()
        entry = Entry(self.seq, now, topic, frame(kind, self.seq, data_json))
        h, c = self.history, self.cfg
        h.append(entry)
        self.bytes += len(entry.message)
        cutoff = now - c.history_seconds
        while (len(h) > c.history_max_events or self.bytes > c.history_max_bytes
               or (len(h) > c.history_events and h[0].at < cutoff)):
            self.bytes -= len(h.popleft().message)
        return entry

    # ---- topics ----

    def follows(self, topic: str) -> bool:
        """Whether events of `topic` are recorded for this user now."""
        i = self.interests.get(topic)
        if i is None:
            return False
        if i.refs == 0 and i.until < time.monotonic():
            del self.interests[topic]
            return False
        return True

    def add_interest(self, topic: str) -> None:
        if not self.follows(topic):
            self.interests[topic] = _Interest(self.seq)
        self.interests[topic].refs += 1

    def drop_interest(self, topic: str) -> None:
        i = self.interests.get(topic)
        if i is not None and i.refs > 0:
            i.refs -= 1
            if i.refs == 0:
                i.until = time.monotonic() + self.cfg.history_seconds

    def lingering_topics(self) -> list[str]:
        """Topics recorded for this user (expired ones are forgotten on the way)."""
        return [t for t in list(self.interests) if self.follows(t)]

    # ---- resume ----

    def replay(self, conn: Connection, since: int) -> list[str] | str:
        """The messages `conn` missed after `since`, or why they cannot be replayed
        ("unknown_seq", "too_far_behind", "subscription_gap")."""
        if since > self.seq or since < 0:
            return "unknown_seq"
        oldest = self.history[0].seq if self.history else self.seq + 1
        if since < oldest - 1:
            return "too_far_behind"
        for topic in conn.topics:
            i = self.interests.get(topic)
            if i is None or i.since > since:
                return "subscription_gap"
        out: list[str] = []
        for e in self.history:
            if e.seq <= since or (e.topic is not None and e.topic not in conn.topics):
                continue
            # Already sent live: after the connection opened, and (for a topic) after it subscribed.
            if e.seq > conn.live_from and (e.topic is None or e.seq > conn.topics[e.topic]):
                continue
            out.append(e.message)
        return out
