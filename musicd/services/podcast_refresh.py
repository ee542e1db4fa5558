"""Feed refreshes: fetch (with ETag / Last-Modified), follow paged feeds, store, back off after failures.

A refresh never loses what a channel has: a failed fetch or a refused document records the error and
schedules the next try later (the wait doubles after each failure, up to a day) and leaves the episodes
as they were; a broken item is skipped and named in the channel's `error`, the others are stored.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec

from musicd.config import PodcastsConfig
from musicd.domain.podcasts import FeedInfo, FeedItem
from musicd.domain.stamps import utc_iso
from musicd.errors import ValidationError
from musicd.library.artwork import store_image
from musicd.logs import get_logger
from musicd.net.feeds import FeedError, parse_chapters, parse_feed
from musicd.net.fetch import Fetcher, FetchError
from musicd.store.db import utc_now
from musicd.store.podcasts import ChannelState, PodcastRepository

__all__ = ["RefreshResult", "Refresher"]

log = get_logger("musicd.podcasts")

_MAX_BACKOFF = timedelta(days=1)
_CHAPTERS_BYTES = 1024 * 1024
_IMAGE_BYTES = 5 * 1024 * 1024
_IDLE_S = 30.0


@dataclass
class RefreshResult:
    channel_id: str
    status: str  # ok | not_modified | error
    new_episodes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    error: str | None = None
    error_code: str | None = None
    error_status: int = 502


def _at(delta: timedelta) -> str:
    return utc_iso(datetime.now(UTC) + delta)


class Refresher:
    """Refreshes channels on demand and on schedule; `on_refreshed(channel_id, new_ids)` runs after each success."""

    def __init__(self, repo: PodcastRepository, fetcher: Fetcher, cfg: PodcastsConfig, covers_dir: Path,
                 on_refreshed: Callable[[str, list[str]], Awaitable[None]]) -> None:
        self.repo = repo
        self.covers_dir = covers_dir
        self.fetcher = fetcher
        self.cfg = cfg
        self.on_refreshed = on_refreshed
        self._wake = asyncio.Event()
        self._locks: dict[str, asyncio.Lock] = {}

    def wake(self) -> None:
        self._wake.set()

    async def _pages(self, st: ChannelState, first_body: bytes, first_url: str) -> FeedInfo:
        """The first page plus the pages it links to (rel="next"), items deduplicated by guid across pages."""
        info = parse_feed(first_body, first_url)
        items: list[FeedItem] = list(info.items)
        problems = list(info.problems)
        seen_pages = {st.feed_url, first_url}
        guids = {it.guid for it in items}
        nxt = info.next_page
        for _ in range(self.cfg.max_pages - 1):
            if nxt is None or nxt in seen_pages:
                break
            seen_pages.add(nxt)
            try:
                page = await self.fetcher.get(nxt, max_bytes=self.cfg.max_feed_bytes)
                more = parse_feed(page.body, page.url)
            except (FetchError, FeedError) as e:
                problems.append(f"page {nxt[:200]}: {e.message}")
                break
            problems += more.problems
            for it in more.items:
                if it.guid in guids:
                    problems.append(f"duplicate guid {it.guid[:200]!r}: the first item with it is kept")
                else:
                    guids.add(it.guid)
                    items.append(it)
            nxt = more.next_page
        return msgspec.structs.replace(info, items=items, problems=problems, next_page=None)

    async def refresh(self, channel_id: str) -> RefreshResult:
        """Refresh one channel now (two refreshes of one channel never run at once)."""
        lock = self._locks.setdefault(channel_id, asyncio.Lock())
        async with lock:
            try:
                return await self._refresh(channel_id)
            finally:
                if not lock._waiters:  # type: ignore[attr-defined]
                    self._locks.pop(channel_id, None)

    async def _refresh(self, channel_id: str) -> RefreshResult:
        st = await self.repo.channel_state(channel_id)
        if st is None:
            return RefreshResult(channel_id, "error", error="no such channel", error_code="show_not_found")
        interval = timedelta(minutes=self.cfg.refresh_minutes)
        headers = {}
        if st.etag:
            headers["If-None-Match"] = st.etag
        if st.last_modified:
            headers["If-Modified-Since"] = st.last_modified
        try:
            got = await self.fetcher.get(st.feed_url, max_bytes=self.cfg.max_feed_bytes, headers=headers)
            if got.status == 304:
                await self.repo.not_modified(channel_id, _at(interval))
                return RefreshResult(channel_id, "not_modified")
            info = await self._pages(st, got.body, got.url)
        except (FetchError, FeedError) as e:
            failures = st.failures + 1
            wait = min(interval * (2 ** min(failures, 16)), _MAX_BACKOFF)
            await self.repo.failed(channel_id, e.message, failures, _at(wait))
            log.warning("podcast.refresh_failed", channel=channel_id, url=st.feed_url, error=e.message,
                        failures=failures, retry_in_s=int(wait.total_seconds()))
            return RefreshResult(channel_id, "error", error=e.message, error_code=e.code, error_status=e.status)
        new = await self.repo.refreshed(channel_id, info, got.headers.get("etag"), got.headers.get("last-modified"),
                                        _at(interval))
        if info.problems:
            log.warning("podcast.feed_problems", channel=channel_id, url=st.feed_url, problems=info.problems[:20],
                        count=len(info.problems))
        log.info("podcast.refreshed", channel=channel_id, items=len(info.items), new=len(new))
        await self._chapters(new)
        await self._cover(channel_id)
        await self.on_refreshed(channel_id, new)
        return RefreshResult(channel_id, "ok", new, info.problems)

    async def _cover(self, channel_id: str) -> None:
        """The channel's image, stored like any cover (best effort: a bad image leaves the show without)."""
        url = await self.repo.cover_wanted(channel_id)
        if url is None:
            return
        try:
            got = await self.fetcher.get(url, max_bytes=_IMAGE_BYTES, total_timeout=30)
        except FetchError as e:
            log.info("podcast.image_skipped", channel=channel_id, url=url, error=e.message)
            return
        cover = await asyncio.to_thread(store_image, self.covers_dir, got.body, "podcast")
        if cover is None:
            log.info("podcast.image_skipped", channel=channel_id, url=url, error="not an image")
            return
        await self.repo.set_cover(channel_id, cover, url)

    async def _chapters(self, episode_ids: list[str]) -> None:
        """Podcasting 2.0 JSON chapters of new episodes (best effort: a bad file leaves the episode without)."""
        for eid, url in await self.repo.chapter_urls(episode_ids):
            try:
                got = await self.fetcher.get(url, max_bytes=_CHAPTERS_BYTES, total_timeout=20)
                await self.repo.set_chapters(eid, parse_chapters(got.body))
            except (FetchError, ValidationError) as e:
                log.info("podcast.chapters_skipped", episode=eid, url=url, error=e.message)

    async def loop(self) -> None:
        """Refresh channels as they fall due, one at a time; `wake()` looks again at once."""
        while True:
            for st in await self.repo.due(utc_now()):
                try:
                    await self.refresh(st.id)
                except Exception as e:  # one channel's surprise must not stop the others' refreshes
                    log.error("podcast.refresh_crashed", channel=st.id, error=repr(e), exc_info=True)
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), _IDLE_S)
