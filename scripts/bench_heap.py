#!/usr/bin/env python3
"""Where the server's Python heap goes: tracemalloc over the app's start and a round of requests.

    .venv/bin/python scripts/bench_heap.py --data /tmp/mem-data --library /tmp/lib10k [--top 15]

Builds the same app `musicd serve` runs, on a scanned data dir (no server may run on it), inside
Litestar's test client (the lifespan runs: services, search index, background tasks), then sends one
round of browsing and search requests as the user bench_memory.py creates. Reports the traced heap
after start and after the requests, grouped by package (musicd.search, litestar, msgspec, ...) and
the largest single allocation sites. Memory outside the Python allocator (Rust: tantivy, granian;
C: SQLite's page cache) is not traced: bench_memory.py's by-mapping figures hold it. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import secrets
import tracemalloc
from pathlib import Path
from typing import Any

MIB = 1024 * 1024


def _package(filename: str) -> str:
    parts = Path(filename).parts
    for anchor in ("site-packages", "musicd"):
        if anchor in parts:
            i = parts.index(anchor)
            rest = parts[i + 1:] if anchor == "site-packages" else parts[i:]
            if anchor == "musicd" and len(rest) > 1:
                return ".".join(rest[:2]).removesuffix(".py")
            return rest[0].removesuffix(".py") if rest else anchor
    return "python stdlib" if "python3" in filename else filename


def _grouped(snap: tracemalloc.Snapshot, top: int) -> dict[str, Any]:
    by_pkg: dict[str, int] = {}
    stats = snap.statistics("filename")
    for s in stats:
        pkg = _package(s.traceback[0].filename)
        by_pkg[pkg] = by_pkg.get(pkg, 0) + s.size
    lines = snap.statistics("lineno")[:top]
    return {"traced_mib": round(sum(s.size for s in stats) / MIB, 1),
            "by_package_mib": {k: round(v / MIB, 2) for k, v in sorted(by_pkg.items(), key=lambda kv: -kv[1])[:top]},
            "top_lines": [f"{round(s.size / MIB, 2)} MiB {s.traceback[0].filename.split('site-packages/')[-1]}:"
                          f"{s.traceback[0].lineno}" for s in lines]}


def _rest(path: str, user: str, password: str, **params: str) -> tuple[str, dict[str, str]]:
    salt = secrets.token_hex(6)
    return f"/rest/{path}", {"u": user, "t": hashlib.md5((password + salt).encode()).hexdigest(), "s": salt,
                             "v": "1.16.1", "c": "bench-heap", "f": "json", **params}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--library", type=Path, required=True)
    ap.add_argument("--user", default="bench")
    ap.add_argument("--password", default="bench-password")
    ap.add_argument("--top", type=int, default=15)
    args = ap.parse_args()
    os.environ.update(MUSICD_DATA_DIR=str(args.data), MUSICD_LIBRARY_FOLDERS=str(args.library),
                      MUSICD_LIBRARY_SCAN_ON_START="never", MUSICD_ANALYSIS_BACKGROUND="false",
                      MUSICD_TRANSCODE_PRE_TRANSCODE="false", MUSICD_LOG_LEVEL="warning")
    tracemalloc.start(1)
    from litestar.testing import TestClient

    from musicd.app import create_app
    from musicd.config import load_config

    out: dict[str, Any] = {"data": str(args.data)}
    with TestClient(create_app(load_config())) as client:
        out["after_start"] = _grouped(tracemalloc.take_snapshot(), args.top)
        for name, params in [("getArtists", {}), ("getAlbumList2", {"type": "newest", "size": "50"}),
                             ("getAlbumList2", {"type": "random", "size": "500"}),
                             *[("search3", {"query": q}) for q in ("love", "night", "latern", "dvorak", "ete")]]:
            path, query = _rest(name, args.user, args.password, **params)
            r = client.get(path, params=query)
            assert r.status_code == 200 and '"ok"' in r.text, r.text[:300]
        out["after_requests"] = _grouped(tracemalloc.take_snapshot(), args.top)
        out["peak_traced_mib"] = round(tracemalloc.get_traced_memory()[1] / MIB, 1)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
