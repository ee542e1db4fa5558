"""The composition of services one running musicd uses; built once from the config."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Coroutine
from functools import partial
from typing import Any

from musicd.config import Config
from musicd.domain.models import User
from musicd.domain.tiers import TIERS
from musicd.errors import ConflictError
from musicd.library.artwork import cover_path
from musicd.library.scanner import ScanSummary
from musicd.logs import get_logger
from musicd.media.images import ImageResizer
from musicd.media.transcoder import Transcoder
from musicd.services.accounts import AccountService
from musicd.services.analysis import AnalysisService
from musicd.services.api_keys import ApiKeyService
from musicd.services.auth import AuthService
from musicd.services.bookmarks import BookmarkService
from musicd.services.bus import EventBus
from musicd.services.catalog import CatalogService
from musicd.services.downloads import Downloads
from musicd.services.library import LibraryService
from musicd.services.metrics import Metrics
from musicd.services.mixes import MixesService
from musicd.services.play_events import PlayEventService
from musicd.services.play_queue import PlayQueueService
from musicd.services.play_reports import PlayReportService
from musicd.services.playback import PlaybackService
from musicd.services.playlists import PlaylistService
from musicd.services.recommend import RecommendService
from musicd.services.rules import require_admin
from musicd.services.search import SearchService
from musicd.services.shares import ShareService
from musicd.services.subsonic_auth import SubsonicAuthService
from musicd.services.transcoding import TranscodeService
from musicd.services.user_library import UserLibraryService
from musicd.services.users import UserService
from musicd.store.api_keys import ApiKeyRepository
from musicd.store.audio_features import AudioFeatureRepository
from musicd.store.bookmarks import BookmarkRepository
from musicd.store.browse import BrowseRepository
from musicd.store.catalog import CatalogRepository
from musicd.store.db import Database
from musicd.store.history import HistoryRepository
from musicd.store.keys import ServerKeys, load_or_create_keys
from musicd.store.media_lookup import MediaLookup
from musicd.store.migrations import migrate
from musicd.store.play_queues import PlayQueueRepository
from musicd.store.playlists import PlaylistRepository
from musicd.store.recommend import RecommendRepository
from musicd.store.shares import ShareRepository
from musicd.store.tokens import TokenRepository
from musicd.store.user_library import UserLibraryRepository
from musicd.store.users import UserRepository

__all__ = ["Services", "open_services"]

log = get_logger("musicd.app")


class Services:
    """Everything a request handler or a CLI command may call."""

    def __init__(self, config: Config, db: Database, keys: ServerKeys) -> None:
        self.config = config
        self.db = db
        self.keys = keys
        self.metrics = Metrics()
        self.accounts = AccountService(UserRepository(db), keys.server_key)
        self.auth = AuthService(self.accounts, TokenRepository(db), keys.token_key, config.auth)
        self.users = UserService(self.accounts)
        self.library = LibraryService(
            CatalogRepository(db), config.library_folders, config.data_dir / "covers", config.library.scan_workers
        )
        self.search = SearchService(self.library.catalog, config.data_dir / "index")
        browse = BrowseRepository(db)
        self.catalog = CatalogService(browse, partial(cover_path, config.data_dir / "covers"))
        self.mixes = MixesService(browse)
        self.playlists = PlaylistService(PlaylistRepository(db, config.data_dir / "covers"), self.catalog, self.mixes)
        self.user_library = UserLibraryService(UserLibraryRepository(db), browse, self.playlists)
        # Subsonic / OpenSubsonic: API keys, credentials, bookmarks, play queues, shares.
        self.api_keys = ApiKeyService(ApiKeyRepository(db), self.accounts)
        self.subsonic_auth = SubsonicAuthService(self.accounts, self.api_keys, config.auth.login_per_minute)
        self.bookmarks = BookmarkService(BookmarkRepository(db), self.catalog)
        self.play_queue = PlayQueueService(PlayQueueRepository(db), self.catalog)
        self.shares = ShareService(ShareRepository(db), self.catalog, self.playlists, self.accounts,
                                   keys.token_key)
        self.playlists.on_change(self.search.playlists_changed, self.search.playlists_deleted)
        self.search.attach(self.catalog, self.playlists.lookup)
        self.library.on_scanned(self._count_scan)
        self.library.on_scanned(self.search.on_scanned)
        # Playback: the bus, play events, tiers, images, downloads (issue 5).
        self.bus = EventBus()
        self.play_events = PlayEventService(HistoryRepository(db), self.bus, on_written=self._count_plays)
        self.play_reports = PlayReportService(self.play_events, self.catalog)
        media, tc = MediaLookup(db), config.transcode
        self.transcoder = Transcoder(
            config.data_dir / "transcodes", binary=tc.ffmpeg, max_bytes=tc.cache_max_bytes, pool_size=tc.pool_size,
            pool_bitrates=[TIERS[t].bitrate_kbps for t in tc.tiers],
            live_limit=tc.live_limit or 2 * (os.cpu_count() or 1),
            on_finished=lambda kind, ok: self.metrics.transcode_done.labels(kind, "done" if ok else "failed").inc(),
        )
        self.playback = PlaybackService(media, self.transcoder, ImageResizer(config.data_dir / "image-cache"),
                                        self.accounts, self.catalog, keys.token_key, tc, self.metrics)
        self.transcoding = TranscodeService(media, self.transcoder, self.playback, tc, self.metrics,
                                            scanning=lambda: self.library.state.running)
        self.downloads = Downloads(media, self.playback, self.playlists)
        self.library.on_scanned(self._media_scanned)
        # Audio analysis (issue 15): features for /v1/audio-features and, later, recommendations.
        self.analysis = AnalysisService(AudioFeatureRepository(db), config.analysis, self.metrics, tc.ffmpeg,
                                        scanning=lambda: self.library.state.running)
        self.library.on_scanned(self.analysis.on_scanned)
        # Recommendations, radio and made-for-you mixes (issue 15), trained in the background.
        self.recommend = RecommendService(RecommendRepository(db), self.analysis, self.catalog, self.playlists,
                                          self.mixes, config.recommend, self.metrics)
        self.mixes.attach_personal(self.recommend)
        self.library.on_scanned(self.recommend.on_scanned)
        self._tasks: dict[str, asyncio.Task[Any]] = {}

    async def _count_scan(self, s: ScanSummary) -> None:
        for outcome in ("added", "updated", "moved", "removed", "failed", "unchanged"):
            self.metrics.scan_files.labels(outcome).inc(getattr(s, outcome))
        self.metrics.scan_last_seconds.set(s.wall_s)

    def _count_plays(self, events: int, plays: int) -> None:
        self.metrics.play_events.inc(events)
        self.metrics.plays_recorded.inc(plays)

    async def _media_scanned(self, _: ScanSummary) -> None:
        self.playback.forget_sources()
        self.transcoding.wake()

    def start_scan(self, user: User) -> bool:
        """Start a scan in the background (admins only); False when one is already running."""
        require_admin(user)
        if self.library.state.running:
            return False
        self.spawn("scan-now", self._scan_now())
        return True

    async def _scan_now(self) -> None:
        try:
            await self.library.scan()
        except ConflictError:
            pass  # another scan started first: its progress is what status calls show
        except Exception as e:  # the scan state keeps the error; the server keeps serving
            log.error("scan.failed", error=str(e))

    async def start_playback(self) -> None:
        """Server-only playback work: tier cache index, encoder pool, play-event writer, pre-transcoder."""
        await self.transcoder.start()
        self.spawn("play-events", self.play_events.run())
        if self.config.transcode.pre_transcode:
            self.spawn("pre-transcode", self.transcoding.loop())
            self.transcoding.wake()
        if self.config.analysis.background:
            self.spawn("analysis", self.analysis.loop())
            self.analysis.wake()
        if self.config.recommend.background:
            self.spawn("recommend", self.recommend.loop())

    def spawn(self, name: str, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run a background task owned by the app: visible in metrics, cancelled on shutdown."""
        task = asyncio.create_task(coro, name=name)
        self._tasks[name] = task
        self.metrics.tasks.labels(name).set(1)

        def done(t: asyncio.Task[Any]) -> None:
            self._tasks.pop(name, None)
            self.metrics.tasks.labels(name).set(0)
            if not t.cancelled() and (exc := t.exception()) is not None:
                log.error("task.failed", task=name, error=str(exc))

        task.add_done_callback(done)
        return task

    async def healthy(self) -> bool:
        try:
            await self.db.fetchone("SELECT 1")
        except Exception:
            return False
        return True

    async def refresh_metrics(self) -> None:
        for kind, n in (await self.library.counts()).items():
            self.metrics.catalog.labels(kind).set(n)
        st = self.library.state
        self.metrics.scan_running.set(1 if st.running else 0)
        self.metrics.scan_progress.set(st.done)
        self.metrics.scan_total.set(st.total)
        self.metrics.transcode_cache_bytes.set(self.transcoder.cache.total_bytes)
        self.metrics.transcode_cache_files.set(len(self.transcoder.cache))
        self.metrics.transcode_active.set(self.transcoder.active())
        self.metrics.play_events_queue.set(self.play_events.pending())
        await self.analysis.status()  # sets the analysis gauges

    async def scan_on_start(self) -> None:
        """Scan at start as `library.scan_on_start` says; a failure is logged, the server keeps serving."""
        mode = self.config.library.scan_on_start
        if mode == "never" or not self.config.library.folders:
            return
        if mode == "if_empty" and not (await self.library.is_empty() or await self.library.interrupted()):
            return
        try:
            await self.library.scan()
        except Exception as e:
            log.error("scan.failed", error=str(e))

    async def close(self) -> None:
        for task in list(self._tasks.values()):
            task.cancel()
        for task in list(self._tasks.values()):
            with contextlib.suppress(BaseException):
                await task
        await self.play_events.close()  # after the writer task stopped: drain what is queued
        await self.transcoder.close()
        await self.search.close()
        await self.db.close()


async def open_services(config: Config) -> Services:
    """Create the data dir and keys, open and migrate the database, build the services."""
    data = config.data_dir
    data.mkdir(parents=True, exist_ok=True)
    keys = load_or_create_keys(data)
    db = Database(data / "musicd.db")
    await db.open()
    try:
        applied = await migrate(db)
    except Exception:
        await db.close()
        raise
    if applied:
        log.info("db.migrated", versions=[m.version for m in applied])
    services = Services(config, db, keys)
    try:
        await services.search.open()
    except Exception:
        await db.close()
        raise
    return services
