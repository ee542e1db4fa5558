"""The on-disk cache of transcoded tiers: one file per (track, tier, source version), LRU-evicted by size.

The files are the state: a finished transcode is renamed into place atomically, so whatever is in
the folder after a crash or restart is complete, and the background transcoder resumes by skipping
what exists. A failed transcode leaves a small `.failed` note instead, so a corrupt source is not
retried until it changes.

Nothing per file is kept in memory (at 100k tracks the folder holds 300k files, and an index of them
cost about 80 MiB): last use is the file's mtime, set on every hit, and the counters (bytes, files)
are kept up to date as files come and go. When the cache goes over its limit, one walk of the folder
finds the least recently used files, keeping only as many candidates as must go.
"""

from __future__ import annotations

import hashlib
import heapq
import os
import threading
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

__all__ = ["TranscodeCache"]

_EXTS = (".ogg", ".mp3", ".aac", ".opus")  # the tiers' files (see domain.tiers.CODECS)


class TranscodeCache:
    """Paths, lookups, size accounting and LRU eviction of the transcode folder (thread-safe)."""

    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self.total_bytes = 0
        self.count = 0
        self.evicted = 0
        self._lock = threading.Lock()

    def path_for(self, track_id: str, tier: str, size: int, mtime_ns: int, version: str, ext: str = "ogg") -> Path:
        """Where the transcode of this source version lives (the name changes when the source does)."""
        sig = hashlib.blake2b(f"{size}:{mtime_ns}:{version}".encode(), digest_size=6).hexdigest()
        safe = "".join(c for c in track_id if c.isalnum() or c in "-_") or "x"
        return self.root / tier / safe[:2] / f"{safe}_{sig}.{ext}"

    @staticmethod
    def track_of(path: str) -> str:
        """The (sanitised) track id a cache file name starts with."""
        return os.path.basename(path).rsplit("_", 1)[0]

    def _walk(self) -> Iterator[os.DirEntry[str]]:
        """Every finished transcode in the folder; leftovers of interrupted ones (`.part`) are removed."""
        stack = [str(self.root)]
        while stack:
            try:
                with os.scandir(stack.pop()) as it:
                    entries = list(it)
            except OSError:
                continue
            for e in entries:
                if e.is_dir(follow_symlinks=False):
                    stack.append(e.path)
                elif e.name.endswith(".part"):
                    with suppress(OSError):
                        os.unlink(e.path)
                elif e.name.endswith(_EXTS):
                    yield e

    def load(self) -> None:
        """Count the folder's files and bytes (blocking: run it in a thread)."""
        total = count = 0
        for e in self._walk():
            with suppress(OSError):
                total += e.stat().st_size
                count += 1
        with self._lock:
            self.total_bytes, self.count = total, count

    def batches(self, size: int = 1000) -> Iterator[list[str]]:
        """The paths of every finished transcode, `size` at a time (blocking)."""
        batch: list[str] = []
        for e in self._walk():
            batch.append(e.path)
            if len(batch) >= size:
                yield batch
                batch = []
        if batch:
            yield batch

    def lookup(self, path: Path) -> os.stat_result | None:
        """The stat of a finished transcode, or None; a hit makes it the most recently used (its mtime)."""
        try:
            st = os.stat(path)
        except OSError:
            return None
        with suppress(OSError):
            os.utime(path)  # LRU order lives in the mtime: one metadata write per hit, nothing in memory
        return st

    def contains(self, path: Path) -> bool:
        return path.is_file()

    def add(self, path: Path) -> list[str]:
        """Account for a file just renamed into place; evict least recently used files over the limit.

        Blocking when it evicts (a walk of the folder): call it from a thread.
        """
        size = os.stat(path).st_size
        with self._lock:
            self.total_bytes += size
            self.count += 1
        return self.evict()

    def evict(self, keep_free: int = 0) -> list[str]:
        """Delete least recently used files until the cache (plus `keep_free`) fits; returns the paths removed."""
        limit = self.max_bytes - keep_free
        with self._lock:
            if self.max_bytes <= 0 or self.total_bytes <= limit:
                return []
            # Two walks and nothing per file in memory but the files that must go: the first counts the
            # exact bytes (another process may have added files), the second keeps the oldest files whose
            # sizes cover the excess, in a heap with the newest of them on top.
            total = count = 0
            for e in self._walk():
                with suppress(OSError):
                    total += e.stat().st_size
                    count += 1
            self.total_bytes, self.count = total, count
            need = total - limit
            oldest: list[tuple[float, int, str]] = []  # (-mtime, size, path)
            held = 0
            for e in self._walk() if need > 0 else ():
                try:
                    st = e.stat()
                except OSError:
                    continue
                heapq.heappush(oldest, (-st.st_mtime, st.st_size, e.path))
                held += st.st_size
                while held - oldest[0][1] >= need:  # the newest candidate is not needed to cover the excess
                    held -= heapq.heappop(oldest)[1]
            removed = []
            for _, size, path in sorted(oldest, reverse=True):  # oldest first
                if self.total_bytes <= limit:
                    break
                with suppress(OSError):
                    os.unlink(path)
                    self.total_bytes -= size
                    self.count -= 1
                    removed.append(path)
            self.evicted += len(removed)
            return removed

    def remove(self, path: Path) -> None:
        try:
            size = os.stat(path).st_size
            os.unlink(path)
        except OSError:
            return
        with self._lock:
            self.total_bytes -= size
            self.count -= 1

    def __len__(self) -> int:
        return self.count

    @staticmethod
    def failure(path: Path) -> str | None:
        """The reason a transcode of this source version failed before, or None."""
        try:
            return Path(str(path) + ".failed").read_text(encoding="utf-8", errors="replace") or "transcode failed"
        except OSError:
            return None

    @staticmethod
    def record_failure(path: Path, reason: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with suppress(OSError):
            Path(str(path) + ".failed").write_text(reason[-2000:], encoding="utf-8")

    @staticmethod
    def clear_failure(path: Path) -> None:
        with suppress(OSError):
            os.unlink(str(path) + ".failed")
