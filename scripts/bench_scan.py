#!/usr/bin/env python3
"""Benchmark the scanner on a library made by a manifest-writing generator, and check tag accuracy.

    .venv/bin/python scripts/bench_scan.py --library /tmp/lib10k [--data /tmp/bench-data] [--rescan]

Runs `musicd scan --json` on a fresh data dir (first scan), samples the peak RSS of the whole
process tree, optionally runs a no-change rescan, then compares the catalogue with
LIBRARY/manifest.json field by field. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
import unicodedata
from pathlib import Path


def _tree_memory_kib(root: int) -> tuple[int, int]:
    """(sum of RSS, sum of PSS) over a process and all its descendants."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/status") as fh:
                ppid, kib = 0, 0
                for line in fh:
                    if line.startswith("PPid:"):
                        ppid = int(line.split()[1])
                    elif line.startswith("VmRSS:"):
                        kib = int(line.split()[1])
        except OSError:
            continue
        children.setdefault(ppid, []).append(int(d))
        rss[int(d)] = kib
    total, pss, stack = 0, 0, [root]
    while stack:
        p = stack.pop()
        total += rss.get(p, 0)
        pss += _pss_kib(p)
        stack.extend(children.get(p, []))
    return total, pss


def _pss_kib(pid: int) -> int:
    # PSS splits shared pages (the interpreter, libraries) between the processes that map them,
    # so the sum over the tree is the memory the scan really occupies; the RSS sum counts them per process.
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_scan(data: Path, library: Path) -> dict:
    env = dict(os.environ, MUSICD_DATA_DIR=str(data), MUSICD_LIBRARY_FOLDERS=str(library), MUSICD_LOG_LEVEL="error")
    musicd = Path(sys.executable).with_name("musicd")
    load = os.getloadavg()
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.Popen([str(musicd), "scan", "--json"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peak = [0, 0]

    def sample() -> None:
        while proc.poll() is None:
            rss, pss = _tree_memory_kib(proc.pid)
            peak[0], peak[1] = max(peak[0], rss), max(peak[1], pss)
            time.sleep(0.05)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - t0
    th.join()
    # The scan waits for its workers, so its children's times (user + sys) include theirs.
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime
    if proc.returncode != 0:
        raise SystemExit(f"scan failed: {err.decode()[-2000:]}")
    summary = json.loads(out)
    summary.pop("failures", None)
    return {"wall_s": round(wall, 3), "cpu_s": round(cpu, 2), "scanner_wall_s": summary["wall_s"],
            "loadavg": [round(x, 2) for x in (*load, *os.getloadavg())],  # 1/5/15 min at start, then at end
            "peak_rss_mib": round(peak[0] / 1024, 1), "peak_pss_mib": round(peak[1] / 1024, 1),
            "summary": summary}


def norm(s: object) -> str:
    return " ".join(unicodedata.normalize("NFC", str(s or "")).casefold().split())


def accuracy(db_path: Path, library: Path) -> dict:
    manifest = json.loads((library / "manifest.json").read_text())
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    rows = {}
    for r in con.execute(
        "SELECT t.path, t.id, t.title, t.artist_display, al.name, t.track_number, t.disc_number, t.year, t.duration,"
        " t.album_id, ar.name, (SELECT g.name FROM track_genres tg JOIN genres g ON g.id = tg.genre_id"
        "  WHERE tg.track_id = t.id ORDER BY tg.position LIMIT 1)"
        " FROM tracks t JOIN albums al ON al.id = t.album_id JOIN artists ar ON ar.id = al.album_artist_id"
    ):
        rows[unicodedata.normalize("NFC", r[0])] = r
    fields = {k: 0 for k in ("title", "artist", "album", "track", "disc", "year", "genre", "duration")}
    examples: dict[str, list] = {}
    m2s: dict[str, set] = {}
    s2m: dict[str, set] = {}
    missing = 0
    for t in manifest["tracks"]:
        r = rows.get(unicodedata.normalize("NFC", str(library / t["path"])))
        if r is None:
            missing += 1
            continue
        checks = {
            "title": norm(r[2]) == norm(t["title"]),
            "artist": norm(r[3]) == norm(t["artist"]),
            "album": norm(r[4]) == norm(t["album"]),
            "track": r[5] == t["track"],
            "disc": (r[6] or 1) == t["disc"],
            "year": (r[7] or None) == t["year"],
            "genre": norm(r[11]) == norm(t["genre"]),
            "duration": abs(r[8] - t["duration"]) <= 1.01,
        }
        for k, ok in checks.items():
            fields[k] += ok
            if not ok and len(examples.setdefault(k, [])) < 3:
                examples[k].append([t["path"], k])
        m2s.setdefault(t["album_id"], set()).add(r[9])
        s2m.setdefault(r[9], set()).add(t["album_id"])
    n = len(manifest["tracks"])
    album_artist = {r[0]: r[1] for r in con.execute(
        "SELECT al.id, ar.name FROM albums al JOIN artists ar ON ar.id = al.album_artist_id")}
    comps = [a for a in manifest["albums"] if a["compilation"]]
    comp_ok = sum(
        1 for a in comps if len(m2s.get(a["id"], ())) == 1
        and album_artist.get(next(iter(m2s[a["id"]]))) == "Various Artists"
    )
    counts = dict(zip(("tracks", "albums", "artists"), con.execute(
        "SELECT (SELECT count(*) FROM tracks), (SELECT count(*) FROM albums), (SELECT count(*) FROM artists)"
    ).fetchone(), strict=True))
    return {
        "manifest_tracks": n, "manifest_albums": len(manifest["albums"]), "db": counts,
        "tracks_missing": missing,
        "field_accuracy": {k: round(v / n, 4) for k, v in fields.items()},
        "mismatch_examples": examples,
        "albums_split": sum(1 for v in m2s.values() if len(v) > 1),
        "albums_merged": sum(1 for v in s2m.values() if len(v) > 1),
        "compilations_as_various_artists": f"{comp_ok}/{len(comps)}",
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--library", type=Path, required=True)
    ap.add_argument("--data", type=Path, default=Path("/tmp/musicd-bench-scan"))
    ap.add_argument("--rescan", action="store_true", help="also time a no-change rescan")
    a = ap.parse_args()
    library = a.library.resolve()
    if a.data.exists():
        shutil.rmtree(a.data)
    result: dict = {"library": str(library), "first_scan": run_scan(a.data, library)}
    if a.rescan:
        result["rescan"] = run_scan(a.data, library)
    if (library / "manifest.json").exists():
        result["accuracy"] = accuracy(a.data / "musicd.db", library)
    print(json.dumps(result, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
