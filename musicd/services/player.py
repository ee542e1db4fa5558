"""Server-held playback per user (issue 14): commands from any controller, reports from the playing device.

Every change makes a new version of the user's `PlayerState` (musicd.domain.player), stores it (a restart
resumes it) and publishes `PlayerStateChanged`, which the realtime channel sends to every device of the
user as `player_state`: the active device plays what the state says, the others fall silent or follow it
as remotes. A command or report that names an older `state_version` than the current one is refused
(`stale_state`): a late report from the old device never takes control back.

Changes of one user are serialised by a lock; the position is extrapolated only while playing and never
past the track's end (`position_at`).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

import msgspec

from musicd.domain.catalog import TrackView
from musicd.domain.events import PlayerStateChanged
from musicd.domain.models import User
from musicd.domain.player import (
    MAX_QUEUE,
    MAX_TRACKS,
    Device,
    PlayerState,
    Repeat,
    advance,
    position_at,
    shuffled_order,
    with_position,
)
from musicd.domain.recommend import StationPage
from musicd.errors import MusicdError, NotFoundError, PlayerError, ValidationError
from musicd.logs import get_logger
from musicd.services.bus import EventBus
from musicd.services.catalog import CatalogService
from musicd.services.devices import DeviceService
from musicd.services.player_queue import jump_fields, move_fields, remove_fields
from musicd.services.playlists import PlaylistService
from musicd.store.player import PlayerStateRepository

__all__ = ["Context", "DeviceView", "PlayerService", "PlayerView", "StationSource", "is_station_uri",
           "state_message"]

log = get_logger("musicd.player")

_FUTURE_S = 2.0  # a report dated further ahead than this (clock skew allowance) is refused
# A report that agrees with the state's own extrapolation within this is no change: no new version, no fan-out
# to the user's connections, nothing in the resume history (a playing device reports every second).
_REPORT_SLACK_MS = 500
_END_SLACK_MS = 1_000  # a reported position may pass the known duration by this much (rounding of durations)
# A radio station (docs/radio.md) never ends: its context holds STATION_PAGE tracks at first and takes the
# station's next page whenever fewer than STATION_LOW tracks are left after the current one (the queue a
# client shows, 20 tracks, stays full).
STATION_PAGE = 50
STATION_LOW = 20


def is_station_uri(uri: str) -> bool:
    """A radio station's context URI (`spotify:station:<kind>:<id>`, docs/radio.md)?"""
    return uri.strip().startswith(("spotify:station:", "musicd:station:"))


class StationSource(Protocol):
    """Where a station context's tracks come from (services/recommend.py)."""

    async def station_tracks(self, context_uri: str, user: User, after: int = 0, n: int = 20) -> StationPage: ...


class Context(msgspec.Struct, frozen=True):
    """What to play: a context (`kind` album / playlist / artist and its id, or `station` and its URI) or a
    list of track ids."""

    kind: str | None = None
    id: str | None = None
    track_ids: Sequence[str] = ()


class DeviceView(msgspec.Struct, frozen=True):
    device: Device
    is_active: bool
    volume: int | None


class PlayerView(msgspec.Struct, frozen=True):
    """The state with what a client shows: its device, the current track, the position now."""

    state: PlayerState
    device: DeviceView | None
    track: TrackView | None
    position_ms: int
    timestamp_ms: int
    queue: list[TrackView] = msgspec.field(default_factory=list)


def state_message(s: PlayerState, now: float | None = None) -> dict[str, Any]:
    """The `player_state` message data (docs/realtime.md): the state with its position at `now`."""
    now = time.time() if now is None else now
    upcoming = [s.tracks[i] for i in s.order[s.pos + 1:s.pos + 21]] if s.order else []
    return {
        "state_version": s.version, "device_id": s.device_id, "track_id": s.current,
        "context_uri": s.context_uri, "is_playing": s.playing and s.current is not None,
        "position_ms": position_at(s, now), "timestamp": int(now * 1000), "duration_ms": s.duration_ms,
        "shuffle": s.shuffle, "repeat": s.repeat, "volume": s.volume, "queue": list(s.queue[:20]),
        "next_track_ids": upcoming, "cause": s.cause, "changed_by": s.changed_by,
    }


