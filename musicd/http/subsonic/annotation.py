"""Annotation: star / unstar, setRating, scrobble, reportPlayback and getNowPlaying."""

from __future__ import annotations

import time
import zlib

from musicd.domain.catalog import AlbumView, ArtistView
from musicd.errors import NotFoundError
from musicd.http.subsonic.browsing import resolve_item
from musicd.http.subsonic.context import Ctx, Reply, endpoint
from musicd.http.subsonic.envelope import ERR_GENERIC, ERR_NOT_FOUND, SubsonicError
from musicd.http.subsonic.mappers import child
from musicd.services.play_events import PlayEvent

__all__: list[str] = []


async def _kind_of(ctx: Ctx, item_id: str) -> str:
    item = await resolve_item(ctx, item_id)
    if isinstance(item, AlbumView):
        return "album"
    if isinstance(item, ArtistView):
        return "artist"
    return "track"


async def _starred_ids(ctx: Ctx) -> dict[str, list[str]]:
    """The items named by `id` (songs, or folder-style albums and artists), `albumId` and `artistId`."""
    by_kind: dict[str, list[str]] = {"track": [], "album": ctx.all("albumId"), "artist": ctx.all("artistId")}
    for item_id in ctx.all("id"):
        by_kind[await _kind_of(ctx, item_id)].append(item_id)
    return by_kind


@endpoint("star")
async def star(ctx: Ctx) -> Reply:
    lib = ctx.services.user_library
    for kind, ids in (await _starred_ids(ctx)).items():
        if ids:
            await lib.save(kind, ids, ctx.user.id)
    return None


@endpoint("unstar")
async def unstar(ctx: Ctx) -> Reply:
    lib = ctx.services.user_library
    by_kind = {"track": ctx.all("id"), "album": ctx.all("albumId"), "artist": ctx.all("artistId")}
    # An unknown id is not an error here, and an album or artist id passed as `id` must go too.
    for item_id in by_kind["track"]:
        by_kind["album"].append(item_id)
        by_kind["artist"].append(item_id)
    for kind, ids in by_kind.items():
        if ids:
            await lib.unsave(kind, ids, ctx.user.id)
    return None


@endpoint("setRating")
async def set_rating(ctx: Ctx) -> Reply:
    item_id = ctx.req("id")
    rating = ctx.req_int("rating")
    if not 0 <= rating <= 5:
        raise SubsonicError(ERR_GENERIC, "rating must be between 0 and 5")
    await ctx.services.user_library.set_rating(await _kind_of(ctx, item_id), item_id, ctx.user.id, rating)
    return None


def _device(ctx: Ctx) -> str:
    # Each client app counts as one device of the user, so two apps playing at once both show.
    return f"subsonic:{(ctx.opt('c') or 'unknown')[:64]}"


@endpoint("scrobble")
async def scrobble(ctx: Ctx) -> Reply:
    """`submission=false`: now playing; true (the default): a finished play, at `time` (ms) if given."""
    ids = ctx.all("id")
    if not ids:
        ctx.req("id")
    found = await ctx.services.catalog.tracks(ids)
    for i, t in zip(ids, found, strict=True):
        if t is None:
            raise SubsonicError(ERR_NOT_FOUND, f"no song with id {i}")
    times = ctx.ints("time")
    submission = ctx.bool("submission", True)
    events = ctx.services.play_events
    now = time.time()
    for n, t in enumerate(found):
        assert t is not None
        at = now
        if n < len(times):
            at = times[n] / 1000
        if submission:
            events.submit(PlayEvent(ctx.user.id, t.id, "scrobble", at, ms_played=round(t.duration * 1000),
                                    device_id=_device(ctx)))
        else:
            events.submit(PlayEvent(ctx.user.id, t.id, "start", at, device_id=_device(ctx)))
    return None


_STATES = {"starting": "start", "playing": "progress", "paused": "progress", "stopped": "end"}


@endpoint("reportPlayback")
async def report_playback(ctx: Ctx) -> Reply:
    """OpenSubsonic playbackReport: the player's state and position; the play counts once long enough."""
    media_id = ctx.req("mediaId")
    if ctx.req("mediaType") != "song":
        raise SubsonicError(ERR_NOT_FOUND, "only songs can be reported")
    position = ctx.req_int("positionMs")
    state = ctx.req("state")
    if state not in _STATES:
        raise SubsonicError(ERR_GENERIC, "state must be starting, playing, paused or stopped")
    await ctx.services.catalog.track(media_id)
    # Without a separate clock per session the position is the best estimate of what was heard.
    played = 0 if ctx.bool("ignoreScrobble") else max(0, position)
    ctx.services.play_events.submit(PlayEvent(ctx.user.id, media_id, _STATES[state], time.time(),
                                              position_ms=max(0, position), ms_played=played,
                                              device_id=_device(ctx)))
    return None


@endpoint("getNowPlaying")
async def get_now_playing(ctx: Ctx) -> Reply:
    playing = ctx.services.play_events.now_playing()
    tracks = await ctx.services.catalog.tracks([n.track_id for n in playing], ctx.user.id)
    names: dict[str, str] = {}
    now = time.time()
    entries = []
    for n, t in zip(playing, tracks, strict=True):
        if t is None:
            continue
        if n.user_id not in names:
            try:
                names[n.user_id] = (await ctx.services.accounts.get(n.user_id)).username
            except NotFoundError:
                continue
        device = n.device_id or ""
        entries.append({**child(t), "username": names[n.user_id], "minutesAgo": int((now - n.updated_at) // 60),
                        "playerId": zlib.crc32(device.encode()) & 0x7FFFFFFF,
                        "playerName": device.removeprefix("subsonic:") or None, "positionMs": n.position_ms})
    return {"nowPlaying": {"entry": entries}}
