"""The federation parts one running musicd uses, built once by the registry (kept apart so the registry
only gains a few lines): identity and peers, the mirror and its search index, what we offer peers, remote
streaming, social across servers, and the sync task."""

from __future__ import annotations

import asyncio

from musicd.config import Config
from musicd.services.accounts import AccountService
from musicd.services.fed_admin import FedAdmin
from musicd.services.fed_catalog import RoutedCatalog
from musicd.services.fed_export import FedExportService
from musicd.services.fed_media import PeerTrackSource
from musicd.services.fed_metrics import FederationCollector
from musicd.services.fed_search import FederatedSearchService, FedIndex
from musicd.services.fed_social import FedSocialService
from musicd.services.fed_sync import MirrorSync
from musicd.services.fed_views import FedViews
from musicd.services.federation import FederationService
from musicd.services.metrics import Metrics
from musicd.services.playback import PlaybackService
from musicd.services.playlists import PlaylistService
from musicd.store.db import Database
from musicd.store.fed_export import FedExportRepository
from musicd.store.fed_mirror import FedMirrorRepository
from musicd.store.fed_peers import FedPeerRepository
from musicd.store.keys import ServerKeys
from musicd.store.playlists import PlaylistRepository

__all__ = ["Federation"]


class Federation:
    """Everything federation: `service` (identity, peers, pairing, request checks), `export` (what peers
    read here), `sync` (mirroring peers), `admin` (managing peers from the web), `social`, `media` (friends'
    tracks for playback)."""

    def __init__(self, config: Config, db: Database, keys: ServerKeys, catalog: RoutedCatalog,
                 search: FederatedSearchService, playback: PlaybackService, accounts: AccountService,
                 playlists: PlaylistService, metrics: Metrics) -> None:
        peers = FedPeerRepository(db)
        self.mirror = FedMirrorRepository(db)
        export_repo = FedExportRepository(db)
        self.service = FederationService(config, peers, keys.federation_key)
        self.views = FedViews(self.mirror, self.service)
        self.index = FedIndex(self.mirror, config.data_dir / "index-fed")
        self.export = FedExportService(export_repo, peers, PlaylistRepository(db, config.data_dir / "covers"), accounts,
                                       playback)
        self.sync = MirrorSync(self.service, self.mirror, export_repo, self.index, self.views, config.federation)
        self.admin = FedAdmin(self.service, self.sync)
        self.social = FedSocialService(self.service, peers, self.mirror, self.views, playlists)
        self.media = PeerTrackSource(self.mirror, self.service, self.views, config.data_dir / "peer-cache",
                                     config.federation.stream_cache_max_bytes)
        catalog.attach_federation(self.views)
        search.attach_federation(self.index, self.views)
        playback.route(self.media.prefix, self.media)
        metrics.registry.register(FederationCollector(self.service, self.sync, self.media, self.index))

    async def open(self) -> None:
        """Open the federated search index (rebuilt from the mirror when missing)."""
        await self.index.open()

    async def start(self) -> None:
        """Server-only: index the stream cache (the sync loop is spawned by the registry)."""
        await asyncio.to_thread(self.media.load)

    async def close(self) -> None:
        await self.service.close()
        await self.index.close()
