"""The scan's tag-reader processes read exactly what reading in this process reads, and one that dies
fails the scan with a clear error instead of hanging it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from musicd.devtools.library_builder import BuiltLibrary
from musicd.errors import LibraryError
from musicd.library.read_pool import ReaderPool
from musicd.library.read_worker import Job, Result, read_batch
from musicd.library.walk import walk_folder


def _jobs(root: Path) -> list[Job]:
    return [(p, st.size, st.mtime_ns, st.lrc) for p, st in sorted(walk_folder(str(root)).files.items())]


def _by_path(results: list[Result]) -> dict[str, Result]:
    return {r[0] if isinstance(r, tuple) else r.path: r for r in results}


async def test_readers_give_what_reading_in_process_gives(built_library: BuiltLibrary, tmp_path: Path) -> None:
    jobs = _jobs(built_library.root)
    serial = _by_path(read_batch(jobs, tmp_path / "covers-here"))
    pooled: list[Result] = []
    batches = iter([jobs[i : i + 3] for i in range(0, len(jobs), 3)])  # small batches: both readers busy
    async with ReaderPool(tmp_path / "covers-there", 2) as pool:
        async for part in pool.read(batches):
            pooled.extend(part)
    assert len(pooled) == len(jobs)
    assert _by_path(pooled) == serial  # tracks field by field (covers by content hash), failures with reasons
    assert any(isinstance(r, tuple) for r in serial.values())  # the library's broken files came back as such
    assert sorted(p.name for p in (tmp_path / "covers-here").rglob("*.*")) == \
        sorted(p.name for p in (tmp_path / "covers-there").rglob("*.*"))


async def test_a_reader_that_dies_fails_the_scan_clearly(built_library: BuiltLibrary, tmp_path: Path) -> None:
    jobs = _jobs(built_library.root)
    with pytest.raises(LibraryError) as err:
        async with ReaderPool(tmp_path / "covers", 2) as pool:
            for proc in pool._procs:
                proc.kill()
            async def drain() -> None:
                async for _ in pool.read(iter([jobs[:2], jobs[2:4], jobs[4:6]])):
                    pass
            await asyncio.wait_for(drain(), 30)
    assert err.value.code == "scan_reader_failed"
