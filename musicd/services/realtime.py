"""The realtime channel's hub: per-user routing of domain events, per-user seq and history, who may see what,
subscriptions, resume, and client commands. The WebSocket transport is musicd.http.realtime; the
protocol is docs/realtime.md.

Extension points, for the features that ride on this channel (device handoff, group listening,
federation, offline revocation):
- `route(EventType, router, sends)`: `router(event)` returns Deliveries (a message type among `sends`, its
  data, and who gets it: named users, and/or the subscribers of a topic who pass `may_see`);
- `topic(name, check, with_id)`: a topic clients may subscribe to (`name`, or `name:<id>` when `with_id`);
  `check(user, id)` raises ForbiddenError / NotFoundError when the user may not;
- `command(type, handler)`: a client message type routed to a service; `handler(user, message)` returns
  the `ack` result or raises a MusicdError (sent as an `error`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Collection, Sequence
from typing import Any, NamedTuple

import msgspec

from musicd.config import RealtimeConfig
from musicd.domain.events import Event, SessionsRevoked, UserDeleted
from musicd.domain.models import User
from musicd.errors import AuthError, MusicdError
from musicd.logs import get_logger
from musicd.services.auth import AccessSession, AuthService
from musicd.services.metrics import Metrics
from musicd.services.realtime_conn import MAX_TOPICS, Connection, frame
from musicd.services.realtime_streams import UserStream

__all__ = ["Command", "Delivery", "RealtimeHub", "Router", "TopicCheck"]

log = get_logger("musicd.realtime")

_STREAM_KEEP_S = 3600.0  # a stream (seq and history) outlives its last connection by this long
_SWEEP_S = 60.0  # how often topics nobody follows any more are forgotten
_TOKEN_CLOSE = {"token_expired": "token_expired", "token_revoked": "session_revoked",
                "account_disabled": "session_revoked"}


class Delivery(NamedTuple):
    """A message for `users` (all their connections) and for the subscribers of `topic` who pass `may_see`."""

    type: str
    data: Any
    users: Collection[str] = ()
    topic: str | None = None
    may_see: Callable[[str], bool] | None = None


Router = Callable[[Any], Awaitable[Sequence[Delivery]]]
TopicCheck = Callable[[User, str], Awaitable[None]]
Command = Callable[[User, dict[str, Any]], Awaitable[Any]]
ConnectionCommand = Callable[[Connection, dict[str, Any]], Awaitable[Any]]


class RealtimeHub:
    def __init__(self, cfg: RealtimeConfig, auth: AuthService, metrics: Metrics) -> None:
        self.cfg = cfg
        self.auth = auth
        self.metrics = metrics
        self._routers: dict[type[Event], list[Router]] = {}
        self._topics: dict[str, tuple[TopicCheck, bool]] = {}
        self._commands: dict[str, Command] = {}
        self._conn_commands: set[str] = set()  # commands whose handler takes the connection, not the user
        self._on_disconnect: list[Callable[[Connection], None]] = []
        self._encode: Callable[[Any], Any] = lambda data: data
        self._streams: dict[str, UserStream] = {}
        self._last_seq: dict[str, int] = {}
        self._topic_users: dict[str, set[str]] = {}
        self._conns: set[Connection] = set()
        self._last_recheck = 0.0
        self._last_sweep = time.monotonic()
        self.event_types: set[str] = set()  # every event message type a router may send

    # ---- extension points ----

    def route(self, kind: type[Event], router: Router, sends: Collection[str] = ()) -> None:
        """Hand events of `kind` to `router`; `sends` names the message types it may deliver."""
        self._routers.setdefault(kind, []).append(router)
        self.event_types.update(sends)

    def topic(self, name: str, check: TopicCheck, with_id: bool = True) -> None:
        self._topics[name] = (check, with_id)

    def command(self, kind: str, handler: Command) -> None:
        self._commands[kind] = handler

    def connection_command(self, kind: str, handler: ConnectionCommand) -> None:
        """Like `command`, for handlers that need the connection (a device online through it)."""
        self._commands[kind] = handler  # type: ignore[assignment]
        self._conn_commands.add(kind)

    def on_disconnect(self, hook: Callable[[Connection], None]) -> None:
        """Call `hook(conn)` when a connection ends."""
        self._on_disconnect.append(hook)

    def set_encoder(self, encode: Callable[[Any], Any]) -> None:
        """How message data becomes JSON-able (the transport maps read models to wire shapes)."""
        self._encode = encode

    @property
    def client_types(self) -> tuple[str, ...]:
        return ("auth", "ping", "pong", "subscribe", "unsubscribe", "resume", *self._commands)

    # ---- connections ----

    async def authenticate(self, token: object) -> AccessSession | str:
        """The session of an access token, or the close name why not (invalid_token, token_expired,
        session_revoked)."""
        if not isinstance(token, str) or not token:
            return "invalid_token"
        try:
            return await self.auth.access_session(token)
        except AuthError as e:
            return _TOKEN_CLOSE.get(e.code, "invalid_token")

    def connect(self, session: AccessSession) -> Connection | None:
        """Register a connection of the session's user; None when the user has too many."""
        uid = session.user.id
        st = self._streams.get(uid)
        if st is None:
            first = max(int(time.time() * 1000), self._last_seq.pop(uid, 0) + 1)
            st = self._streams[uid] = UserStream(uid, first, self.cfg)
        if len(st.conns) >= self.cfg.connections_per_user:
            return None
        conn = Connection(session, st, self.cfg, self.metrics)
        st.conns.add(conn)
        self._conns.add(conn)
        return conn

    def disconnect(self, conn: Connection) -> None:
        self._conns.discard(conn)
        st = conn.stream
        st.conns.discard(conn)
        for topic in conn.topics:
            st.drop_interest(topic)
        conn.topics.clear()
        if not st.conns:
            st.idle_since = time.monotonic()
        for hook in self._on_disconnect:
            try:
                hook(conn)
            except Exception as e:  # a hook's failure must not keep the connection registered
                log.error("realtime.disconnect_hook_failed", error=str(e))

    def has_stream(self, user_id: str) -> bool:
        """Whether events for this user are kept (they are or were connected lately)."""
        return user_id in self._streams

    def ready(self, conn: Connection) -> str:
        """The `ready` message: who, where the stream is, the limits."""
        c = self.cfg
        return self._control(conn, "ready", {
            "user_id": conn.user.id, "connection_id": conn.id, "seq": conn.stream.seq,
            "expires_at": int(conn.session.expires_at),
            "limits": {"max_message_bytes": c.max_message_bytes, "messages_per_second": c.messages_per_second,
                       "message_burst": c.message_burst, "ping_interval_seconds": c.ping_interval_seconds,
                       "idle_timeout_seconds": c.idle_timeout_seconds, "history_events": c.history_events,
                       "history_seconds": c.history_seconds, "send_queue_messages": c.send_queue_messages},
        })

    def error(self, conn: Connection, code: str, message: str, ref: Any = None) -> str:
        return self._control(conn, "error", {"code": code, "message": message, **_ref(ref)})

    def _control(self, conn: Connection, kind: str, data: Any) -> str:
        return frame(kind, conn.stream.seq, msgspec.json.encode(self._encode(data)).decode())

    # ---- client messages (after auth) ----

    async def handle(self, conn: Connection, msg: dict[str, Any]) -> None:
        """Act on one client message; answers go to the connection's send queue."""
        kind, ref = msg.get("type"), msg.get("id")
        if ref is not None and not (isinstance(ref, int | str) and len(str(ref)) <= 64):
            conn.push(self.error(conn, "invalid_message", "id must be a string or a number (64 characters at most)"))
            return
        if not isinstance(kind, str):
            conn.push(self.error(conn, "invalid_message", "every message needs a string `type`", ref))
        elif kind == "ping":
            conn.push(self._control(conn, "pong", {"t": msg.get("t"), **_ref(ref)}))
        elif kind == "pong":
            pass
        elif kind == "auth":
            await self._reauth(conn, msg.get("token"), ref)
        elif kind in ("subscribe", "unsubscribe"):
            await self._subscription(conn, kind, msg.get("topic"), ref)
        elif kind == "resume":
            self._resume(conn, msg.get("since"), ref)
        elif kind in self._commands:
            await self._command(conn, kind, msg, ref)
        else:
            conn.push(self.error(conn, "unknown_type", f"unknown message type {kind[:40]!r}", ref))

    async def _reauth(self, conn: Connection, token: object, ref: Any) -> None:
        """A fresh token for the same user extends the connection past the old token's expiry."""
        got = await self.authenticate(token)
        if isinstance(got, str):
            conn.request_close(got, "the new token was refused")
        elif got.user.id != conn.user.id:
            conn.push(self.error(conn, "wrong_user", "a connection stays with the user it was opened for", ref))
        else:
            conn.session = got
            conn.push(self.ready(conn))

    async def _subscription(self, conn: Connection, kind: str, topic: object, ref: Any) -> None:
        if not isinstance(topic, str) or len(topic) > 200:
            conn.push(self.error(conn, "invalid_topic", "topic must be a string such as `playlist:<id>`", ref))
            return
        name, colon, item = topic.partition(":")
        known = self._topics.get(name)
        if known is None or bool(colon) != known[1] or (colon and not item):
            conn.push(self.error(conn, "invalid_topic", f"no topic {topic[:60]!r}", ref))
            return
        check = known[0]
        st = conn.stream
        if kind == "unsubscribe":
            if conn.topics.pop(topic, None) is not None:
                st.drop_interest(topic)
            conn.push(self._control(conn, "unsubscribed", {"topic": topic, **_ref(ref)}))
            return
        if topic not in conn.topics:
            if len(conn.topics) >= MAX_TOPICS:
                conn.push(self.error(conn, "too_many_subscriptions", f"at most {MAX_TOPICS} per connection", ref))
                return
            try:
                await check(conn.user, item)
            except MusicdError:
                # Not found and not allowed look the same: a private playlist does not leak its existence.
                conn.push(self.error(conn, "forbidden", f"you cannot subscribe to {topic[:60]!r}", ref))
                return
            if conn.close_code is not None or conn not in self._conns:
                return
            conn.topics[topic] = st.seq
            st.add_interest(topic)
            self._topic_users.setdefault(topic, set()).add(st.user_id)
        conn.push(self._control(conn, "subscribed", {"topic": topic, **_ref(ref)}))

    def _resume(self, conn: Connection, since: object, ref: Any) -> None:
        if not isinstance(since, int) or isinstance(since, bool):
            conn.push(self.error(conn, "invalid_message", "since must be the integer seq last seen", ref))
            return
        got = conn.stream.replay(conn, since)
        if isinstance(got, str) or len(got) + len(conn.outbox) >= self.cfg.send_queue_messages:
            conn.resync(got if isinstance(got, str) else "too_far_behind")
            return
        for message in got:
            conn.push(message)
        conn.push(self._control(conn, "resumed", {"since": since, "replayed": len(got), "seq": conn.stream.seq,
                                                  **_ref(ref)}))

    async def _command(self, conn: Connection, kind: str, msg: dict[str, Any], ref: Any) -> None:
        try:
            handler: Any = self._commands[kind]
            result = await handler(conn if kind in self._conn_commands else conn.user, msg)
        except MusicdError as e:
            conn.push(self.error(conn, e.code, str(e), ref))
            return
        except Exception as e:  # a failing command answers an error; the connection goes on
            log.error("realtime.command_failed", command=kind, error=str(e))
            conn.push(self.error(conn, "command_failed", f"{kind} failed", ref))
            return
        conn.push(self._control(conn, "ack", {"command": kind, "result": result, **_ref(ref)}))

    # ---- events (a bus consumer) ----

    async def on_event(self, event: Event) -> None:
        if isinstance(event, SessionsRevoked | UserDeleted):
            self._revoked(event)
        for router in self._routers.get(type(event), ()):
            try:
                deliveries = await router(event)
            except Exception as e:  # one router's failure must not stop the others
                log.error("realtime.router_failed", kind=type(event).__name__, error=str(e))
                continue
            for d in deliveries:
                self.deliver(d)

    async def on_overflow(self) -> None:
        """The bus dropped events before they reached the hub: every client must resync."""
        for conn in list(self._conns):
            conn.resync("server_overflow")

    def _revoked(self, e: SessionsRevoked | UserDeleted) -> None:
        st = self._streams.get(e.user_id)
        family = e.family_id if isinstance(e, SessionsRevoked) else None
        reason = e.reason if isinstance(e, SessionsRevoked) else "deleted"
        for conn in list(st.conns if st else ()):
            if family is None or conn.session.family_id == family:
                conn.request_close("session_revoked", reason)

    def deliver(self, d: Delivery) -> int:
        """Record `d` in each recipient's stream and queue it on their connections; how many users got it."""
        targets: dict[str, str | None] = {u: None for u in d.users if u in self._streams}
        if d.topic is not None and (users := self._topic_users.get(d.topic)):
            for u in list(users):
                st = self._streams.get(u)
                if st is None or not st.follows(d.topic):
                    users.discard(u)
                elif u not in targets and (d.may_see is None or d.may_see(u)):
                    targets[u] = d.topic
        if not targets:
            return 0
        if d.type not in self.event_types:
            raise ValueError(f"message type {d.type!r} was not declared by its route")
        data = msgspec.json.encode(self._encode(d.data)).decode()
        for uid, topic in targets.items():
            st = self._streams[uid]
            entry = st.record(topic, d.type, data)
            for conn in st.conns:
                if topic is None or topic in conn.topics:
                    conn.push(entry.message)
        self.metrics.realtime_messages.labels(d.type).inc(len(targets))
        return len(targets)

    # ---- upkeep ----

    async def run(self) -> None:
        """Keep-alive pings, idle and token checks, stream eviction; until cancelled."""
        tick = min(1.0, self.cfg.recheck_seconds, self.cfg.ping_interval_seconds)
        while True:
            await asyncio.sleep(tick)
            try:
                await self.upkeep()
            except Exception as e:  # the checks run again at the next tick
                log.error("realtime.upkeep_failed", error=str(e))

    async def upkeep(self) -> None:
        now = time.monotonic()
        conns = list(self._conns)
        for conn in conns:
            if now - conn.last_received > self.cfg.idle_timeout_seconds:
                conn.request_close("ping_timeout", "nothing received; answer ping with pong")
            elif now - conn.last_ping >= self.cfg.ping_interval_seconds:
                conn.last_ping = now
                conn.push(self._control(conn, "ping", {"t": int(time.time() * 1000)}))
        if conns and now - self._last_recheck >= self.cfg.recheck_seconds:
            self._last_recheck = now
            verdicts = await self.auth.check_sessions([c.session for c in conns])
            for conn, why in zip(conns, verdicts, strict=True):
                if why is not None:
                    conn.request_close(_TOKEN_CLOSE.get(why, "session_revoked"), why)
        for uid, st in list(self._streams.items()):
            if not st.conns and now - st.idle_since > _STREAM_KEEP_S:
                self._last_seq[uid] = st.seq
                del self._streams[uid]
        if now - self._last_sweep >= _SWEEP_S:
            self._last_sweep = now
            self._sweep_topics()

    def _sweep_topics(self) -> None:
        """Forget topics whose linger time ran out (a client that browsed many albums leaves none behind)."""
        for topic, users in list(self._topic_users.items()):
            for uid in list(users):
                st = self._streams.get(uid)
                if st is None or not st.follows(topic):
                    users.discard(uid)
            if not users:
                del self._topic_users[topic]

    def gauges(self) -> None:
        """Set the realtime gauges (called when /metrics is read)."""
        m = self.metrics
        depths = [len(c.outbox) for c in self._conns]
        m.realtime_connections.set(len(self._conns))
        m.realtime_streams.set(len(self._streams))
        m.realtime_history.set(sum(len(s.history) for s in self._streams.values()))
        m.realtime_queue_depth.set(max(depths, default=0))
        m.realtime_queued.set(sum(depths))
        m.realtime_queued_bytes.set(sum(c.outbox_bytes for c in self._conns))

    def close_all(self) -> None:
        """Ask every connection to close (the server is stopping)."""
        for conn in list(self._conns):
            conn.request_close("server_shutdown", "the server is stopping")


def _ref(ref: Any) -> dict[str, Any]:
    return {} if ref is None else {"ref": ref}
