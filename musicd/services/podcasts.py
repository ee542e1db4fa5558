"""Podcasts for every API: feeds, episodes, subscriptions and one listening position per user and episode.

Channels are the server's (added once, refreshed and downloaded once, listed to every user); each user
subscribes to the ones they follow (`/v1/me/shows`, gPodder) and has their own place in every episode,
whichever client reported it: the newest report wins. Episodes play through the same stream endpoints
as tracks (this service is a playback Origin): a downloaded episode like a file of the library, tiers
and all, one not downloaded yet while it downloads.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec

from musicd.config import PodcastsConfig
from musicd.domain.catalog import Page
from musicd.domain.models import User
from musicd.domain.podcasts import Episode, Show
from musicd.errors import NotFoundError, ValidationError
from musicd.logs import get_logger
from musicd.net.feeds import parse_opml, plain_text, write_opml
from musicd.net.fetch import Fetcher, FetchError
from musicd.services.playback import Body, PlaybackService, TranscodeError
from musicd.services.podcast_downloads import Downloader, remove_file
from musicd.services.podcast_refresh import Refresher, RefreshResult
from musicd.services.podcast_transcripts import PodcastTranscripts
from musicd.services.rules import require_member, require_podcast_right
from musicd.services.search import SearchService
from musicd.store.media_lookup import SourceRow
from musicd.store.podcast_users import PodcastUserRepository
from musicd.store.podcasts import EpisodeFile, PodcastRepository

__all__ = ["ImportReport", "PodcastService"]

log = get_logger("musicd.podcasts")

_MAX_URL = 2000
_MAX_OPML_FEEDS = 500
_PLAYED_MARGIN_MS = 15_000  # a position this close to the end counts as played
_FORMATS = {"audio/mpeg": "mp3", "audio/mp3": "mp3", "audio/mp4": "m4a", "audio/x-m4a": "m4a", "audio/aac": "m4a",
            "audio/ogg": "ogg", "audio/opus": "opus", "audio/flac": "flac", "audio/wav": "wav"}


def _doc(row: dict[str, object]) -> dict[str, object]:
    """A search row with its show notes as plain words (in the low-weight text field)."""
    out = dict(row)
    out["lyrics"] = plain_text(str(out.pop("text") or ""))
    return out


def _now_ms() -> int:
    return int(time.time() * 1000)


class ImportReport(msgspec.Struct, frozen=True):
    added: list[Show]
    failed: list[tuple[str, str]]  # (feed URL, why)


class PodcastService:
    def __init__(self, repo: PodcastRepository, users: PodcastUserRepository, fetcher: Fetcher,
                 playback: PlaybackService, search: SearchService, folder: Path, covers_dir: Path,
                 cfg: PodcastsConfig) -> None:
        self.repo = repo
        self.users = users
        self.fetcher = fetcher
        self.playback = playback
        self.search = search
        self.cfg = cfg
        self.downloads = Downloader(repo, fetcher, folder, cfg, on_done=self._cleanup)
        self.refresher = Refresher(repo, fetcher, cfg, covers_dir, self._refreshed)
        self.transcripts = PodcastTranscripts(fetcher, self.episode)
        playback.add_origin(self)
        search.add_kind("show", self._show_docs, lambda ids, uid: self.repo.shows(ids))
        search.add_kind("episode", self._episode_docs, self.repo.episodes)

    # ---- feeds ----

    async def add_feed(self, user: User, url: str) -> Show:
        """Subscribe `user` to a feed, adding the channel (and fetching it now) when the server has not got it.
        A new feed whose first fetch fails is not kept: its error is raised."""
        require_podcast_right(user)
        url = url.strip()
        if not url or len(url) > _MAX_URL:
            raise ValidationError(f"the feed URL must be 1-{_MAX_URL} characters", code="bad_url")
        # Due later: the first fetch is this one, not the scheduler's (which would log its errors twice).
        due = (datetime.now(UTC) + timedelta(minutes=self.cfg.refresh_minutes)).isoformat().replace("+00:00", "Z")
        channel_id, created = await self.repo.add_channel(url, user.id, due)
        if created:
            result = await self.refresher.refresh(channel_id)
            if result.status == "error":
                await self.repo.delete_channel(channel_id)
                raise FetchError(f"cannot add {url[:200]}: {result.error}", code=result.error_code or "fetch_failed",
                                 status=result.error_status)
        await self.users.subscribe(user.id, [channel_id], _now_ms())
        return await self.show(channel_id, user.id)

    async def import_opml(self, user: User, body: bytes) -> ImportReport:
        """Subscribe to every feed of an OPML list; a feed that fails is reported, the others are added."""
        require_podcast_right(user)
        feeds = parse_opml(body)
        if len(feeds) > _MAX_OPML_FEEDS:
            raise ValidationError(f"at most {_MAX_OPML_FEEDS} feeds at once", code="too_many_feeds")
        added, failed = [], []
        for _title, url in feeds:
            try:
                added.append(await self.add_feed(user, url))
            except (FetchError, ValidationError) as e:
                failed.append((url, e.message))
        return ImportReport(added, failed)

    async def export_opml(self, user: User) -> bytes:
        ids, _ = await self.users.subscribed_page(user.id, 100_000, 0)
        shows = [s for s in await self.repo.shows([i for i, _ in ids]) if s is not None]
        return write_opml(f"{user.display_name}'s podcasts (musicd)", [(s.title, s.feed_url) for s in shows])

    async def refresh(self, user: User, show_ids: Sequence[str] | None = None) -> list[RefreshResult]:
        """Refresh some channels (all when None) now; errors are in the results, never raised."""
        require_podcast_right(user)
        ids = list(show_ids) if show_ids is not None else [s.id for s in await self.repo.all_shows()]
        for sid in ids:
            await self.show(sid)
        return [await self.refresher.refresh(sid) for sid in ids]

    async def refresh_soon(self, user: User) -> None:
        """Make every channel due now and wake the refresher (Subsonic's refreshPodcasts: answered at once)."""
        require_podcast_right(user)
        await self.repo.request_refresh()
        self.refresher.wake()

    async def delete_show(self, user: User, show_id: str) -> None:
        """Remove a channel for everyone: its episodes, downloads and everyone's progress in it."""
        require_podcast_right(user)
        await self.show(show_id)
        _, total = await self.repo.show_episodes(show_id, None, 0, 0)
        episodes, _ = await self.repo.show_episodes(show_id, None, total, 0)
        for path in await self.repo.delete_channel(show_id):
            remove_file(path)
        await self.search.remove_docs([show_id, *(e.id for e in episodes)])

    async def _refreshed(self, channel_id: str, new_ids: list[str]) -> None:
        """After a successful refresh: index what changed, fetch the newest episodes, drop old downloads."""
        shows = [s for s in await self.repo.shows([channel_id]) if s]
        eps, _ = await self.repo.show_episodes(channel_id, None, 10_000, 0)
        await self.search.add_docs("show", await self._show_docs(shows))
        await self.search.add_docs("episode", await self._episode_docs(eps))
        if self.cfg.auto_download:
            for ep in await self.repo.newest_per_channel(channel_id, self.cfg.auto_download):
                if ep.status == "new":  # a failed one is tried again when played or asked for, not every refresh
                    self.downloads.start(ep, background=True)
        await self._cleanup(channel_id)

    async def _cleanup(self, channel_id: str) -> None:
        """Drop a channel's downloads past the newest `keep_downloads` (the episodes stay, as not downloaded)."""
        if self.cfg.keep_downloads:
            for ep in await self.repo.downloaded_beyond(channel_id, self.cfg.keep_downloads):
                await self.downloads.remove(ep, status="new")

    # ---- reads ----

    async def show(self, show_id: str, user_id: str | None = None) -> Show:
        return (await self.shows([show_id], user_id))[0] or self._missing("show", show_id)

    async def shows(self, ids: Sequence[str], user_id: str | None = None) -> list[Show | None]:
        found = await self.repo.shows(ids)
        saved = await self.users.subscribed_among(user_id, [s.id for s in found if s]) if user_id else set()
        return [msgspec.structs.replace(s, saved=s.id in saved) if s else None for s in found]

    async def all_shows(self, user_id: str | None = None) -> list[Show]:
        shows = await self.repo.all_shows()
        saved = await self.users.subscribed_among(user_id, [s.id for s in shows]) if user_id else set()
        return [msgspec.structs.replace(s, saved=s.id in saved) for s in shows]

    async def show_with_episodes(self, show_id: str, user_id: str | None, limit: int = 50
                                 ) -> tuple[Show, Page[Episode]]:
        """A show and the first page of its episodes (newest first)."""
        show = await self.show(show_id, user_id)
        return show, await self.show_episodes(show_id, user_id, limit, 0)

    async def episode_with_show(self, episode_id: str, user_id: str | None = None) -> tuple[Episode, Show]:
        ep = await self.episode(episode_id, user_id)
        return ep, await self.show(ep.show_id, user_id)

    async def channels(self, user_id: str, show_id: str | None, with_episodes: bool
                       ) -> list[tuple[Show, list[Episode] | None]]:
        """Every channel (or one), with all its episodes when asked (Subsonic's getPodcasts)."""
        shows = [await self.show(show_id, user_id)] if show_id else await self.all_shows(user_id)
        out: list[tuple[Show, list[Episode] | None]] = []
        for s in shows:
            eps = (await self.repo.show_episodes(s.id, user_id, max(s.episode_count, 1), 0))[0] if with_episodes \
                else None
            out.append((s, eps))
        return out

    async def episode(self, episode_id: str, user_id: str | None = None) -> Episode:
        return (await self.repo.episodes([episode_id], user_id))[0] or self._missing("episode", episode_id)

    async def episodes(self, ids: Sequence[str], user_id: str | None = None) -> list[Episode | None]:
        return await self.repo.episodes(ids, user_id)

    async def show_episodes(self, show_id: str, user_id: str | None, limit: int, offset: int) -> Page[Episode]:
        await self.show(show_id)
        items, total = await self.repo.show_episodes(show_id, user_id, limit, offset)
        return Page(items, total, limit, offset)

    async def newest(self, user_id: str | None, limit: int) -> list[Episode]:
        return await self.repo.newest(user_id, max(1, min(limit, 500)))

    async def continue_listening(self, user_id: str, limit: int = 10) -> list[Episode]:
        """Episodes the user started and has not finished, most recently heard first."""
        return await self.repo.in_progress(user_id, max(1, min(limit, 50)))

    @staticmethod
    def _missing(kind: str, item_id: str) -> Show:
        raise NotFoundError(f"no {kind} with id {item_id}", code=f"{kind}_not_found")

    # ---- subscriptions ----

    async def save_shows(self, user: User, show_ids: Sequence[str]) -> None:
        require_member(user)
        shows = await self.repo.shows(show_ids)
        for sid, s in zip(show_ids, shows, strict=True):
            if s is None:
                self._missing("show", sid)
        await self.users.subscribe(user.id, show_ids, _now_ms())

    async def remove_shows(self, user: User, show_ids: Sequence[str]) -> None:
        require_member(user)
        await self.users.unsubscribe(user.id, show_ids, _now_ms())

    async def saved_contains(self, user_id: str, show_ids: Sequence[str]) -> list[bool]:
        saved = await self.users.subscribed_among(user_id, show_ids)
        return [s in saved for s in show_ids]

    async def saved_shows(self, user_id: str, limit: int, offset: int) -> Page[tuple[str, Show]]:
        """(added_at, show) of the user's subscriptions, newest first."""
        rows, total = await self.users.subscribed_page(user_id, limit, offset)
        shows = await self.repo.shows([r[0] for r in rows])
        items = [(added, msgspec.structs.replace(s, saved=True)) for (_, added), s in zip(rows, shows, strict=True)
                 if s is not None]
        return Page(items, total, limit, offset)

    # ---- progress ----

    async def set_position(self, user: User, episode_id: str, position_ms: int, *, played: bool | None = None,
                           device: str | None = None, at_ms: int | None = None) -> Episode:
        """Where the user is in an episode (from any client); near the end counts as played. A report
        older than the stored one (`at_ms`, a client's clock) is ignored: the newest place wins."""
        require_member(user)
        await self._position(user.id, episode_id, position_ms, played, device, at_ms)
        return await self.episode(episode_id, user.id)

    async def _position(self, user_id: str, episode_id: str, position_ms: int, played: bool | None,
                        device: str | None, at_ms: int | None = None) -> None:
        if position_ms < 0:
            raise ValidationError("position must not be negative", code="bad_position")
        ep = await self.episode(episode_id)
        if ep.duration_s and played is None and position_ms >= ep.duration_s * 1000 - min(
                _PLAYED_MARGIN_MS, ep.duration_s * 50):  # the last 15 s, or 5 % of a short episode
            played = True
        now = _now_ms()
        await self.users.set_progress(user_id, episode_id, position_ms, played, device, min(at_ms or now, now), now)

    async def report_playback(self, user: User, episode_id: str, position_ms: int, state: str,
                              client: str | None) -> None:
        """OpenSubsonic reportPlayback of an episode (mediaType=podcast): its state moves the position."""
        if state not in ("starting", "playing", "paused", "stopped"):
            raise ValidationError("state must be starting, playing, paused or stopped", code="invalid_event")
        await self.set_position(user, episode_id, max(0, position_ms), device=f"subsonic:{(client or '?')[:64]}")

    # Subsonic bookmarks of episodes are the same one position (BookmarkService asks these).

    async def has_episode(self, item_id: str) -> bool:
        return await self.repo.file(item_id) is not None

    async def bookmark(self, user_id: str, episode_id: str, position_ms: int) -> None:
        await self._position(user_id, episode_id, position_ms, None, "subsonic")

    async def bookmarks(self, user_id: str) -> list[Episode]:
        return await self.repo.in_progress(user_id, 500)

    async def clear_bookmark(self, user_id: str, episode_id: str) -> bool:
        return await self.users.clear_progress(user_id, episode_id)

    async def set_played(self, user: User, episode_id: str, played: bool) -> Episode:
        """Mark an episode played (position kept) or unplayed (back to the start)."""
        require_member(user)
        ep = await self.episode(episode_id, user.id)
        position = ep.progress.position_ms if played else 0
        now = _now_ms()
        await self.users.set_progress(user.id, episode_id, position, played, None, now, now)
        return await self.episode(episode_id, user.id)

    # ---- episode files ----

    async def download_episode(self, user: User, episode_id: str) -> None:
        """Fetch an episode's file in the background (again, after a failure or a delete)."""
        require_podcast_right(user)
        ep = await self._file(episode_id)
        if ep.status != "completed":
            self.downloads.start(ep, background=True)

    async def delete_episode(self, user: User, episode_id: str) -> None:
        """Delete an episode's downloaded file; the episode stays listed (and streams from its feed again)."""
        require_podcast_right(user)
        await self.downloads.remove(await self._file(episode_id))

    async def _file(self, episode_id: str) -> EpisodeFile:
        ep = await self.repo.file(episode_id)
        if ep is None:
            raise NotFoundError(f"no episode with id {episode_id}", code="episode_not_found")
        return ep

    # ---- playback origin ----

    async def source(self, item_id: str) -> SourceRow | None:
        """An episode as a playback source: its file when downloaded, else what its feed announced."""
        ep = await self.repo.file(item_id)
        if ep is None:
            return None
        if ep.status == "completed" and ep.path and ep.format:
            try:
                st = os.stat(ep.path)
                return SourceRow(ep.id, ep.path, ep.format, st.st_size, st.st_mtime_ns, ep.bitrate,
                                 ep.duration_s or 0.0, ep.title)
            except OSError:
                await self.repo.set_download(ep.id, "new")  # gone from disk: fetch it again when played
        fmt = _FORMATS.get((ep.enclosure_type or "").lower(), "mp3")
        return SourceRow(ep.id, "", fmt, ep.enclosure_length or 0, 0, None, ep.duration_s or 0.0, ep.title)

    async def open(self, row: SourceRow, quality: str, time_offset: float, head: bool, codec: str = "vorbis") -> Body:
        """A downloaded episode like a library file (a tier in `codec`); one not downloaded yet as it downloads
        (the file as it is while it arrives; a tier or a seek once it is all here)."""
        if row.path:
            return await self.playback.open_file(row, os.stat(row.path), quality, time_offset=time_offset, head=head,
                                                 codec=codec)
        dl = self.downloads.start(await self._file(row.id))
        await dl.started.wait()
        if dl.error:
            raise FetchError(f"the episode cannot be fetched: {dl.error}", code="episode_unavailable")
        if self.playback.tier_for(row, quality, codec) is None and time_offset <= 0:
            return dl.body()
        await dl.wait_done()
        done = await self.source(row.id)
        if dl.error or done is None or not done.path:
            raise TranscodeError(f"the episode cannot be played: {dl.error or 'download failed'}")
        return await self.playback.open_file(done, os.stat(done.path), quality, time_offset=time_offset, head=head,
                                             codec=codec)

    # ---- search and background work ----

    async def _show_docs(self, shows: Sequence[Show] | None = None) -> list[dict[str, object]]:
        if shows is None:
            return [_doc(r) for r in (await self.repo.search_rows())[0]]
        return [{"id": s.id, "name": s.title, "artists": [s.author] if s.author else [],
                 "lyrics": plain_text(s.description)} for s in shows]

    async def _episode_docs(self, eps: Sequence[Episode] | None = None) -> list[dict[str, object]]:
        if eps is None:
            return [_doc(r) for r in (await self.repo.search_rows())[1]]
        return [{"id": e.id, "name": e.title, "album": e.show_title, "lyrics": plain_text(e.description),
                 "year": int(e.published_at[:4]) if e.published_at else None} for e in eps]

    async def start(self) -> None:
        """Server start: forget interrupted downloads, index the podcasts."""
        await self.downloads.recover()
        await self.search.add_docs("show", await self._show_docs())
        await self.search.add_docs("episode", await self._episode_docs())

    async def close(self) -> None:
        await self.downloads.close()
        await self.fetcher.close()
