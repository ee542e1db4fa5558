"""Fixtures of the web player's end-to-end tests: Debian's chromium driven by Playwright, a private server."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from musicd.devtools.library_builder import BuiltLibrary
from musicd.devtools.speakers import build_long_library
from tests.live import USERS, LiveServer, start_server

REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO_ROOT / "test-artifacts" / "screenshots"
CHROMIUM = os.environ.get("MUSICD_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--autoplay-policy=no-user-gesture-required",
]

sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")


@dataclass
class Console:
    """Errors a page reported: console.error messages, uncaught exceptions, failed media."""

    errors: list[str] = field(default_factory=list)

    def attach(self, page: sync_api.Page) -> None:
        page.on("console", lambda m: self.errors.append(f"console.{m.type}: {m.text} ({m.location.get('url')})")
                if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))

    def assert_clean(self) -> None:
        assert not self.errors, "the browser reported errors:\n" + "\n".join(self.errors)


def new_page(browser: sync_api.Browser, console: Console, **kw: Any) -> sync_api.Page:
    """A page in a fresh browser context (its own storage), reporting its errors to `console`."""
    context = browser.new_context(**{"viewport": {"width": 1280, "height": 800}, **kw})
    page = context.new_page()
    page.set_default_timeout(10_000)
    console.attach(page)
    return page


def login(page: sync_api.Page, base: str, name: str) -> None:
    """Log in through the login page as one of tests.live.USERS and wait for the app to be ready."""
    page.goto(base + "/")
    page.wait_for_url(re.compile(r"/login"))
    page.get_by_label("Username or e-mail").fill(name)
    page.get_by_label("Password").fill(USERS[name][0])
    page.get_by_role("button", name="Log in").click()
    page.wait_for_selector("body.ready")


@contextmanager
def serve(workdir: Path, *folders: Path, **kw: Any) -> Iterator[LiveServer]:
    """tests.live.start_server, set up on another thread: Playwright's sync API keeps an asyncio loop
    running on this one, and the set-up uses asyncio.run."""
    cm = start_server(workdir, *folders, **kw)
    with ThreadPoolExecutor(1) as pool:
        server = pool.submit(cm.__enter__).result()
    try:
        yield server
    finally:
        cm.__exit__(None, None, None)


@contextmanager
def serve_long_library(work: Path, tracks: int) -> Iterator[tuple[LiveServer, Path]]:
    """A private server on one album of `tracks` one-minute tones (for speakers and Jams): (server, `work`)."""
    with serve(work, build_long_library(work / "Music", tracks=tracks, seconds=60.0)) as server:
        yield server, work


@pytest.fixture(scope="module")
def browser() -> Iterator[sync_api.Browser]:
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        pytest.skip("chromium is not installed (scripts/test installs it with apt)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium"),
                              args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def web_server(built_library: BuiltLibrary, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A private server on the test library: these tests change playlists and settings of their users."""
    with serve(tmp_path_factory.mktemp("web"), built_library.root) as server:
        yield server


@pytest.fixture
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
