"""Shares: getShares, createShare, updateShare, deleteShare (the public pages are musicd.http.share's).

A Subsonic share's `id` is its link token (what its `url` ends with): the id older clients kept still
names the share (musicd.services.shares).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from musicd.domain.stamps import utc_iso
from musicd.http.subsonic.context import Ctx, Reply, endpoint
from musicd.http.subsonic.envelope import ERR_GENERIC, SubsonicError
from musicd.http.subsonic.mappers import child
from musicd.http.urls import base_url
from musicd.services.shares import Share

__all__ = ["SHARE_PATH"]

SHARE_PATH = "/s"


def _expiry(ctx: Ctx) -> str | None:
    """`expires` is milliseconds since the epoch; 0 or absent means never."""
    ms = ctx.int("expires")
    if not ms or ms <= 0:
        return None
    try:
        dt = datetime.fromtimestamp(ms / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        raise SubsonicError(ERR_GENERIC, "expires is not a valid time") from None
    return utc_iso(dt)


def _share(ctx: Ctx, s: Share) -> dict[str, Any]:
    return {"id": s.token, "url": f"{base_url(ctx.request)}{SHARE_PATH}/{s.token}", "description": s.description,
            "username": s.username, "created": s.created_at, "expires": s.expires_at,
            "lastVisited": s.last_visited_at, "visitCount": s.visit_count, "entry": [child(t) for t in s.tracks]}


@endpoint("getShares")
async def get_shares(ctx: Ctx) -> Reply:
    return {"shares": {"share": [_share(ctx, s) for s in await ctx.services.shares.list(ctx.user)]}}


@endpoint("createShare")
async def create_share(ctx: Ctx) -> Reply:
    ids = ctx.all("id")
    if not ids:
        ctx.req("id")
    share = await ctx.services.shares.create(ctx.user, ids, ctx.opt("description"), _expiry(ctx))
    return {"shares": {"share": [_share(ctx, share)]}}


@endpoint("updateShare")
async def update_share(ctx: Ctx) -> Reply:
    await ctx.services.shares.update(ctx.user, ctx.req("id"), ctx.opt("description"), _expiry(ctx),
                                     keep_expiry=ctx.opt("expires") is None)
    return None


@endpoint("deleteShare")
async def delete_share(ctx: Ctx) -> Reply:
    await ctx.services.shares.delete(ctx.user, ctx.req("id"))
    return None
