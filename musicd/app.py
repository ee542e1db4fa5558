"""Composition root: builds the services and the Litestar app, and owns the background tasks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar
from litestar.di import Provide

from musicd.config import Config
from musicd.http.auth import auth_dependencies, auth_middleware
from musicd.http.errors import exception_handlers
from musicd.http.fed import FedController, WellKnownController
from musicd.http.gpodder import GPODDER_ROUTES
from musicd.http.listenbrainz import ListenBrainzController, listenbrainz_router
from musicd.http.metrics import metrics_middleware
from musicd.http.openapi import docs_asset, openapi_config
from musicd.http.realtime import install_realtime, realtime_socket
from musicd.http.share import ShareController, ShortShareController
from musicd.http.subsonic import subsonic_route
from musicd.http.system import SystemController
from musicd.http.ui import WebController
from musicd.http.v1.accounts import AccountsController, AdminUsersController
from musicd.http.v1.admin_library import AdminLibraryController
from musicd.http.v1.admin_scan_report import AdminScanReportController
from musicd.http.v1.api_keys import ApiKeysController
from musicd.http.v1.audio_features import AudioFeaturesController
from musicd.http.v1.browse import BrowseController
from musicd.http.v1.catalog import CatalogController
from musicd.http.v1.federation import FederationAdminController, FederationController
from musicd.http.v1.friends import FriendsController
from musicd.http.v1.invites import AdminInvitesController, InvitesController
from musicd.http.v1.jam import JamController
from musicd.http.v1.library_grid import LibraryGridController
from musicd.http.v1.library_lists import LibraryListsController
from musicd.http.v1.listens import ListensController
from musicd.http.v1.lyrics import LyricsController
from musicd.http.v1.me import MeLibraryController
from musicd.http.v1.offline import OfflineController
from musicd.http.v1.offline_devices import AdminDevicesController, MeDevicesController
from musicd.http.v1.playback import PlaybackController, PlayerEventsController
from musicd.http.v1.player import PlayerController
from musicd.http.v1.playlists import PlaylistsController
from musicd.http.v1.recommend import RecommendationsController, StationsController
from musicd.http.v1.search import SearchController
from musicd.http.v1.shows import ShowsController
from musicd.http.v1.speakers import SpeakersController
from musicd.http.v1.stream_tokens import StreamTokensController
from musicd.logs import get_logger
from musicd.services.data_lock import DataDirLock
from musicd.services.metrics import Metrics
from musicd.services.registry import Services, open_services

__all__ = ["create_app"]

log = get_logger("musicd.app")


def create_app(config: Config) -> Litestar:
    """The ASGI app for `config`; services open in the lifespan and close on shutdown."""
    holder: dict[str, Services] = {}

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        # Held while serving: `musicd restore` and `musicd db recover` refuse to run under a server.
        lock = DataDirLock(config.data_dir)
        lock.acquire("server")
        try:
            services = await open_services(config)
        except BaseException:
            lock.release()
            raise
        holder["services"] = services
        app.state.services = services
        if await services.accounts.count() == 0:
            log.warning("no users yet: open the web player to create the admin, or run"
                        " `musicd user add NAME --role admin`")
        services.spawn("scan-on-start", services.scan_on_start())
        await services.start_playback()
        install_realtime(services)
        services.spawn("realtime", services.realtime.run())
        services.spawn("discovery", services.discovery.start())  # registering takes about a second
        if config.backup.enabled:
            services.spawn("backup", services.backups.loop())
        log.info("server.ready", host=config.server.host, port=config.server.port,
                 library=[str(f) for f in config.library_folders], data=str(config.data_dir))
        try:
            yield
        finally:
            services.realtime.close_all()
            await services.close()
            lock.release()

    def provide_services() -> Services:
        return holder["services"]

    def current_metrics() -> Metrics | None:
        services = holder.get("services")
        return services.metrics if services else None

    route_handlers: list[Any] = [
        SystemController,
        AccountsController,
        AdminUsersController,
        AdminInvitesController,
        InvitesController,
        SearchController,
        CatalogController,
        BrowseController,
        MeLibraryController,
        PlaylistsController,
        ShareController,
        PlaybackController,
        PlayerEventsController,
        PlayerController,
        SpeakersController,
        JamController,
        subsonic_route,
        ShortShareController,
        ApiKeysController,
        AdminLibraryController,
        AdminScanReportController,
        LyricsController,
        LibraryListsController,
        LibraryGridController,
        StreamTokensController,
        WellKnownController,
        FedController,
        FederationAdminController,
        FederationController,
        FriendsController,
        realtime_socket,
        ShowsController,
        *GPODDER_ROUTES,
        AudioFeaturesController,
        RecommendationsController,
        StationsController,
        ListensController,
        listenbrainz_router,
        MeDevicesController,
        AdminDevicesController,
        OfflineController,
        ListenBrainzController,  # also at /1: liblistenbrainz drops api_base_url's path (http/listenbrainz.py)
        WebController,
        docs_asset,
    ]
    return Litestar(
        route_handlers=route_handlers,
        dependencies={"services": Provide(provide_services, sync_to_thread=False), **auth_dependencies},
        exception_handlers=exception_handlers,  # type: ignore[arg-type]
        lifespan=[lifespan],
        middleware=[metrics_middleware(current_metrics), auth_middleware],
        request_max_body_size=config.server.max_body_bytes,
        openapi_config=openapi_config,
        debug=False,
    )

