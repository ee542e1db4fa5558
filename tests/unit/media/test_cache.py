"""The tier cache folder: paths per source version, size accounting, LRU order, failure notes."""

from __future__ import annotations

import os
import time
from pathlib import Path

from musicd.media.cache import TranscodeCache


def _put(c: TranscodeCache, track: str, size: int, mtime: float) -> Path:
    p = c.path_for(track, "low", 1, 1, "1")
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(b"x" * size)
    os.utime(p, (mtime, mtime))
    return p


def test_paths_change_with_the_source(tmp_path: Path) -> None:
    c = TranscodeCache(tmp_path, 0)
    a = c.path_for("T1", "low", 100, 5, "1")
    assert a != c.path_for("T1", "low", 101, 5, "1") != c.path_for("T1", "low", 100, 6, "1")
    assert a != c.path_for("T1", "high", 100, 5, "1")
    assert a.is_relative_to(tmp_path) and a.suffix == ".ogg"
    assert c.path_for("../../etc", "low", 1, 1, "1").is_relative_to(tmp_path)


def test_load_and_evict_oldest_first(tmp_path: Path) -> None:
    c = TranscodeCache(tmp_path, 250)
    now = time.time()
    old = _put(c, "old", 100, now - 300)
    mid = _put(c, "mid", 100, now - 200)
    new = _put(c, "new", 100, now - 100)
    c.load()
    assert c.total_bytes == 300 and len(c) == 3
    assert c.evict() == [str(old)]
    assert not old.exists() and mid.exists() and new.exists()
    assert c.total_bytes == 200
    assert c.lookup(mid) is not None  # used now: `new` becomes the oldest
    c.max_bytes = 150
    c.evict()
    assert mid.exists() and not new.exists()


def test_failure_notes(tmp_path: Path) -> None:
    c = TranscodeCache(tmp_path, 0)
    p = c.path_for("T", "low", 1, 1, "1")
    assert c.failure(p) is None
    c.record_failure(p, "Invalid data found when processing input")
    assert "Invalid data" in (c.failure(p) or "")
    c.clear_failure(p)
    assert c.failure(p) is None
