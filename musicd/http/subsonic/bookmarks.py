"""Bookmarks and the saved play queue (by current id, and OpenSubsonic's index-based pair)."""

from __future__ import annotations

from typing import Any

from musicd.domain.catalog import TrackView
from musicd.errors import ValidationError
from musicd.http.subsonic.context import Ctx, Reply, endpoint
from musicd.http.subsonic.envelope import ERR_MISSING, SubsonicError
from musicd.http.subsonic.mappers import child
from musicd.http.subsonic.podcasts import episode_child

__all__: list[str] = []

# "changed" of a queue that was never saved: older than any real one, so a syncing client keeps its own.
_NEVER = "1970-01-01T00:00:00Z"


@endpoint("getBookmarks")
async def get_bookmarks(ctx: Ctx) -> Reply:
    marks = await ctx.services.bookmarks.list(ctx.user.id)
    return {"bookmarks": {"bookmark": [
        {"position": b.position_ms, "username": ctx.user.username, "comment": b.comment, "created": b.created_at,
         "changed": b.changed_at, "entry": child(b.track) if isinstance(b.track, TrackView) else episode_child(b.track)}
        for b in marks]}}


@endpoint("createBookmark")
async def create_bookmark(ctx: Ctx) -> Reply:
    position = ctx.req_int("position")
    await ctx.services.bookmarks.save(ctx.user, ctx.req("id"), position, ctx.opt("comment"))
    return None


@endpoint("deleteBookmark")
async def delete_bookmark(ctx: Ctx) -> Reply:
    await ctx.services.bookmarks.delete(ctx.user, ctx.req("id"))
    return None


async def _queue(ctx: Ctx) -> dict[str, Any]:
    q = await ctx.services.play_queue.get(ctx.user.id)
    if q is None:
        return {"username": ctx.user.username, "changed": _NEVER, "changedBy": "", "entry": []}
    return {"currentIndex": q.current_index, "current": q.current.id if q.current else None,
            "position": q.position_ms, "username": ctx.user.username, "changed": q.changed_at,
            "changedBy": q.changed_by, "entry": [child(t) for t in q.tracks]}


@endpoint("getPlayQueue")
async def get_play_queue(ctx: Ctx) -> Reply:
    q = await _queue(ctx)
    q.pop("currentIndex", None)
    return {"playQueue": q}


@endpoint("getPlayQueueByIndex")
async def get_play_queue_by_index(ctx: Ctx) -> Reply:
    q = await _queue(ctx)
    q.pop("current", None)
    return {"playQueueByIndex": q}


async def _save(ctx: Ctx, ids: list[str], index: int | None) -> None:
    position = ctx.int("position", 0, 0) or 0
    try:
        await ctx.services.play_queue.save(ctx.user, ids, index, position, ctx.opt("c") or "unknown")
    except ValidationError as e:
        if e.code == "bad_index":
            raise SubsonicError(ERR_MISSING, e.message) from None
        raise


@endpoint("savePlayQueue")
async def save_play_queue(ctx: Ctx) -> Reply:
    """`id` repeated for each entry; `current` is the id of the playing one (its first occurrence)."""
    ids = ctx.all("id")
    current = ctx.opt("current")
    index = ids.index(current) if current in ids else None
    await _save(ctx, ids, index)
    return None


@endpoint("savePlayQueueByIndex")
async def save_play_queue_by_index(ctx: Ctx) -> Reply:
    """The same by position, so a queue may hold a track twice; no `id` clears the queue."""
    ids = ctx.all("id")
    if ids:
        index = ctx.int("currentIndex")
        if index is None:
            raise SubsonicError(ERR_MISSING, "required parameter is missing: currentIndex")
    else:
        if ctx.opt("currentIndex"):
            raise SubsonicError(ERR_MISSING, "currentIndex given for an empty queue")
        index = None
    await _save(ctx, ids, index)
    return None
