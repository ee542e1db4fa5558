"""Shared fixtures: one real test library built per session, copies for tests that modify files."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

import pytest

from musicd.devtools.library_builder import BuiltLibrary, build_test_library
from musicd.services.registry import Services, open_services
from tests.live import LiveServer, make_config, start_server

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def template_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where library builders keep their encoded tone templates for this test run."""
    base = tmp_path_factory.getbasetemp()
    # The template cache is shared between xdist workers (the builder writes it atomically).
    return base.parent / "musicd-templates" if os.environ.get("PYTEST_XDIST_WORKER") else base / "templates"


@pytest.fixture(scope="session")
def built_library(tmp_path_factory: pytest.TempPathFactory, template_cache: Path) -> BuiltLibrary:
    """The test library, built once per session (per xdist worker), never modified."""
    return build_test_library(tmp_path_factory.mktemp("library") / "Music", cache_dir=template_cache)


@pytest.fixture
def library_copy(built_library: BuiltLibrary, tmp_path: Path) -> BuiltLibrary:
    """A private copy of the test library that a test may modify."""
    dest = tmp_path / "Music"
    shutil.copytree(built_library.root, dest, symlinks=True)
    return replace(built_library, root=dest)


@pytest.fixture
def services_for(tmp_path: Path):
    """`async with services_for(folder, ...) as s:` opens Services on a fresh data dir and closes it."""

    @asynccontextmanager
    async def open_for(*folders: Path, data_dir: Path | None = None) -> AsyncIterator[Services]:
        config = make_config(data_dir or tmp_path / "data", *folders)
        services = await open_services(config)
        try:
            yield services
        finally:
            await services.close()

    return open_for


@pytest.fixture(scope="session")
def live_server(built_library: BuiltLibrary, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One real server per test session (per xdist worker) on the test library, with the users of
    tests.live.USERS (admin, alice, bob, guest). Tests must not depend on state other tests leave:
    create what you change (your own playlist, your own user)."""
    with start_server(tmp_path_factory.mktemp("live"), built_library.root) as server:
        yield server


_SHARED_SCOPES = ("module", "class", "package")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Plan the run for xdist's `loadgroup` (scripts/test): a module whose tests share a module-scoped
    fixture (a private server, a browser) runs on one worker, so that fixture is built once, not once per
    worker; and the slow tests go first, so the last minutes are not one worker running a long test alone.

    Every other test is handed out one at a time, as `--dist load` does. The order within a group and the
    order of the quick tests stay as collected."""
    shared: set[str] = set()
    for item in items:
        defs = getattr(item, "_fixtureinfo", None)
        if defs is not None and any(d.scope in _SHARED_SCOPES for ds in defs.name2fixturedefs.values() for d in ds):
            shared.add(item.module.__name__ if item.module else item.nodeid)  # type: ignore[attr-defined]

    def unit(item: pytest.Item) -> str:
        module = item.module.__name__ if getattr(item, "module", None) else item.nodeid  # type: ignore[attr-defined]
        return module if module in shared else item.nodeid

    slow: set[str] = set()
    for item in items:
        u = unit(item)
        if item.get_closest_marker("slow"):
            slow.add(u)
        if u in shared:
            item.add_marker(pytest.mark.xdist_group(u))
    first = {u: i for i, u in reversed(list(enumerate(unit(item) for item in items)))}
    # Units with a slow test first; otherwise as collected (a module's tests stay together and in order).
    items.sort(key=lambda item: (unit(item) not in slow, first[unit(item)]))
