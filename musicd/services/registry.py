"""The composition of services one running musicd uses; built once from the config."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from functools import partial
from typing import Any

from musicd.config import Config
from musicd.library.artwork import cover_path
from musicd.library.scanner import ScanSummary
from musicd.logs import get_logger
from musicd.services.accounts import AccountService
from musicd.services.auth import AuthService
from musicd.services.catalog import CatalogService
from musicd.services.library import LibraryService
from musicd.services.metrics import Metrics
from musicd.services.search import SearchService
from musicd.services.user_library import UserLibraryService
from musicd.store.browse import BrowseRepository
from musicd.store.catalog import CatalogRepository
from musicd.store.db import Database
from musicd.store.keys import ServerKeys, load_or_create_keys
from musicd.store.migrations import migrate
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
        self.library = LibraryService(
            CatalogRepository(db), config.library_folders, config.data_dir / "covers", config.library.scan_workers
        )
        self.search = SearchService(self.library.catalog, config.data_dir / "index")
        browse = BrowseRepository(db)
        self.catalog = CatalogService(browse, partial(cover_path, config.data_dir / "covers"))
        self.user_library = UserLibraryService(UserLibraryRepository(db), browse)
        self.library.on_scanned(self._count_scan)
        self.library.on_scanned(self.search.on_scanned)
        self._tasks: dict[str, asyncio.Task[Any]] = {}

    async def _count_scan(self, s: ScanSummary) -> None:
        for outcome in ("added", "updated", "moved", "removed", "failed", "unchanged"):
            self.metrics.scan_files.labels(outcome).inc(getattr(s, outcome))
        self.metrics.scan_last_seconds.set(s.wall_s)

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

    async def scan_on_start(self) -> None:
        """Scan at start as `library.scan_on_start` says; a failure is logged, the server keeps serving."""
        mode = self.config.library.scan_on_start
        if mode == "never" or not self.config.library.folders:
            return
        if mode == "if_empty" and not await self.library.is_empty():
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
