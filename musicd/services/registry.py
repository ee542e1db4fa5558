"""The composition of services one running musicd uses; built once from the config."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Coroutine
from functools import partial
from pathlib import Path
from typing import Any

from musicd.config import Config
from musicd.domain.models import User
from musicd.domain.tiers import TIERS
from musicd.errors import ConflictError
from musicd.library.artwork import cover_path
from musicd.logs import get_logger
from musicd.media.images import ImageResizer
from musicd.media.transcoder import Transcoder
from musicd.net.fetch import Fetcher
from musicd.services.accounts import AccountService
from musicd.services.analysis import AnalysisService
from musicd.services.api_keys import ApiKeyService
from musicd.services.auth import AuthService
from musicd.services.backups import BackupService
from musicd.services.bookmarks import BookmarkService
from musicd.services.bus import EventBus
from musicd.services.consumers import wire_consumers
from musicd.services.devices import DeviceService
from musicd.services.discovery import DiscoveryService
from musicd.services.downloads import Downloads
from musicd.services.fed_catalog import RoutedCatalog
from musicd.services.fed_search import FederatedSearchService
from musicd.services.fed_setup import Federation
from musicd.services.friends import FriendActivityService
from musicd.services.gpodder import GpodderService
from musicd.services.health import HealthService
from musicd.services.invites import InviteService
from musicd.services.jam import JamService
from musicd.services.library import LibraryService
from musicd.services.library_grid import LibraryGrid
from musicd.services.library_playlists import LibraryPlaylists
from musicd.services.listen_imports import ListenImports
from musicd.services.listen_tokens import ListenTokenService
from musicd.services.listens import ListenService
from musicd.services.lyrics import LyricsService
from musicd.services.memory import trim_loop
from musicd.services.metrics import Metrics
from musicd.services.mixes import MixesService
from musicd.services.offline import OfflineService
from musicd.services.offline_keys import OfflineKeys
from musicd.services.offline_media import OfflineMedia
from musicd.services.play_events import PlayEventService
from musicd.services.play_queue import PlayQueueService
from musicd.services.play_reports import PlayReportService
from musicd.services.playback import PlaybackService
from musicd.services.player import PlayerService
from musicd.services.player_channel import install_player
from musicd.services.player_subsonic import SubsonicPlayback
from musicd.services.playlists import PlaylistService
from musicd.services.podcasts import PodcastService
from musicd.services.realtime import RealtimeHub
from musicd.services.realtime_routes import install_routes
from musicd.services.recommend import RecommendService
from musicd.services.rules import require_admin
from musicd.services.scan_report import ScanReport
from musicd.services.shares import ShareService
from musicd.services.speakers import SpeakerAuthService
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
from musicd.store.integrity import check_database, set_size_cap
from musicd.store.invites import InviteRepository
from musicd.store.keys import ServerKeys, load_or_create_keys
from musicd.store.library_grid import LibraryGridRepository
from musicd.store.library_playlists import LibraryPlaylistRepository
from musicd.store.listens import ListenRepository
from musicd.store.lyrics import LyricsRepository
from musicd.store.media_lookup import MediaLookup
from musicd.store.migrations import migrate
from musicd.store.offline import OfflineRepository
from musicd.store.pairings import PairingRepository
from musicd.store.play_queues import PlayQueueRepository
from musicd.store.player import DeviceRepository, PlayerStateRepository
from musicd.store.playlists import PlaylistRepository
from musicd.store.podcast_users import PodcastUserRepository
from musicd.store.podcasts import PodcastRepository
from musicd.store.recommend import RecommendRepository
from musicd.store.shares import ShareRepository
from musicd.store.social import SocialRepository
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
        # Every mutation is published on the bus; its consumers are wired in services/consumers.py.
        self.bus = EventBus(config.realtime.bus_queue_events)
        tokens, social = TokenRepository(db), SocialRepository(db)
        self.accounts = AccountService(UserRepository(db), keys.server_key, self.bus, tokens)
        self.auth = AuthService(self.accounts, tokens, keys.token_key, config.auth, self.bus)
        self.users = UserService(self.accounts)
        self.invites = InviteService(InviteRepository(db), self.accounts, self.auth)
        self.library = LibraryService(
            CatalogRepository(db), config.library_folders, config.data_dir / "covers", config.library.scan_workers,
            bus=self.bus, social=social,
        )
        self.search = FederatedSearchService(self.library.catalog, config.data_dir / "index")
        self.scan_report = ScanReport(self.library.catalog, self.library)
        browse = BrowseRepository(db)
        self.catalog = RoutedCatalog(browse, partial(cover_path, config.data_dir / "covers"))
        self.mixes = MixesService(browse)
        self.library_grid = LibraryGrid(LibraryGridRepository(db), browse)
        self.playlists = PlaylistService(PlaylistRepository(db, config.data_dir / "covers"), self.catalog, self.bus,
                                         self.mixes, self.metrics)
        self.library_playlists = LibraryPlaylists(LibraryPlaylistRepository(db), self.playlists, self.accounts,
                                                  self.library)
        self.user_library = UserLibraryService(UserLibraryRepository(db), browse, self.playlists, self.bus)
        # Subsonic / OpenSubsonic: API keys, credentials, bookmarks, play queues, shares.
        self.api_keys = ApiKeyService(ApiKeyRepository(db), self.accounts)
        self.subsonic_auth = SubsonicAuthService(self.accounts, self.api_keys, config.auth.login_per_minute)
        self.bookmarks = BookmarkService(BookmarkRepository(db), self.catalog)
        self.play_queue = PlayQueueService(PlayQueueRepository(db), self.catalog)
        self.shares = ShareService(ShareRepository(db), self.catalog, self.playlists, self.accounts,
                                   keys.token_key)
        self.search.attach(self.catalog, self.playlists.lookup)
        # Playback: play events, tiers, images, downloads (issue 5).
        self.play_events = PlayEventService(HistoryRepository(db), self.bus, on_written=self._count_plays,
                                            window_s=config.listens.write_window_s)
        self.play_reports = PlayReportService(self.play_events, self.catalog)
        media, tc = MediaLookup(db), config.transcode
        self.transcoder = Transcoder(
            config.data_dir / "transcodes", binary=tc.ffmpeg, max_bytes=tc.cache_max_bytes, pool_size=tc.pool_size,
            pool_bitrates=[TIERS[t].bitrate_kbps for t in tc.tiers],
            live_limit=tc.live_limit or max(2, os.cpu_count() or 1), pool_idle_seconds=tc.pool_idle_seconds,
            on_finished=lambda kind, ok: self.metrics.transcode_done.labels(kind, "done" if ok else "failed").inc(),
        )
        self.playback = PlaybackService(media, self.transcoder, ImageResizer(config.data_dir / "image-cache"),
                                        self.accounts, self.catalog, keys.token_key, tc, self.metrics)
        self.transcoding = TranscodeService(media, self.transcoder, self.playback, tc, self.metrics,
                                            scanning=lambda: self.library.state.running)
        self.downloads = Downloads(media, self.playback, self.playlists)
        self.lyrics = LyricsService(LyricsRepository(db), self.catalog, self.search)
        self.podcasts = self._podcasts(config, db)
        self.bookmarks.attach_episodes(self.podcasts)
        self.play_reports.attach_episodes(self.podcasts)
        self.user_library.attach_shows(self.podcasts)
        self.gpodder = GpodderService(self.podcasts, self.podcasts.users, self.podcasts.repo, self.playback)
        # Friends' servers (issue 18): routes F-ids of the catalogue, search and playback to the mirror.
        self.fed = Federation(config, db, keys, self.catalog, self.search, self.playback, self.accounts,
                              self.playlists, self.metrics)
        # Audio analysis (issue 15): features for /v1/audio-features and, later, recommendations.
        self.analysis = AnalysisService(AudioFeatureRepository(db), config.analysis, self.metrics, tc.ffmpeg,
                                        scanning=lambda: self.library.state.running)
        # Recommendations, radio and made-for-you mixes (issue 15), trained in the background.
        self.recommend = RecommendService(RecommendRepository(db), self.analysis, self.catalog, self.playlists,
                                          self.mixes, config.recommend, self.metrics, self.play_events.flush)
        self.mixes.attach_personal(self.recommend)
        # Plays from every scrobbler (issue 15 item 7): the ListenBrainz API, history imports, rematching.
        listen_repo = ListenRepository(db)
        self.listen_tokens = ListenTokenService(listen_repo, self.accounts, keys.server_key)
        self.listens = ListenService(listen_repo, self.listen_tokens, self.play_reports, self.play_events,
                                     self.auth.check_rate)
        self.listen_imports = ListenImports(self.listens, config.data_dir / "imports",
                                            config.listens.import_max_bytes, self.spawn)
        # Offline listening (issue 17): devices, licences, containers; keys derived from the server key.
        self.offline = OfflineService(OfflineRepository(db), OfflineKeys(keys.server_key), self.accounts,
                                      self.playlists, config.offline)
        self.offline_media = OfflineMedia(self.offline, self.playback, self.play_reports, self.spawn)
        self.offline_media.attach_episodes(self.podcasts)  # podcast shows kept offline play episodes
        # Live: the realtime channel's hub and friend activity (issue 12).
        self.realtime = RealtimeHub(config.realtime, self.auth, self.metrics)
        self.friends = FriendActivityService(social, self.accounts, self.catalog)
        install_routes(self.realtime, social, self.playlists, self.catalog)
        self.friends.install(self.realtime)
        # Server-held playback, devices and handoff (issue 14).
        self.devices = DeviceService(DeviceRepository(db), self.bus)
        self.player = PlayerService(PlayerStateRepository(db), self.devices, self.catalog, self.playlists, self.bus,
                                    stations=self.recommend)
        install_player(self.realtime, self.player, self.devices)
        self.subsonic_playback = SubsonicPlayback(self.player, self.devices, self.catalog)
        self.play_reports.playback = self.play_queue.playback = self.subsonic_playback
        self.speakers = SpeakerAuthService(PairingRepository(db), self.auth, self.api_keys)
        self.discovery = DiscoveryService(config, keys.server_key)
        self.jam = JamService(self.player, self.devices, self.bus)
        wire_consumers(self)
        # Storage health (/health) and backups (issue 13).
        self.health = HealthService(db, config.data_dir, config.data.min_free_bytes)
        config_file = os.environ.get("MUSICD_CONFIG")
        self.backups = BackupService(config, self.metrics, Path(config_file).resolve() if config_file else None)
        self._tasks: dict[str, asyncio.Task[Any]] = {}

    def _podcasts(self, config: Config, db: Database) -> PodcastService:
        pc = config.podcasts
        fetcher = Fetcher(pc.allow_hosts, user_agent="musicd podcasts", connect_timeout=pc.connect_timeout_seconds,
                          read_timeout=pc.read_timeout_seconds)
        return PodcastService(PodcastRepository(db), PodcastUserRepository(db), fetcher, self.playback, self.search,
                              config.data_dir / "podcasts", config.data_dir / "covers", pc)

    def _count_plays(self, events: int, plays: int) -> None:
        self.metrics.play_events.inc(events)
        self.metrics.plays_recorded.inc(plays)

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
        self.spawn("memory-trim", trim_loop())
        await self.play_events.recover()  # plays acknowledged before a crash reach the history before we serve
        self.spawn("play-events", self.play_events.run())
        await self.podcasts.start()
        self.spawn("podcast-refresh", self.podcasts.refresher.loop())
        self.listen_imports.clear_spool()
        if self.config.transcode.pre_transcode:
            self.spawn("pre-transcode", self.transcoding.loop())
            self.transcoding.wake()
        await self.fed.start()
        self.spawn("federation-sync", self.fed.sync.run())
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

    async def refresh_metrics(self) -> None:
        health = await self.health.report()
        self.metrics.storage_ok.set(1 if health.ok else 0)
        if health.disk.free_bytes is not None:
            self.metrics.disk_free.set(health.disk.free_bytes)
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
        for name, depth, overflows, _ in self.bus.stats():
            self.metrics.bus_queue_depth.labels(name).set(depth)
            self.metrics.bus_overflows.labels(name).set(overflows)
        self.realtime.gauges()
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
        await self.discovery.close()
        await self.jam.close()
        await self.devices.close()
        await self.bus.stop()  # the consumers finish what is queued first
        for task in list(self._tasks.values()):
            task.cancel()
        for task in list(self._tasks.values()):
            with contextlib.suppress(BaseException):
                await task
        try:
            await self.play_events.close()  # after the writer task stopped: fold what is journaled
            await self.podcasts.close()
            await self.transcoder.close()
            await self.fed.close()
            await self.search.close()
        finally:
            # Even after a failure above (a full disk): aiosqlite's threads are not daemons, and an open
            # database would keep the process from ever exiting.
            await self.db.close()


async def open_services(config: Config) -> Services:
    """Create the data dir and keys, open and migrate the database, build the services."""
    data = config.data_dir
    data.mkdir(parents=True, exist_ok=True)
    keys = load_or_create_keys(data)
    db = Database(data / "musicd.db", cache_mib=config.data.sqlite_cache_mib, mmap_mib=config.data.sqlite_mmap_mib)
    # A damaged file is refused before anything reads or writes it (quick_check: 0.4 s on 100k tracks).
    await asyncio.to_thread(check_database, db.path)
    await db.open()
    try:
        applied = await migrate(db)
        await set_size_cap(db, config.data.max_database_bytes)
    except Exception:
        await db.close()
        raise
    if applied:
        log.info("db.migrated", versions=[m.version for m in applied])
    services = Services(config, db, keys)
    try:
        await services.search.open()
        await services.fed.open()
    except Exception:
        await db.close()
        raise
    services.bus.start(services.spawn)
    return services
