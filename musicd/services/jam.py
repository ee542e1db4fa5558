"""Group listening (Jam, issue 14): one timeline on the server that every member's device follows.

A user starts a Jam from their current playback; others on the instance join with its code (or link) and
name the device they listen on. The server keeps the timeline: the track, and `start_at`, the server time
(epoch ms) at which the track's position 0 plays, so every device computes the same position at the same
moment (`now - start_at`) and corrects its drift by seeking (docs/connect.md). Members add tracks to the
shared queue; the timeline moves to the next one when a track ends; the host pauses, resumes, skips and
ends it. Jams live in the server's memory: a restart ends them.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import msgspec

from musicd.domain.events import JamChanged
from musicd.domain.ids import random_id
from musicd.domain.models import User
from musicd.domain.player import position_at
from musicd.errors import ForbiddenError, NotFoundError, ValidationError
from musicd.services.bus import EventBus
from musicd.services.devices import DeviceService
from musicd.services.player import PlayerService
from musicd.services.ratelimit import Bucket, RateLimiter
from musicd.services.speakers import short_code

__all__ = ["Jam", "JamService"]

LEAD_MS = 1500  # a (re)started track begins this far in the future, so every device can be ready for it
MAX_MEMBERS = 32
MAX_QUEUE = 500


class Jam(msgspec.Struct, kw_only=True):
    id: str
    code: str
    host_id: str
    members: dict[str, str]  # user id -> the device id they listen on
    queue: list[str]  # the shared queue; `index` is the current track
    index: int = 0
    durations: dict[str, int] = msgspec.field(default_factory=dict)
    start_at: int = 0  # server epoch ms at which position 0 of the current track plays
    paused_at: int | None = None  # the position while paused
    version: int = 0
    ended: bool = False

    def data(self) -> dict[str, Any]:
        track = self.queue[self.index] if self.queue else None
        return {"jam_id": self.id, "code": self.code, "host_id": self.host_id, "version": self.version,
                "members": [{"user_id": u, "device_id": d} for u, d in self.members.items()],
                "track_id": track, "duration_ms": self.durations.get(track or "", 0),
                "start_at": self.start_at, "is_playing": self.paused_at is None and not self.ended,
                "position_ms": self.paused_at, "queue": self.queue[self.index + 1:self.index + 51],
                "server_time": int(time.time() * 1000), "ended": self.ended}


class JamService:
    def __init__(self, player: PlayerService, devices: DeviceService, bus: EventBus) -> None:
        self.player = player
        self.devices = devices
        self.bus = bus
        self._jams: dict[str, Jam] = {}
        self._by_code: dict[str, str] = {}
        self._timers: dict[str, asyncio.Task[None]] = {}
        self.limits = RateLimiter({"join": Bucket(burst=10, per_second=10 / 60)})

    def _publish(self, jam: Jam) -> None:
        jam.version += 1
        self.bus.publish(JamChanged(jam_id=jam.id, users=list(jam.members), data=jam.data()))

    def _device(self, user: User, device_id: str) -> None:
        if not self.devices.is_online(user.id, device_id):
            raise NotFoundError("Device not found", code="device_not_found")

    def of_user(self, user_id: str) -> Jam | None:
        return next((j for j in self._jams.values() if user_id in j.members), None)

    async def start(self, user: User, device_id: str) -> Jam:
        """A Jam from the user's current playback (its track and what follows), on `device_id`."""
        self._device(user, device_id)
        if self.of_user(user.id) is not None:
            raise ValidationError("you are in a Jam already", code="already_in_jam")
        s = await self.player.state(user.id)
        if s.current is None:
            raise ValidationError("play something first", code="nothing_playing")
        queue = [s.current, *[s.tracks[i] for i in s.order[s.pos + 1:]][:MAX_QUEUE]]
        jam = Jam(id=random_id(), code=short_code(6), host_id=user.id,
                  members={user.id: device_id}, queue=queue)
        await self._durations(jam, user.id)
        self._jams[jam.id] = jam
        self._by_code[jam.code] = jam.id
        offset = position_at(s, time.time())
        if s.playing:  # the host's device goes on with the Jam, from where the host was
            await self.player.pause(user, by="jam")
        self._begin(jam, 0, offset_ms=offset)
        return jam

    async def _durations(self, jam: Jam, user_id: str) -> None:
        for t in jam.queue:
            if t not in jam.durations:
                jam.durations[t] = await self.player.duration(t, user_id)

    def _begin(self, jam: Jam, index: int, offset_ms: int) -> None:
        """Play `queue[index]` from `offset_ms`, LEAD_MS from now; schedule the move to the next track."""
        jam.index, jam.paused_at = index, None
        jam.start_at = int(time.time() * 1000) + LEAD_MS - offset_ms
        self._schedule(jam)
        self._publish(jam)

    def _schedule(self, jam: Jam) -> None:
        if (t := self._timers.pop(jam.id, None)) is not None:
            t.cancel()
        if jam.paused_at is not None or jam.ended or not jam.queue:
            return
        end = jam.start_at + jam.durations.get(jam.queue[jam.index], 0)
        self._timers[jam.id] = asyncio.create_task(self._next_at(jam, end))

    async def _next_at(self, jam: Jam, end_ms: int) -> None:
        await asyncio.sleep(max(0.0, end_ms / 1000 - time.time()))
        self._timers.pop(jam.id, None)
        if jam.index + 1 < len(jam.queue):
            jam.index += 1
            jam.start_at = end_ms  # the next track begins where this one ended: no gap on the timeline
            self._schedule(jam)
        else:
            jam.paused_at = jam.durations.get(jam.queue[jam.index], 0)
        self._publish(jam)

    def _get(self, user: User, jam_id: str) -> Jam:
        jam = self._jams.get(jam_id)
        if jam is None or user.id not in jam.members:
            raise NotFoundError("no such Jam", code="jam_not_found")
        return jam

    async def join(self, user: User, code: str, device_id: str) -> Jam:
        """Join by code, listening on `device_id` (guessing codes is rate limited)."""
        self._device(user, device_id)
        self.limits.take("join", user.id)
        jam = self._jams.get(self._by_code.get(code.strip().upper(), ""))
        if jam is None:
            raise NotFoundError("no Jam with that code", code="jam_not_found")
        self.limits.refund("join", user.id)
        if user.id not in jam.members and len(jam.members) >= MAX_MEMBERS:
            raise ValidationError(f"a Jam has at most {MAX_MEMBERS} members", code="jam_full")
        other = self.of_user(user.id)
        if other is not None and other is not jam:
            raise ValidationError("you are in another Jam", code="already_in_jam")
        jam.members[user.id] = device_id
        self._publish(jam)
        return jam

    async def add(self, user: User, jam_id: str, track_id: str) -> Jam:
        """Add a track to the end of the shared queue (any member)."""
        jam = self._get(user, jam_id)
        if len(jam.queue) >= MAX_QUEUE:
            raise ValidationError(f"the Jam's queue holds at most {MAX_QUEUE} tracks", code="queue_full")
        if await self.player.duration(track_id, user.id) == 0:
            raise NotFoundError(f"no track with id {track_id}", code="track_not_found")
        jam.queue.append(track_id)
        await self._durations(jam, user.id)
        if jam.paused_at is not None and jam.index == len(jam.queue) - 2 and \
                jam.paused_at >= jam.durations.get(jam.queue[jam.index], 0):
            self._begin(jam, jam.index + 1, 0)  # the Jam had run out: it goes on with the new track
        else:
            self._publish(jam)
        return jam

    async def control(self, user: User, jam_id: str, action: str) -> Jam:
        """The host's `pause`, `play`, `next`."""
        jam = self._get(user, jam_id)
        if user.id != jam.host_id:
            raise ForbiddenError("only the host controls the Jam", code="not_host")
        now = int(time.time() * 1000)
        if action == "pause" and jam.paused_at is None:
            jam.paused_at = max(0, now - jam.start_at)
            self._schedule(jam)
            self._publish(jam)
        elif action == "play" and jam.paused_at is not None:
            self._begin(jam, jam.index, jam.paused_at)
        elif action == "next" and jam.index + 1 < len(jam.queue):
            self._begin(jam, jam.index + 1, 0)
        elif action not in ("pause", "play", "next"):
            raise ValidationError("action must be pause, play or next", code="invalid_action")
        return jam

    async def leave(self, user: User, jam_id: str) -> None:
        """Leave; the host's leaving ends the Jam for everyone."""
        jam = self._get(user, jam_id)
        if user.id == jam.host_id:
            jam.ended = True
            self._schedule(jam)
            self._publish(jam)
            self._jams.pop(jam.id, None)
            self._by_code.pop(jam.code, None)
            return
        jam.members.pop(user.id, None)
        self._publish(jam)
        self.bus.publish(JamChanged(jam_id=jam.id, users=[user.id], data={**jam.data(), "ended": True}))

    def get(self, user: User, jam_id: str) -> Jam:
        return self._get(user, jam_id)

    async def close(self) -> None:
        for t in list(self._timers.values()):
            t.cancel()
            with contextlib.suppress(BaseException):
                await t
