#!/usr/bin/env python3
"""Search benchmark: index build time and size from a scanned data dir, and query latency over HTTP.

    .venv/bin/python scripts/bench_search.py --data /tmp/bench100k [--library /tmp/lib100k]
        [--base-url http://127.0.0.1:4750 --user bench --password benchpass] [--queries 400] [--api v1|rest]

Prints one JSON object. The build part opens the data dir's database (the server must not be
running on it) and rebuilds the index into a fresh folder. The HTTP part sends `GET /v1/search`
with type=track,artist,album,limit=10 (with --api rest: `GET /rest/search3`, 10 of each) for queries
made from the library's manifest.json (titles, 3-letter prefixes, one-typo titles, artists) over one
keep-alive connection.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import http.client
import json
import os
import random
import secrets
import shutil
import statistics
import tempfile
import time
import urllib.parse
from pathlib import Path
from typing import Any


def _dir_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


async def _build(data_dir: Path) -> dict[str, Any]:
    from musicd.config import load_config
    from musicd.services.search import SearchService
    from musicd.store.catalog import CatalogRepository
    from musicd.store.db import Database

    config = load_config(environ={"MUSICD_DATA_DIR": str(data_dir)})
    db = Database(config.data_dir / "musicd.db")
    await db.open()
    tmp = Path(tempfile.mkdtemp(prefix="musicd-index-bench-"))
    try:
        service = SearchService(CatalogRepository(db), tmp / "index")
        t0 = time.perf_counter()
        await service.open()  # an empty folder: opening it rebuilds from the database
        wall = time.perf_counter() - t0
        return {"docs": service.index.count(), "build_s": round(wall, 2),
                "index_bytes": _dir_size(tmp / "index"),
                "index_mb": round(_dir_size(tmp / "index") / 2**20, 1)}
    finally:
        await db.close()
        shutil.rmtree(tmp, ignore_errors=True)


def _typo(word: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(word) - 1)
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]  # one transposition


def _queries(library: Path, n: int) -> list[tuple[str, str]]:
    manifest = json.loads((library / "manifest.json").read_text())
    rng = random.Random(7)
    tracks = manifest["tracks"]
    out: list[tuple[str, str]] = []
    while len(out) < n:
        t = rng.choice(tracks)
        kind = rng.choice(["exact", "prefix3", "typo", "artist"])
        title = t["title"]
        if kind == "exact":
            out.append((kind, title))
        elif kind == "prefix3":
            out.append((kind, title[:3]))
        elif kind == "typo":
            longest = max(title.split(), key=len)
            if len(longest) >= 4:
                out.append((kind, title.replace(longest, _typo(longest, rng), 1)))
        else:
            out.append((kind, t["artists"][0]))
    return out


def _login(conn: http.client.HTTPConnection, user: str, password: str) -> str:
    conn.request("POST", "/v1/auth/login", json.dumps({"username": user, "password": password}),
                 {"Content-Type": "application/json"})
    r = conn.getresponse()
    body = json.loads(r.read())
    if r.status != 200:
        raise SystemExit(f"login failed: {body}")
    return str(body["access_token"])


def _path(api: str, q: str, user: str, password: str) -> str:
    if api == "v1":
        return "/v1/search?" + urllib.parse.urlencode({"q": q, "type": "track,artist,album", "limit": 10})
    salt = secrets.token_hex(6)
    token = hashlib.md5((password + salt).encode()).hexdigest()  # the Subsonic token scheme
    return "/rest/search3?" + urllib.parse.urlencode({
        "query": q, "artistCount": 10, "albumCount": 10, "songCount": 10,
        "u": user, "t": token, "s": salt, "v": "1.16.1", "c": "bench-search", "f": "json"})


def _http(base_url: str, user: str, password: str, queries: list[tuple[str, str]], api: str = "v1") -> dict[str, Any]:
    u = urllib.parse.urlsplit(base_url)
    conn = http.client.HTTPConnection(u.hostname or "127.0.0.1", u.port or 80, timeout=30)
    headers = {"Authorization": f"Bearer {_login(conn, user, password)}"} if api == "v1" else {}
    lat: dict[str, list[float]] = {}
    errors: dict[int, int] = {}
    for i, (kind, q) in enumerate([("warmup", q) for _, q in queries[:20]] + queries):
        path = _path(api, q, user, password)
        t0 = time.perf_counter()
        conn.request("GET", path, headers=headers)
        r = conn.getresponse()
        r.read()
        dt = (time.perf_counter() - t0) * 1000
        if r.status != 200:
            errors[r.status] = errors.get(r.status, 0) + 1
        elif i >= 20:
            lat.setdefault(kind, []).append(dt)
            lat.setdefault("all", []).append(dt)

    def pct(xs: list[float], p: float) -> float:
        xs = sorted(xs)
        return round(xs[min(len(xs) - 1, int(p * len(xs)))], 2)

    return {"errors": errors, **{k: {"n": len(v), "p50_ms": round(statistics.median(v), 2),
                                     "p95_ms": pct(v, 0.95), "p99_ms": pct(v, 0.99)} for k, v in lat.items()}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, help="a scanned musicd data dir (for the build figures)")
    ap.add_argument("--library", type=Path, help="the library with manifest.json (for the queries)")
    ap.add_argument("--base-url")
    ap.add_argument("--user", default="bench")
    ap.add_argument("--password", default=os.environ.get("MUSICD_BENCH_PASSWORD", "benchpass"))
    ap.add_argument("--queries", type=int, default=400)
    ap.add_argument("--api", choices=("v1", "rest"), default="v1",
                    help="v1: GET /v1/search (bearer token); rest: GET /rest/search3 (Subsonic token auth)")
    args = ap.parse_args()
    out: dict[str, Any] = {}
    if args.data:
        out["build"] = asyncio.run(_build(args.data))
    if args.base_url and args.library:
        out["http"] = _http(args.base_url, args.user, args.password, _queries(args.library, args.queries), args.api)
        out["api"] = args.api
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
