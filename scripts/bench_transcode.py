"""Background pre-transcode throughput and play-event batch writer throughput, on a real library.

    python scripts/bench_transcode.py --library /tmp/lib10k [--limit 600] [--workers 0] [--events 100000]

Scans the library into a fresh data dir, then runs the background transcoder's pass (niced ffmpeg,
`--workers` at once, default one per core) for `--limit` (track, tier) pairs, and reports tiers and
tracks per minute, seconds of audio per second (x realtime), CPU, and the time the whole library
would take at that rate. Then pushes `--events` play events through the bus and the batch writer
into SQLite and reports events per second. Prints one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


async def run(args: argparse.Namespace) -> dict:  # type: ignore[type-arg]
    sys.path.insert(0, str(REPO))
    from musicd.config import load_config
    from musicd.services.play_events import PlayEvent
    from musicd.services.registry import open_services

    work = Path(tempfile.mkdtemp(prefix="musicd-bench-transcode-"))
    env = {"MUSICD_DATA_DIR": str(args.data or work / "data"), "MUSICD_LIBRARY_FOLDERS": str(args.library),
           "MUSICD_LOG_LEVEL": "warning"}
    if args.workers:
        env["MUSICD_TRANSCODE_WORKERS"] = str(args.workers)
    s = await open_services(load_config(environ=env))
    out: dict = {"library": str(args.library), "loadavg_at_start": os.getloadavg()[0]}  # type: ignore[type-arg]
    try:
        t0 = time.monotonic()
        await s.library.scan()
        out["scan_s"] = round(time.monotonic() - t0, 1)
        await s.transcoder.load()
        before = await s.transcoding.status()
        ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        summary = await s.transcoding.run_pass(limit=args.limit)
        ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        after = await s.transcoding.status()
        cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
        n_tracks = (await s.db.fetchone("SELECT count(*) FROM tracks"))[0]
        per_track = before.wanted / max(1, n_tracks)
        rate = summary.made / summary.wall_s if summary.wall_s else 0.0
        out["pre_transcode"] = {
            "workers": s.transcoding.workers,
            "tiers_made": summary.made, "failed": summary.failed, "wall_s": round(summary.wall_s, 1),
            "tiers_per_min": round(rate * 60, 1),
            "tracks_per_min": round(rate * 60 / per_track, 1),
            "audio_s": round(summary.audio_s, 1),
            "x_realtime": round(summary.audio_s / summary.wall_s, 1) if summary.wall_s else None,
            "x_realtime_per_cpu_s": round(summary.audio_s / cpu, 1) if cpu else None,
            "ffmpeg_cpu_s": round(cpu, 1),
            "library_tiers_wanted": before.wanted, "tiers_per_track": round(per_track, 2),
            "library_estimate_min": round(before.wanted / rate / 60, 1) if rate else None,
            "cache_bytes": after.cache_bytes,
        }

        users = [(await s.accounts.create(f"bench{i}", "bench-password")).id for i in range(10)]
        tracks = [(r[0], float(r[1])) for r in await s.db.fetchall("SELECT id, duration FROM tracks")]
        n = args.events - args.events % 4
        now = time.time() - 86400
        t0 = time.monotonic()
        for i in range(n // 4):
            uid, (tid, dur) = users[i % len(users)], tracks[i % len(tracks)]
            at = now + i * 0.01
            ms = int(dur * 1000)
            await s.play_events.submit([  # one play's events, journaled as one request would be
                PlayEvent(uid, tid, kind, at, position_ms=played, ms_played=played, device_id=f"d{i % 13}")
                for kind, played in (("start", 0), ("progress", ms // 3), ("progress", ms // 2 + 1), ("end", ms))])
        submit_s = time.monotonic() - t0
        await s.play_events.flush()  # the writer's own path: transactions of 1,000 events
        wall = time.monotonic() - t0
        rows = (await s.db.fetchone("SELECT count(*) FROM listening_history"))[0]
        out["play_events"] = {"events": n, "plays_stored": rows, "submit_s": round(submit_s, 2),
                              "wall_s": round(wall, 2), "events_per_s": round(n / wall)}
    finally:
        out["loadavg_at_end"] = os.getloadavg()[0]
        await s.close()
        if not args.data:
            shutil.rmtree(work, ignore_errors=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--library", type=Path, required=True)
    ap.add_argument("--data", type=Path, help="data dir to use (kept; default: a temporary one)")
    ap.add_argument("--limit", type=int, default=600, help="(track, tier) pairs to transcode")
    ap.add_argument("--workers", type=int, default=0, help="ffmpeg processes at once (0 = one per core)")
    ap.add_argument("--events", type=int, default=100_000)
    args = ap.parse_args()
    args.library = args.library.resolve()
    print(json.dumps(asyncio.run(run(args)), indent=2))


if __name__ == "__main__":
    main()
