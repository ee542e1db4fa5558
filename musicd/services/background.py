"""The loop shared by the library's background passes (pre-transcoding, audio analysis): a pass when
woken (at start, after a scan), one at a time, never on a half-scanned catalogue, failures logged."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from musicd.logs import get_logger

__all__ = ["BackgroundPasses"]

T = TypeVar("T")


class BackgroundPasses:
    """Subclasses implement `run_pass()` and run its body inside `exclusive`."""

    log_name = "musicd.app"
    event_prefix = "background"  # log events: "<prefix>.pass_failed"

    def __init__(self, scanning: Callable[[], bool] = lambda: False) -> None:
        self.scanning = scanning
        self.running = False
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()

    async def run_pass(self) -> Any:
        raise NotImplementedError

    async def exclusive(self, body: Callable[[], Awaitable[T]]) -> T:
        """Run one pass; a second caller waits for the first to finish. `running` is true meanwhile."""
        async with self._lock:
            self.running = True
            try:
                return await body()
            finally:
                self.running = False

    async def background_pass(self) -> Any:
        """The pass the background loop runs (a subclass may make it gentler than a foreground one)."""
        return await self.run_pass()

    def wake(self) -> None:
        """Ask the background loop for a pass (after a scan, at start)."""
        self._wake.set()

    async def on_scanned(self, _summary: object) -> None:
        """A scan finished: a pass for what it added or changed."""
        self.wake()

    async def loop(self) -> None:
        """Background task: a pass whenever woken; never more than one at a time."""
        log = get_logger(self.log_name)
        while True:
            await self._wake.wait()
            self._wake.clear()
            if self.scanning():
                continue  # the scan wakes us again when it is done
            try:
                await self.background_pass()
            except asyncio.CancelledError:
                raise
            except Exception as e:
                log.error(f"{self.event_prefix}.pass_failed", error=str(e))
