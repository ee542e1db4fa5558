"""Subsonic apps in the server-held playback (issue 14).

- OpenSubsonic `reportPlayback` and `savePlayQueue` / `savePlayQueueByIndex` make the app a device of the
  user (listed as restricted: the server cannot command it) and what it plays the user's playback state,
  resumable on any other device. An app's report never takes control back: while another device is
  active, only a `starting` report (the user pressed play in the app) or a saved queue while nothing plays
  moves the state to the app; its progress, pauses and stops are ignored then.
- `jukeboxControl` drives one of the user's speakers: the active device when it is a speaker, else the
  speaker that registered last.

The rulebook gates these calls before they get here (a guest's reports are refused in PlayReportService).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import msgspec

from musicd.domain.catalog import TrackView
from musicd.domain.models import User
from musicd.domain.player import MAX_TRACKS, PlayerState, position_at, shuffled_order
from musicd.errors import NotFoundError, ValidationError
from musicd.services.catalog import CatalogService
from musicd.services.devices import DeviceService
from musicd.services.player import PlayerService
from musicd.services.rules import require_member

__all__ = ["JukeboxStatus", "SubsonicPlayback"]


class JukeboxStatus(msgspec.Struct, frozen=True):
    current_index: int
    playing: bool
    gain: float
    position_s: int
    tracks: list[TrackView] | None = None  # with action=get


def _queue_fields(tracks: list[str], index: int, position_ms: int, duration: int) -> dict[str, Any]:
    tracks = tracks[:MAX_TRACKS]
    index = min(max(index, 0), len(tracks) - 1)
    return {"context_uri": None, "tracks": tracks, "order": list(range(len(tracks))), "pos": index,
            "current": tracks[index], "from_queue": False, "duration_ms": duration, "shuffle": False,
            "position_ms": min(max(0, position_ms), duration or max(0, position_ms))}


class SubsonicPlayback:
    def __init__(self, player: PlayerService, devices: DeviceService, catalog: CatalogService) -> None:
        self.player = player
        self.devices = devices
        self.catalog = catalog

    # ---- apps as devices ----

    async def reported(self, user: User, client: str | None, track_id: str, position_ms: int, state: str) -> None:
        """An OpenSubsonic playbackReport (starting / playing / paused / stopped)."""
        dev = self.devices.seen_subsonic(user.id, client or "Subsonic app")
        await self.devices.persist_subsonic(user.id, dev)
        duration = await self.player.duration(track_id, user.id)

        async def change(s: PlayerState, now: float) -> dict[str, Any] | None:
            if s.device_id != dev and state != "starting":
                return None  # a late report of an app the user moved away from
            fields: dict[str, Any] = {"device_id": dev, "playing": state in ("starting", "playing"),
                                      "updated_at": now}
            if s.current != track_id or s.device_id != dev:
                if track_id in s.tracks and s.device_id == dev:
                    i = s.tracks.index(track_id)
                    fields.update(pos=s.order.index(i) if i in s.order else 0, current=track_id,
                                  from_queue=False, duration_ms=duration)
                elif track_id in s.tracks:
                    fields.update(_queue_fields(s.tracks, s.tracks.index(track_id), position_ms, duration))
                else:
                    fields.update(_queue_fields([track_id], 0, position_ms, duration))
            fields["position_ms"] = min(max(0, position_ms), duration or max(0, position_ms))
            return fields

        await self.player.update(user.id, "report", dev, change)

    async def queue_saved(self, user: User, client: str | None, track_ids: Sequence[str], index: int | None,
                          position_ms: int) -> None:
        """A saved play queue becomes the state when the app is the active device or nothing plays."""
        if not track_ids:
            return
        dev = self.devices.seen_subsonic(user.id, client or "Subsonic app")
        await self.devices.persist_subsonic(user.id, dev)
        i = index or 0
        duration = await self.player.duration(track_ids[i], user.id)

        async def change(s: PlayerState, now: float) -> dict[str, Any] | None:
            if s.device_id != dev and s.playing and s.device_id is not None:
                return None
            playing = s.playing if s.device_id == dev else False
            return {**_queue_fields(list(track_ids), i, position_ms, duration), "device_id": dev,
                    "playing": playing, "updated_at": now}

        await self.player.update(user.id, "report", dev, change)

    # ---- jukebox ----

    def _speaker(self, user: User, s: PlayerState) -> str:
        online = [d for d in self.devices.online(user.id) if d.kind == "speaker"]
        if not online:
            raise NotFoundError("no speaker of yours is online", code="no_speaker")
        active = next((d for d in online if d.id == s.device_id), None)
        return (active or online[0]).id

    async def jukebox(self, user: User, action: str, ids: Sequence[str] = (), index: int | None = None,
                      offset: int = 0, gain: float | None = None) -> JukeboxStatus:
        """Subsonic jukeboxControl on the user's speaker (members: a guest has no jukebox role)."""
        require_member(user)
        if action not in ("get", "status", "set", "start", "stop", "skip", "add", "clear", "remove", "shuffle",
                          "setGain"):
            raise ValidationError(f"unknown jukebox action {action!r}", code="invalid_action")
        if ids:
            found = await self.catalog.tracks(list(ids), user.id)
            if any(f is None for f in found):
                raise NotFoundError("no such song", code="track_not_found")
        first = ids[0] if ids else None
        duration_first = await self.player.duration(first, user.id)

        async def change(s: PlayerState, now: float) -> dict[str, Any] | None:
            if action in ("get", "status"):
                return None
            dev = self._speaker(user, s)
            base: dict[str, Any] = {"device_id": dev}
            if action == "set":
                if not ids:
                    return {**base, "tracks": [], "order": [], "pos": 0, "current": None, "playing": False}
                return {**base, **_queue_fields(list(ids), 0, 0, duration_first), "playing": s.playing}
            if action == "add":
                tracks = [*s.tracks, *ids][:MAX_TRACKS]
                if s.current is None:
                    return {**base, **_queue_fields(tracks, 0, 0, duration_first), "playing": False}
                return {**base, "tracks": tracks, "order": [*s.order, *range(len(s.tracks), len(tracks))]}
            if action == "clear":
                return {**base, "tracks": [], "order": [], "pos": 0, "current": None, "playing": False}
            if action == "setGain":
                if gain is None or not 0 <= gain <= 1:
                    raise ValidationError("gain must be between 0 and 1", code="invalid_gain")
                return {**base, "volume": round(gain * 100)}
            if s.current is None and action in ("start", "skip", "shuffle", "remove"):
                raise ValidationError("the jukebox playlist is empty", code="empty_queue")
            if action == "start":
                return {**base, "playing": True}
            if action == "stop":
                return {**base, "playing": False}
            if action == "shuffle":
                order = shuffled_order(len(s.tracks), s.order[s.pos], s.seed + 1)
                return {**base, "order": order, "pos": 0, "shuffle": True, "seed": s.seed + 1}
            if index is None or not 0 <= index < len(s.tracks):
                raise ValidationError("index is outside the jukebox playlist", code="invalid_index")
            if action == "remove":
                tracks = s.tracks[:index] + s.tracks[index + 1:]
                if not tracks:
                    return {**base, "tracks": [], "order": [], "pos": 0, "current": None, "playing": False}
                cur = s.order[s.pos]
                cur = min(index, len(tracks) - 1) if cur == index else cur - (cur > index)
                order = [i - (i > index) for i in s.order if i != index]
                return {**base, "tracks": tracks, "order": order, "pos": order.index(cur), "current": tracks[cur]}
            duration = await self.player.duration(s.tracks[index], user.id)
            return {**base, "pos": s.order.index(index), "current": s.tracks[index], "from_queue": False,
                    "duration_ms": duration, "position_ms": min(max(0, offset) * 1000, duration), "playing": True}

        s = await self.player.update(user.id, "jukebox", "jukebox", change)
        pos_ms = position_at(s, time.time())
        current = s.order[s.pos] if s.order and s.current is not None else -1
        tracks = None
        if action == "get":
            found = await self.catalog.tracks(s.tracks, user.id)
            tracks = [t for t in found if t is not None]
        return JukeboxStatus(current, s.playing and s.current is not None, s.volume / 100, pos_ms // 1000, tracks)
