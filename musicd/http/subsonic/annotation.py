"""Annotation: star / unstar, setRating, scrobble, reportPlayback and getNowPlaying."""

from __future__ import annotations

import time
import zlib

from musicd.errors import NotFoundError
from musicd.http.subsonic.context import Ctx, Reply, endpoint
from musicd.http.subsonic.mappers import child

__all__: list[str] = []


@endpoint("star")
async def star(ctx: Ctx) -> Reply:
    """`id` may name songs, or albums and artists of folder-based clients; `albumId`, `artistId` by ID3."""
    await ctx.services.user_library.star(ctx.user, ctx.all("id"), ctx.all("albumId"), ctx.all("artistId"))
    return None


@endpoint("unstar")
async def unstar(ctx: Ctx) -> Reply:
    await ctx.services.user_library.unstar(ctx.user, ctx.all("id"), ctx.all("albumId"), ctx.all("artistId"))
    return None


@endpoint("setRating")
async def set_rating(ctx: Ctx) -> Reply:
    await ctx.services.user_library.rate(ctx.user, ctx.req("id"), ctx.req_int("rating"))
    return None


@endpoint("scrobble")
async def scrobble(ctx: Ctx) -> Reply:
    """`submission=false`: now playing; true (the default): a finished play, at `time` (ms) if given."""
    ids = ctx.all("id")
    if not ids:
        ctx.req("id")
    times = ctx.ints("time")
    await ctx.services.play_reports.scrobble(ctx.user, ids, times, ctx.bool("submission", True), ctx.opt("c"))
    return None


@endpoint("reportPlayback")
async def report_playback(ctx: Ctx) -> Reply:
    """OpenSubsonic playbackReport: the player's state and position; the play counts once long enough."""
    await ctx.services.play_reports.report_playback(
        ctx.user, ctx.req("mediaId"), ctx.req("mediaType"), ctx.req_int("positionMs"), ctx.req("state"),
        ctx.bool("ignoreScrobble"), ctx.opt("c"))
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
