"""Podcasts: getPodcasts, getNewestPodcasts, getPodcastEpisode (OpenSubsonic), refreshPodcasts,
createPodcastChannel, deletePodcastChannel, deletePodcastEpisode, downloadPodcastEpisode.

An episode's `streamId` is its id: `stream` plays it (while it downloads, or as a tier once it is here).
Channels are the server's; adding, removing and refreshing them needs `podcastRole` (an admin, or a
user an admin gave the podcast right).
"""

from __future__ import annotations

import re
from typing import Any

from musicd.domain.podcasts import Episode, Show
from musicd.domain.tiers import content_type
from musicd.http.subsonic.context import Ctx, Reply, endpoint

__all__ = ["episode_child", "episode_entry"]

_CHANNEL_STATUS = {"ok": "completed", "new": "new", "error": "error"}


def _plain(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]*>", " ", html)).strip()


def _clean(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


def episode_child(e: Episode) -> dict[str, Any]:
    """An episode as a plain Child (a bookmark's entry)."""
    fmt = e.format
    return _clean({
        "id": e.id, "parent": e.show_id, "isDir": False, "title": e.title, "album": e.show_title,
        "artist": e.show_title, "year": int(e.published_at[:4]) if e.published_at else None,
        "coverArt": e.cover_id, "size": e.size or e.enclosure_length,
        "contentType": content_type(fmt) if fmt else (e.enclosure_type or None), "suffix": fmt,
        "duration": round(e.duration_s) if e.duration_s else None, "isVideo": False, "created": e.created_at,
        "type": "podcast", "bookmarkPosition": e.progress.position_ms or None,
    })


def episode_entry(e: Episode) -> dict[str, Any]:
    """An episode as a PodcastEpisode (a Child with streamId, channelId, status, publishDate)."""
    return {**episode_child(e), **_clean({"streamId": e.id, "channelId": e.show_id,
                                          "description": _plain(e.description), "status": e.status,
                                          "publishDate": e.published_at})}


def _channel(s: Show, episodes: list[Episode] | None) -> dict[str, Any]:
    out = _clean({"id": s.id, "url": s.feed_url, "title": s.title, "description": _plain(s.description),
                  "coverArt": s.cover_id, "originalImageUrl": s.image_url,
                  "status": _CHANNEL_STATUS.get(s.status, "new"), "errorMessage": s.error if s.status == "error"
                  else None})
    if episodes is not None:
        out["episode"] = [episode_entry(e) for e in episodes]
    return out


@endpoint("getPodcasts")
async def get_podcasts(ctx: Ctx) -> Reply:
    """Every channel (or the one `id` names), with its episodes unless includeEpisodes=false."""
    with_episodes = ctx.bool("includeEpisodes", True)
    channels = await ctx.services.podcasts.channels(ctx.user.id, ctx.opt("id"), with_episodes)
    return {"podcasts": {"channel": [_channel(s, eps) for s, eps in channels]}}


@endpoint("getNewestPodcasts")
async def get_newest_podcasts(ctx: Ctx) -> Reply:
    episodes = await ctx.services.podcasts.newest(ctx.user.id, ctx.int("count", 20, 1, 500) or 20)
    return {"newestPodcasts": {"episode": [episode_entry(e) for e in episodes]}}


@endpoint("getPodcastEpisode")
async def get_podcast_episode(ctx: Ctx) -> Reply:
    return {"podcastEpisode": episode_entry(await ctx.services.podcasts.episode(ctx.req("id"), ctx.user.id))}


@endpoint("refreshPodcasts")
async def refresh_podcasts(ctx: Ctx) -> Reply:
    """Every channel is refreshed in the background, now."""
    await ctx.services.podcasts.refresh_soon(ctx.user)
    return None


@endpoint("createPodcastChannel")
async def create_podcast_channel(ctx: Ctx) -> Reply:
    """Add a channel (fetched now: a feed that cannot be read is an error, and is not kept)."""
    await ctx.services.podcasts.add_feed(ctx.user, ctx.req("url"))
    return None


@endpoint("deletePodcastChannel")
async def delete_podcast_channel(ctx: Ctx) -> Reply:
    await ctx.services.podcasts.delete_show(ctx.user, ctx.req("id"))
    return None


@endpoint("deletePodcastEpisode")
async def delete_podcast_episode(ctx: Ctx) -> Reply:
    await ctx.services.podcasts.delete_episode(ctx.user, ctx.req("id"))
    return None


@endpoint("downloadPodcastEpisode")
async def download_podcast_episode(ctx: Ctx) -> Reply:
    await ctx.services.podcasts.download_episode(ctx.user, ctx.req("id"))
    return None
