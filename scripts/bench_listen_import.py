#!/usr/bin/env python3
"""Listen-history import: throughput and memory for a large ListenBrainz export (JSON lines), imported
twice (the second time every listen is a duplicate). Prints one JSON object.

    .venv/bin/python scripts/bench_listen_import.py [--listens 200000] [--matched-share 0.5]

The library is the test library (about 40 real tracks); a share of the listens names its tracks (matched:
history rows and play counts are written), the rest names nothing (kept unmatched). Peak RSS is the
process's own (getrusage), sampled before and after each import: flat memory is what streaming promises.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from musicd.devtools.library_builder import build_test_library
from musicd.services.listen_files import ListenFile
from musicd.services.registry import open_services
from tests.live import make_config


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _write_export(path: Path, n: int, tracks: list[tuple[str, str]], share: float) -> None:
    start = 1_300_000_000
    every = max(1, round(1 / share)) if share > 0 else 0
    with path.open("w", encoding="utf-8") as f:
        for i in range(n):
            if every and i % every == 0:
                artist, title = tracks[i % len(tracks)]
            else:
                artist, title = f"Unknown Artist {i % 5000}", f"Unknown Song {i}"
            f.write(json.dumps({"listened_at": start + i * 200, "inserted_at": start + i * 200 + 3, "user_name": "u",
                                "track_metadata": {"artist_name": artist, "track_name": title,
                                                   "additional_info": {"submission_client": "bench"}}}) + "\n")


async def _run(work: Path, n: int, share: float) -> dict[str, object]:
    lib = build_test_library(work / "Music", cache_dir=work / "templates")
    services = await open_services(make_config(work / "data", lib.root))
    try:
        await services.library.scan()
        user = await services.accounts.create("bench", "bench-password", role="user")
        tracks = [(t.artist, t.title) for t in lib.tracks]
        export = work / "export.jsonl"
        _write_export(export, n, tracks, share)
        out: dict[str, object] = {"listens": n, "file_bytes": export.stat().st_size, "library_tracks": len(tracks)}
        for run in ("first", "again"):
            rss0, t0, c0 = _rss_mb(), time.perf_counter(), time.process_time()
            s = await services.listens.import_file(user, ListenFile(export))
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            out[run] = {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "listens_per_s": round(n / wall),
                        "matched": s.matched, "unmatched": s.unmatched, "duplicates": s.duplicates,
                        "rejected": s.rejected, "peak_rss_mb_before": round(rss0, 1),
                        "peak_rss_mb_after": round(_rss_mb(), 1)}
        out["db_bytes"] = sum(p.stat().st_size for p in (work / "data").glob("musicd.db*"))
        return out
    finally:
        await services.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--listens", type=int, default=200_000)
    ap.add_argument("--matched-share", type=float, default=0.5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-listens-") as tmp:
        print(json.dumps(asyncio.run(_run(Path(tmp), args.listens, args.matched_share))))


if __name__ == "__main__":
    main()
