"""The on-disk cache of transcoded tiers: one file per (track, tier, source version), LRU-evicted by size.

The files are the state: a finished transcode is renamed into place atomically, so whatever is in
the folder after a crash or restart is complete, and the background transcoder resumes by skipping
what exists. A failed transcode leaves a small `.failed` note instead, so a corrupt source is not
retried until it changes. Last use is kept in memory and written to the file's mtime at most once a
minute per file, so LRU order survives restarts without a write per request.
"""

from __future__ import annotations

import hashlib
import os
import time
from contextlib import suppress
from pathlib import Path

__all__ = ["CacheEntry", "TranscodeCache"]

_TOUCH_EVERY_S = 60.0
_EXTS = (".ogg", ".mp3", ".aac", ".opus")  # the tiers' files (see domain.tiers.CODECS)


class CacheEntry:
    __slots__ = ("atime", "size", "touched")

    def __init__(self, size: int, atime: float) -> None:
        self.size = size
        self.atime = atime
        self.touched = atime


class TranscodeCache:
    """Paths, lookups, size accounting and LRU eviction of the transcode folder."""

    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self._entries: dict[str, CacheEntry] = {}
        self.total_bytes = 0
        self.evicted = 0

    def path_for(self, track_id: str, tier: str, size: int, mtime_ns: int, version: str, ext: str = "ogg") -> Path:
        """Where the transcode of this source version lives (the name changes when the source does)."""
        sig = hashlib.blake2b(f"{size}:{mtime_ns}:{version}".encode(), digest_size=6).hexdigest()
        safe = "".join(c for c in track_id if c.isalnum() or c in "-_") or "x"
        return self.root / tier / safe[:2] / f"{safe}_{sig}.{ext}"

    def load(self) -> None:
        """Index the folder (blocking: run it in a thread); leftovers of interrupted transcodes are removed."""
        self._entries.clear()
        self.total_bytes = 0
        if not self.root.is_dir():
            return
        for dirpath, _dirs, files in os.walk(self.root):
            for name in files:
                p = os.path.join(dirpath, name)
                if name.endswith(".part"):
                    with suppress(OSError):
                        os.unlink(p)
                    continue
                if not name.endswith(_EXTS):
                    continue
                try:
                    st = os.stat(p)
                except OSError:
                    continue
                self._entries[p] = CacheEntry(st.st_size, st.st_mtime)
                self.total_bytes += st.st_size

    def lookup(self, path: Path) -> os.stat_result | None:
        """The stat of a finished transcode, or None; a hit refreshes its place in the LRU order."""
        key = str(path)
        try:
            st = os.stat(key)
        except OSError:
            if key in self._entries:
                self._forget(key)
            return None
        now = time.time()
        e = self._entries.get(key)
        if e is None:  # written by another process (`musicd transcode run`): adopt it
            e = self._entries[key] = CacheEntry(st.st_size, now)
            self.total_bytes += st.st_size
        e.atime = now
        if now - e.touched > _TOUCH_EVERY_S:
            e.touched = now
            with suppress(OSError):
                os.utime(key, (now, now))
        return st

    def contains(self, path: Path) -> bool:
        return str(path) in self._entries or path.is_file()

    def add(self, path: Path) -> list[str]:
        """Account for a file just renamed into place; evict least recently used files over the limit."""
        key = str(path)
        size = os.stat(key).st_size
        old = self._entries.get(key)
        if old is not None:
            self.total_bytes -= old.size
        self._entries[key] = CacheEntry(size, time.time())
        self.total_bytes += size
        return self.evict()

    def evict(self, keep_free: int = 0) -> list[str]:
        """Delete least recently used files until the cache (plus `keep_free`) fits; returns the paths removed."""
        limit = self.max_bytes - keep_free
        if self.max_bytes <= 0 or self.total_bytes <= limit:
            return []
        removed = []
        for key, _e in sorted(self._entries.items(), key=lambda kv: kv[1].atime):
            if self.total_bytes <= limit:
                break
            with suppress(OSError):
                os.unlink(key)
            self._forget(key)
            removed.append(key)
        self.evicted += len(removed)
        return removed

    def remove(self, path: Path) -> None:
        with suppress(OSError):
            os.unlink(path)
        self._forget(str(path))

    def _forget(self, key: str) -> None:
        e = self._entries.pop(key, None)
        if e is not None:
            self.total_bytes -= e.size

    def files(self) -> list[str]:
        return list(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

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

