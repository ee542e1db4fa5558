"""Audio analysis throughput and memory on real-length tracks.

    python scripts/bench_analysis.py [--tracks 8] [--workers 1,2] [--cache /tmp/musicd-bench-analysis]

Generates `--tracks` music-like pieces of 3 to 5 minutes (drums, bass, chords, melody; seeded, so
the same every run; FLAC, MP3 and Ogg Vorbis in turn) once into the cache folder, scans them into a
fresh data dir, then for each worker count runs the background analyser's own pass (niced worker
processes, one file each at a time) over all of them and reports:

- tracks and seconds of audio per CPU-second (the workers' CPU and their ffmpeg's, measured in the
  workers), the figure that says what a library costs whatever the box;
- tracks per wall-second with N workers (includes starting the worker processes);
- peak memory of one analysis in a fresh process (resident set after the imports and at the end of
  analysing the longest track), and the accuracy on these pieces (tempo within 2 %, octave errors, key).

Prints one JSON object on stdout. The box is shared: read `loadavg` before comparing runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FORMATS = ("flac", "mp3", "ogg")


def make_library(root: Path, n: int) -> list[dict]:  # type: ignore[type-arg]
    """The pieces (reused when already there) and their truth."""
    from musicd.devtools.analysis_audio import Piece, encode, music_like

    rng = random.Random(15)
    truth = []
    for i in range(n):
        p = Piece(bpm=float(rng.choice((84, 96, 104, 112, 120, 126, 132, 140, 150, 172))), key=rng.randrange(12),
                  mode=rng.randrange(2), seconds=float(rng.randrange(180, 301)), brightness=rng.random(),
                  beats_per_bar=3 if i % 5 == 4 else 4, seed=i)
        path = root / f"piece{i:03d}.{FORMATS[i % len(FORMATS)]}"
        if not path.exists():
            encode(path, music_like(p), path.suffix[1:])
        truth.append({"path": str(path), "bpm": p.bpm, "key": p.key, "mode": p.mode, "seconds": p.seconds})
    return truth


async def run_pass(library: Path, workers: int) -> tuple[dict, list]:  # type: ignore[type-arg]
    from musicd.config import load_config
    from musicd.services.registry import open_services

    work = Path(tempfile.mkdtemp(prefix="musicd-bench-analysis-"))
    env = {"MUSICD_DATA_DIR": str(work / "data"), "MUSICD_LIBRARY_FOLDERS": str(library),
           "MUSICD_LOG_LEVEL": "warning", "MUSICD_ANALYSIS_WORKERS": str(workers)}
    s = await open_services(load_config(environ=env))
    try:
        await s.library.scan()
        summary = await s.analysis.run_pass()
        paths = {r.id: r.path for r in await s.transcoding.lookup.all_sources()}
        found = await s.analysis.audio_features(list(paths))
        results = [(paths[f.track_id], f.analysis) for f in found if f is not None]
    finally:
        await s.close()
        shutil.rmtree(work, ignore_errors=True)
    n = summary.analysed + summary.silent + summary.failed
    return {
        "workers": workers, "tracks": n, "failed": summary.failed, "wall_s": round(summary.wall_s, 2),
        "cpu_s": round(summary.cpu_s, 2), "audio_s": round(summary.audio_s, 1),
        "tracks_per_cpu_s": round(n / summary.cpu_s, 3) if summary.cpu_s else None,
        "audio_s_per_cpu_s": round(summary.audio_s / summary.cpu_s, 1) if summary.cpu_s else None,
        "cpu_s_per_track": round(summary.cpu_s / n, 3) if n else None,
        "tracks_per_wall_s": round(n / summary.wall_s, 3) if summary.wall_s else None,
        "x_realtime_wall": round(summary.audio_s / summary.wall_s, 1) if summary.wall_s else None,
    }, results


def accuracy(truth: list[dict], results: list) -> dict:  # type: ignore[type-arg]
    by_path = {t["path"]: t for t in truth}
    exact = octave = wrong = keys = 0
    for path, a in results:
        t = by_path[path]
        if a.tempo and abs(a.tempo / t["bpm"] - 1) <= 0.02:
            exact += 1
        elif a.tempo and any(abs(a.tempo / (t["bpm"] * f) - 1) <= 0.02 for f in (0.5, 2.0)):
            octave += 1
        else:
            wrong += 1
        keys += int((a.key, a.mode) == (t["key"], t["mode"]))
    return {"tempo_exact": exact, "tempo_octave_errors": octave, "tempo_wrong": wrong, "key_and_mode_right": keys,
            "of": len(results)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tracks", type=int, default=8)
    ap.add_argument("--workers", default="1,2", help="worker counts to run, comma separated")
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "musicd-bench-analysis")
    args = ap.parse_args()
    sys.path.insert(0, str(REPO))
    library = args.cache / f"lib{args.tracks}"
    library.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    truth = make_library(library, args.tracks)
    out: dict = {  # type: ignore[type-arg]
        "tracks": len(truth), "track_minutes_mean": round(sum(t["seconds"] for t in truth) / len(truth) / 60, 2),
        "cores": os.cpu_count(), "loadavg_at_start": round(os.getloadavg()[0], 2),
        "generate_s": round(time.monotonic() - t0, 1), "passes": [],
    }
    results: list = []  # type: ignore[type-arg]
    for w in (int(x) for x in args.workers.split(",")):
        figures, results = asyncio.run(run_pass(library, w))
        out["passes"].append(figures)
    out["accuracy"] = accuracy(truth, results)
    from musicd.devtools.analysis_audio import measure_analysis

    longest = max(truth, key=lambda t: t["seconds"])
    mem = measure_analysis(Path(longest["path"]), duration=longest["seconds"])
    out["memory_one_analysis"] = {k: mem[k] for k in ("after_imports_mb", "peak_mb", "analysis_mb")} | {
        "track_s": longest["seconds"]}
    out["loadavg_at_end"] = round(os.getloadavg()[0], 2)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
