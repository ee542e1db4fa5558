"""Handing memory freed by a burst of work back to the system.

glibc's malloc keeps what C code frees (SQLite's sorter and page cache, tantivy's buffers, the Python
heap's blocks) in its per-thread arenas, so a transient (a pre-transcode pass reading 100k ids, a burst
of requests on eight connections) leaves the server that much larger for good. `malloc_trim(0)` returns
every arena's free pages; it takes a few milliseconds, in a worker thread, every TRIM_EVERY_S seconds.
Elsewhere than glibc it does nothing.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
from collections.abc import Callable

__all__ = ["TRIM_EVERY_S", "release_free_memory", "trim_loop"]

TRIM_EVERY_S = 10.0


def _malloc_trim() -> Callable[[int], int] | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    return getattr(libc, "malloc_trim", None)


_TRIM = _malloc_trim()


def release_free_memory() -> None:
    """Return the free pages of malloc's arenas to the system (glibc only)."""
    if _TRIM is not None:
        _TRIM(0)


async def trim_loop(every_s: float = TRIM_EVERY_S) -> None:
    """Background task: release_free_memory every `every_s` seconds."""
    while True:
        await asyncio.sleep(every_s)
        await asyncio.to_thread(release_free_memory)
