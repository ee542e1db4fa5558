#!/usr/bin/env python3
"""Database health benchmark: the start-up integrity check, a backup, a restore and a recovery of a
damaged file, on a synthetic catalogue of N tracks (no audio: rows made as the scanner makes them).

    .venv/bin/python scripts/bench_db_health.py [--tracks 100000] [--work /tmp/bench-db-health]

Prints one JSON object. The recovery part overwrites a quarter of the tracks table's leaf pages with
random bytes (as a failing disk would) and runs `musicd db recover`'s code on it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sqlite3
import statistics
import tempfile
import time
from contextlib import closing
from pathlib import Path
from typing import Any

from musicd.config import load_config
from musicd.domain.ids import random_id
from musicd.domain.models import ArtistCredit, Lyrics, ScannedTrack, TrackChange
from musicd.services.backups import BackupService
from musicd.store.catalog import CatalogRepository
from musicd.store.db import Database
from musicd.store.integrity import probe_write, quick_check
from musicd.store.migrations import migrate


def _track(i: int) -> ScannedTrack:
    album, artist = i // 10, i // 50
    return ScannedTrack(
        path=f"/music/Artist {artist}/Album {album}/{i:06d} Track title number {i}.flac", size=5_000_000 + i,
        mtime_ns=i, fingerprint=f"{i:032x}", format="flac", title=f"Track title number {i}",
        artist=f"Artist {artist}", artists=[ArtistCredit(f"Artist {artist}")], album=f"Album {album}",
        album_artist=f"Artist {artist}", album_artist_mbid=None, compilation=False, track_number=i % 10 + 1,
        track_total=10, disc_number=1, disc_total=1, disc_subtitle=None, year=1990 + album % 30, release_date=None,
        genres=[f"Genre {album % 40}"], duration=200.0 + i % 100, bitrate=900, sample_rate=44100, channels=2,
        bit_depth=16, isrc=None, mbid_recording=None, mbid_release_track=None, mbid_album=None, rg_track_gain=-6.0,
        rg_track_peak=0.9, rg_album_gain=-6.0, rg_album_peak=0.95, bpm=None, comment=None, cover=None,
        lyrics=Lyrics("la la la\n" * 20, False, "embedded") if i % 7 == 0 else None,
    )


async def _build(db_path: Path, n: int) -> float:
    started = time.perf_counter()
    db = Database(db_path)
    await db.open()
    try:
        await migrate(db)
        repo = CatalogRepository(db)
        folder = await repo.ensure_folder("/music")
        for start in range(0, n, 2000):
            batch = [TrackChange(random_id(), _track(i), new=True) for i in range(start, min(n, start + 2000))]
            await repo.apply(folder, batch, [])
        await repo.finalize()  # the album aggregates of every album the batches marked
    finally:
        await db.close()
    return time.perf_counter() - started


async def _probe_latency(db_path: Path, rounds: int = 200) -> dict[str, float]:
    db = Database(db_path)
    await db.open()
    try:
        times = []
        for _ in range(rounds):
            t = time.perf_counter()
            await probe_write(db)
            times.append((time.perf_counter() - t) * 1000)
    finally:
        await db.close()
    times.sort()
    return {"p50_ms": round(statistics.median(times), 3), "p99_ms": round(times[int(len(times) * 0.99) - 1], 3)}


def _corrupt(db: Path) -> int:
    with closing(sqlite3.connect(db)) as conn:
        pages = [r[0] for r in conn.execute(
            "SELECT pageno FROM dbstat WHERE name = 'tracks' AND pagetype = 'leaf' ORDER BY pageno")]
        size = conn.execute("PRAGMA page_size").fetchone()[0]
    bad = pages[1::4]
    with db.open("r+b") as fh:
        for p in bad:
            fh.seek((p - 1) * size)
            fh.write(os.urandom(size))
    return len(bad)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tracks", type=int, default=100_000)
    ap.add_argument("--work", type=Path, help="scratch folder (default: a temporary one, removed after)")
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-db-health-"))
    data = work / "data"
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir(parents=True)
    out: dict[str, Any] = {"tracks": args.tracks}
    db_path = data / "musicd.db"
    out["build_s"] = round(asyncio.run(_build(db_path, args.tracks)), 2)
    out["db_bytes"] = db_path.stat().st_size
    checks = []
    for _ in range(3):
        t = time.perf_counter()
        assert quick_check(db_path) is None
        checks.append(time.perf_counter() - t)
    out["quick_check_s"] = {"min": round(min(checks), 3), "max": round(max(checks), 3)}
    out["health_write_probe"] = asyncio.run(_probe_latency(db_path))
    config = load_config(environ={"MUSICD_DATA_DIR": str(data), "MUSICD_BACKUP_DIR": str(work / "backups")})
    service = BackupService(config)
    (data / "keys").mkdir(exist_ok=True)
    for key in ("server.key", "token.key"):
        (data / "keys" / key).write_bytes(os.urandom(32))
    b = service.create()
    out["backup"] = {"seconds": round(b.seconds, 2), "archive_bytes": b.size}
    t = time.perf_counter()
    service.restore(b.path)
    out["restore_s"] = round(time.perf_counter() - t, 2)
    out["corrupted_pages"] = _corrupt(db_path)
    t = time.perf_counter()
    r = asyncio.run(service.recover())
    tracks = next(x for x in r.report.tables if x.name == "tracks")
    out["recover"] = {"seconds": round(time.perf_counter() - t, 2), "method": r.report.method,
                      "tracks_recovered": tracks.recovered, "tracks_before": tracks.before}
    print(json.dumps(out))
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