class PlayerService:
    def __init__(self, repo: PlayerStateRepository, devices: DeviceService, catalog: CatalogService,
                 playlists: PlaylistService, bus: EventBus, stations: StationSource | None = None) -> None:
        self.repo = repo
        self.stations = stations
        self.devices = devices
        self.catalog = catalog
        self.playlists = playlists
        self.bus = bus
        self._states: dict[str, PlayerState] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        devices.on_lost = self.device_lost

    # ---- reading ----

    async def state(self, user_id: str) -> PlayerState:
        """The user's current state (an empty one before they ever played)."""
        s = self._states.get(user_id)
        if s is None:
            s = await self.repo.get(user_id) or PlayerState(user_id=user_id, updated_at=time.time())
            self._states[user_id] = s
        return s

    async def playback(self, user: User) -> PlayerState | None:
        """The state when something is current, else None (Spotify answers 204 then)."""
        s = await self.state(user.id)
        return s if s.current is not None else None

    async def view(self, user: User, with_queue: bool = False) -> PlayerView | None:
        """What GET /v1/me/player shows (None when nothing is current); with the coming tracks on request."""
        s = await self.state(user.id)
        if s.current is None:
            return None
        now = time.time()
        dev = next((d for d in await self.device_list(user) if d.device.id == s.device_id), None)
        coming = (list(s.queue) + [s.tracks[i] for i in s.order[s.pos + 1:]])[:20] if with_queue else []
        found = await self.catalog.tracks([s.current, *coming], user.id)
        return PlayerView(s, dev, found[0], position_at(s, now), int(now * 1000), [t for t in found[1:] if t])

    async def device_list(self, user: User) -> list[DeviceView]:
        """The user's available devices, the active one marked."""
        s = await self.state(user.id)
        return [DeviceView(d, d.id == s.device_id, s.volume if d.supports_volume else None)
                for d in self.devices.online(user.id)]

    # ---- committing ----

    def _lock(self, user_id: str) -> asyncio.Lock:
        return self._locks.setdefault(user_id, asyncio.Lock())

    async def _commit(self, old: PlayerState, cause: str, by: str | None, **changes: Any) -> PlayerState:
        new = msgspec.structs.replace(old, version=old.version + 1, cause=cause, changed_by=by, **changes)
        await self.repo.save(new)
        self._states[new.user_id] = new
        self.bus.publish(PlayerStateChanged(user_id=new.user_id, version=new.version, state=state_message(new)))
        return new

    def _check_version(self, s: PlayerState, expected: int | None) -> None:
        if expected is not None and expected != s.version:
            raise PlayerError(f"the state is at version {s.version}, not {expected}", status=409,
                              reason="STALE_STATE", code="stale_state")

    async def _device(self, user: User, device_id: str | None, s: PlayerState) -> str:
        """The device a command goes to: the one named (online), else the active one; a Subsonic app
        (restricted: the server cannot command it) is refused."""
        if device_id is not None:
            if not self.devices.is_online(user.id, device_id):
                raise PlayerError("Device not found", status=404, reason="DEVICE_NOT_FOUND",
                                  code="device_not_found")
            dev = device_id
        elif s.device_id is None or not self.devices.is_online(user.id, s.device_id):
            raise PlayerError("Player command failed: No active device found", status=404,
                              reason="NO_ACTIVE_DEVICE")
        else:
            dev = s.device_id
        if self.devices.restricted(user.id, dev):
            raise PlayerError("Player command failed: the device cannot be controlled", status=403,
                              reason="DEVICE_NOT_CONTROLLABLE")
        return dev

    async def update(self, user_id: str, cause: str, by: str | None,
                     change: Callable[[PlayerState, float], Awaitable[dict[str, Any] | None]]) -> PlayerState:
        """A change made by another service (Subsonic reports, the jukebox): `change(state, now)` gets the
        state at `now` under the user's lock and returns the changed fields (None: no change)."""
        async with self._lock(user_id):
            now = time.time()
            current = with_position(await self.state(user_id), now)
            fields = await change(current, now)
            if fields is None:
                return self._states[user_id]
            return await self._commit(current, cause, by, **fields)

    async def duration(self, track_id: str | None, user_id: str) -> int:
        """A track's duration in ms (0 when unknown)."""
        return await self._duration(track_id, user_id)

    async def _duration(self, track_id: str | None, user_id: str) -> int:
        if track_id is None:
            return 0
        t = (await self.catalog.tracks([track_id], user_id))[0]
        return round(t.duration * 1000) if t is not None else 0

    # ---- commands (Spotify's /v1/me/player) ----

    async def play(self, user: User, ctx: Context | None = None, offset: int | str | None = None,
                   position_ms: int | None = None, device_id: str | None = None, by: str | None = None,
                   expected: int | None = None) -> PlayerState:
        """Start a context or tracks (at `offset`: an index or a track id), or resume what is current."""
        if position_ms is not None and position_ms < 0:
            raise ValidationError("position_ms must be >= 0", code="invalid_position")
        async with self._lock(user.id):
            s = await self.state(user.id)
            self._check_version(s, expected)
            dev = await self._device(user, device_id, s)
            now = time.time()
            if ctx is None:
                if s.current is None:
                    raise PlayerError("Player command failed: nothing to resume", status=404,
                                      reason="NO_ACTIVE_DEVICE")
                pos = position_at(s, now) if position_ms is None else min(position_ms, s.duration_ms)
                return await self._commit(s, "play", by, device_id=dev, playing=True, position_ms=pos,
                                          updated_at=now)
            uri, tracks = await self._resolve(user, ctx)
            start = self._offset(tracks, offset)
            seed = random.getrandbits(31)
            order = shuffled_order(len(tracks), start, seed) if s.shuffle else list(range(len(tracks)))
            current = tracks[start]
            duration = await self._duration(current, user.id)
            return await self._commit(
                s, "play", by, device_id=dev, context_uri=uri, tracks=tracks, order=order,
                pos=order.index(start), current=current, from_queue=False, duration_ms=duration,
                position_ms=min(position_ms or 0, duration), updated_at=now, playing=True, seed=seed)

    async def _resolve(self, user: User, ctx: Context) -> tuple[str | None, list[str]]:
        # The context URI is kept in the form /v1 emits (`spotify:<kind>:<id>`, as musicd.http.v1.shapes.uri).
        if ctx.kind is None:
            tracks = list(ctx.track_ids)
            found = await self.catalog.tracks(tracks, user.id)
            if missing := [t for t, f in zip(tracks, found, strict=True) if f is None]:
                raise NotFoundError(f"no track with id {missing[0]}", code="track_not_found")
            uri = None
        elif ctx.kind == "album":
            tracks = [t.id for t in await self.catalog.album_tracks(str(ctx.id), user.id)]
            uri = f"spotify:album:{ctx.id}"
        elif ctx.kind == "playlist":
            _, items = await self.playlists.subsonic_get(user, str(ctx.id))
            tracks = [i.track.id for i in items if i.track is not None]
            uri = f"spotify:playlist:{ctx.id}"
        elif ctx.kind == "artist":
            tracks = [t.id for t in await self.catalog.artist_top_tracks(str(ctx.id), user.id)]
            uri = f"spotify:artist:{ctx.id}"
        elif ctx.kind == "station" and self.stations is not None:
            page = await self.stations.station_tracks(str(ctx.id), user, 0, STATION_PAGE)
            tracks, uri = [r.track_id for r in page.items], page.station.uri
        else:
            raise ValidationError(f"cannot play a {ctx.kind}", code="bad_context")
        if not tracks:
            raise PlayerError("Player command failed: the context has no playable tracks", status=404,
                              reason="UNKNOWN", code="empty_context")
        return uri, tracks[:MAX_TRACKS]

    @staticmethod
    def _offset(tracks: list[str], offset: int | str | None) -> int:
        if offset is None:
            return 0
        if isinstance(offset, int):
            if not 0 <= offset < len(tracks):
                raise ValidationError(f"offset {offset} is outside the context (0..{len(tracks) - 1})",
                                      code="invalid_offset")
            return offset
        if offset not in tracks:
            raise ValidationError("the offset's track is not in the context", code="invalid_offset")
        return tracks.index(offset)

    async def _simple(self, user: User, cause: str, device_id: str | None, by: str | None, expected: int | None,
                      change: Any) -> PlayerState:
        """A command on the active (or named) device: `change(state, now)` returns the changed fields."""
        async with self._lock(user.id):
            s = await self.state(user.id)
            self._check_version(s, expected)
            dev = await self._device(user, device_id, s)
            if s.current is None:
                raise PlayerError("Player command failed: nothing is playing", status=404,
                                  reason="NO_ACTIVE_DEVICE")
            now = time.time()
            current = with_position(s, now)
            fields = await change(current, now)
            return await self._commit(current, cause, by, device_id=dev, **fields)

    async def pause(self, user: User, device_id: str | None = None, by: str | None = None,
                    expected: int | None = None) -> PlayerState:
        async def change(s: PlayerState, now: float) -> dict[str, Any]:
            if not s.playing:
                raise PlayerError("Player command failed: Restriction violated", status=403, reason="UNKNOWN",
                                  code="already_paused")
            return {"playing": False, "position_ms": s.position_ms}
        return await self._simple(user, "pause", device_id, by, expected, change)

    async def seek(self, user: User, position_ms: int, device_id: str | None = None, by: str | None = None,
                   expected: int | None = None) -> PlayerState:
        if position_ms < 0:
            raise ValidationError("position_ms must be >= 0", code="invalid_position")

        async def change(s: PlayerState, now: float) -> dict[str, Any]:
            if s.duration_ms and position_ms >= s.duration_ms:  # Spotify: past the end plays the next track
                return await self._step_fields(s, 1, user)
            return {"position_ms": position_ms}
        return await self._simple(user, "seek", device_id, by, expected, change)

    async def skip(self, user: User, step: int, device_id: str | None = None, by: str | None = None,
                   expected: int | None = None) -> PlayerState:
        async def change(s: PlayerState, now: float) -> dict[str, Any]:
            return await self._step_fields(s, step, user)
        return await self._simple(user, "next" if step > 0 else "previous", device_id, by, expected, change)

    async def _step_fields(self, s: PlayerState, step: int, user: User, auto: bool = False) -> dict[str, Any]:
        more = await self._station_more(s, user) if step > 0 else {}
        if more:
            s = msgspec.structs.replace(s, **more)
        track, from_queue, pos, stopped = advance(s, step, s.position_ms, auto)
        if stopped:
            return {"playing": False, "position_ms": s.duration_ms if auto else 0, "current": track,
                    "pos": pos, "from_queue": False, "queue": s.queue,
                    "duration_ms": await self._duration(track, user.id), **more}
        queue = s.queue[1:] if from_queue and step > 0 and not (auto and s.repeat == "track") else s.queue
        return {"current": track, "from_queue": from_queue, "pos": pos, "queue": queue, "position_ms": 0,
                "duration_ms": await self._duration(track, user.id), **more}

    async def _station_more(self, s: PlayerState, user: User) -> dict[str, Any]:
        """A station context running low: its next page appended (`tracks` and `order`), else nothing."""
        if (self.stations is None or s.context_uri is None or not is_station_uri(s.context_uri)
                or len(s.order) - s.pos - 1 >= STATION_LOW or len(s.tracks) + STATION_PAGE > MAX_TRACKS):
            return {}
        try:
            page = await self.stations.station_tracks(s.context_uri, user, len(s.tracks), STATION_PAGE)
        except MusicdError as e:  # its seed went away: the context ends where it is, like any other
            log.warning("player.station_ended", user=user.id, station=s.context_uri, error=str(e))
            return {}
        added = [r.track_id for r in page.items]
        return {"tracks": [*s.tracks, *added], "order": [*s.order, *range(len(s.tracks), len(s.tracks) + len(added))]}

    async def set_volume(self, user: User, volume: int, device_id: str | None = None, by: str | None = None,
                         expected: int | None = None) -> PlayerState:
        if not 0 <= volume <= 100:
            raise ValidationError("volume_percent must be 0..100", code="invalid_volume")
        async with self._lock(user.id):
            s = await self.state(user.id)
            self._check_version(s, expected)
            dev = await self._device(user, device_id, s)
            if not self.devices.supports_volume(user.id, dev):
                raise PlayerError("Player command failed: Cannot control device volume", status=403,
                                  reason="VOLUME_CONTROL_DISALLOW")
            return await self._commit(with_position(s, time.time()), "volume", by, volume=volume)

    async def set_shuffle(self, user: User, on: bool, device_id: str | None = None, by: str | None = None,
                          expected: int | None = None) -> PlayerState:
        async def change(s: PlayerState, now: float) -> dict[str, Any]:
            cur = s.order[s.pos] if s.order else None
            seed = random.getrandbits(31)
            order = shuffled_order(len(s.tracks), cur, seed) if on else list(range(len(s.tracks)))
            pos = order.index(cur) if cur is not None else 0
            return {"shuffle": on, "order": order, "pos": pos, "seed": seed}
        return await self._simple(user, "shuffle", device_id, by, expected, change)

    async def set_repeat(self, user: User, mode: str, device_id: str | None = None, by: str | None = None,
                         expected: int | None = None) -> PlayerState:
        if mode not in ("off", "track", "context"):
            raise ValidationError("state must be track, context or off", code="invalid_repeat")
        repeat: Repeat = mode  # type: ignore[assignment]

        async def change(s: PlayerState, now: float) -> dict[str, Any]:
            return {"repeat": repeat}
        return await self._simple(user, "repeat", device_id, by, expected, change)

    async def add_to_queue(self, user: User, track_id: str, device_id: str | None = None,
                           by: str | None = None) -> PlayerState:
        if (await self.catalog.tracks([track_id], user.id))[0] is None:
            raise NotFoundError(f"no track with id {track_id}", code="track_not_found")

        async def change(s: PlayerState, now: float) -> dict[str, Any]:
            if len(s.queue) >= MAX_QUEUE:
                raise ValidationError(f"the queue holds at most {MAX_QUEUE} tracks", code="queue_full")
            return {"queue": [*s.queue, track_id]}
        return await self._simple(user, "queue", device_id, by, None, change)

    async def remove_from_queue(self, user: User, index: int, track_id: str, device_id: str | None = None,
                                by: str | None = None, expected: int | None = None) -> PlayerState:
        """Take out what comes `index`-th next (what GET /v1/me/player/queue lists), when it is still
        `track_id` (else `stale_state`: the list moved)."""
        async def change(s: PlayerState, now: float) -> dict[str, Any]:
            return remove_fields(s, index, track_id)
        return await self._simple(user, "queue", device_id, by, expected, change)

    async def move_in_queue(self, user: User, index: int, track_id: str, to: int, device_id: str | None = None,
                            by: str | None = None, expected: int | None = None) -> PlayerState:
        """Move what comes `index`-th next (still `track_id`) to be the `to`-th."""
        async def change(s: PlayerState, now: float) -> dict[str, Any]:
            return move_fields(s, index, track_id, to)
        return await self._simple(user, "queue", device_id, by, expected, change)

    async def play_from_queue(self, user: User, index: int, track_id: str, device_id: str | None = None,
                              by: str | None = None, expected: int | None = None) -> PlayerState:
        """Play what comes `index`-th next (still `track_id`) now, from its start."""
        async def change(s: PlayerState, now: float) -> dict[str, Any]:
            return {**jump_fields(s, index, track_id), "duration_ms": await self._duration(track_id, user.id)}
        return await self._simple(user, "jump", device_id, by, expected, change)

    async def transfer(self, user: User, device_id: str, play: bool | None = None, by: str | None = None,
                       expected: int | None = None) -> PlayerState:
        """Move playback to `device_id`: it resumes where the old device had got to (from the last known
        state: an old device that vanished does not block it). `play` True starts, False keeps it paused,
        None keeps the playing state."""
        async def change(s: PlayerState, now: float) -> dict[str, Any]:
            return {"playing": s.playing if play is None else play}
        return await self._simple(user, "transfer", device_id, by, expected, change)

    # ---- the playing device ----

    async def report(self, user: User, device_id: str, version: int, track_id: str | None, position_ms: int,
                     playing: bool, ended: bool = False, at: float | None = None) -> PlayerState:
        """What the active device really played. Refused when the device is not the active one, when it
        reports against an older version (`stale_state`), or for a position past the track's end or from
        the future; an `ended` report moves to the next track. A report that agrees with the state (same
        playing flag, position within `_REPORT_SLACK_MS` of where the state puts it) changes nothing."""
        now = time.time()
        at = now if at is None else at
        if at > now + _FUTURE_S:
            raise ValidationError("the report is dated in the future", code="invalid_report")
        if position_ms < 0:
            raise ValidationError("position_ms must be >= 0", code="invalid_position")
        async with self._lock(user.id):
            s = await self.state(user.id)
            if device_id != s.device_id:
                raise PlayerError("this device is not the active one", status=409, reason="NOT_ACTIVE_DEVICE",
                                  code="not_active_device")
            if version < s.version:
                raise PlayerError(f"the report is for version {version}; the state is at {s.version}",
                                  status=409, reason="STALE_STATE", code="stale_state")
            if version > s.version:
                raise ValidationError(f"no version {version} yet", code="invalid_version")
            if track_id != s.current:
                raise PlayerError("the report is about another track", status=409, reason="STALE_STATE",
                                  code="stale_state")
            if s.duration_ms and position_ms > s.duration_ms + _END_SLACK_MS:
                raise ValidationError(f"position {position_ms} is past the track's end ({s.duration_ms} ms)",
                                      code="invalid_position")
            pos = min(position_ms, s.duration_ms) if s.duration_ms else position_ms
            if not ended and playing == s.playing and abs(pos - position_at(s, at)) <= _REPORT_SLACK_MS:
                return s
            base = msgspec.structs.replace(s, position_ms=pos, updated_at=at, playing=playing)
            if ended:
                fields = await self._step_fields(base, 1, user, auto=True)
                return await self._commit(base, "ended", device_id, updated_at=now, **fields)
            return await self._commit(base, "report", device_id)

    async def device_lost(self, user_id: str, device_id: str) -> None:
        """The active device went away for good: pause at the last known position (resumable anywhere)."""
        async with self._lock(user_id):
            s = await self.state(user_id)
            if s.device_id != device_id or not s.playing:
                return
            await self._commit(with_position(s, time.time()), "device_lost", device_id, playing=False)
