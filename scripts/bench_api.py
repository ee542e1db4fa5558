#!/usr/bin/env python3
"""Latency of /v1 metadata reads over HTTP against a running musicd: p50 / p99 per endpoint.

    .venv/bin/python scripts/bench_api.py --base-url http://127.0.0.1:4747 --user admin --password PW \
        --library /tmp/lib10k [--samples 300] [--sections album,artist]

The server must already serve the library given with --library (it is only recorded, and its
manifest.json counts are reported when present). Requests go one at a time on one keep-alive
connection, in a random order of ids, after a warm-up. Prints one JSON object.

Sections are functions `(client, rng, samples) -> {name: [urls]}` in SECTIONS; add one for other reads.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

Section = Callable[[httpx.Client, random.Random, int], dict[str, list[str]]]


def _pages(client: httpx.Client, url: str, key: str | None, most: int = 100_000) -> list[dict[str, Any]]:
    """Every item of a /v1 paging object, following `next`."""
    out: list[dict[str, Any]] = []
    next_url: str | None = url
    while next_url and len(out) < most:
        r = client.get(next_url)
        r.raise_for_status()
        body = r.json()
        page = body[key] if key else body
        out += page["items"]
        next_url = page["next"]
    return out


def _albums(client: httpx.Client) -> list[dict[str, Any]]:
    albums = _pages(client, "/v1/browse/new-releases?limit=50", "albums")
    if not albums:
        sys.exit("the server has no albums: scan the library first")
    return albums


def album_section(client: httpx.Client, rng: random.Random, n: int) -> dict[str, list[str]]:
    """A full album (with its first 50 tracks), a page of an album's tracks, a track."""
    albums = _albums(client)
    picks = [rng.choice(albums)["id"] for _ in range(n)]
    first_tracks = {}
    for aid in set(picks[: min(n, 50)]):
        items = client.get(f"/v1/albums/{aid}/tracks?limit=1").json()["items"]
        if items:
            first_tracks[aid] = items[0]["id"]
    track_ids = list(first_tracks.values())
    return {
        "album": [f"/v1/albums/{a}" for a in picks],
        "album_tracks": [f"/v1/albums/{a}/tracks?limit=50" for a in picks],
        "track": [f"/v1/tracks/{rng.choice(track_ids)}" for _ in range(n)] if track_ids else [],
        "albums_20": [f"/v1/albums?ids={','.join(rng.sample([a['id'] for a in albums], min(20, len(albums))))}"
                      for _ in range(max(1, n // 5))],
    }


def artist_section(client: httpx.Client, rng: random.Random, n: int) -> dict[str, list[str]]:
    """An artist, their albums, their top tracks."""
    artists = sorted({a["artists"][0]["id"] for a in _albums(client)})
    picks = [rng.choice(artists) for _ in range(n)]
    return {
        "artist": [f"/v1/artists/{a}" for a in picks],
        "artist_albums": [f"/v1/artists/{a}/albums?limit=50" for a in picks],
        "artist_top_tracks": [f"/v1/artists/{a}/top-tracks" for a in picks],
    }


PLAYLIST_ITEMS = 10_000


def playlist_section(client: httpx.Client, rng: random.Random, n: int) -> dict[str, list[str]]:
    """A 10,000-item playlist (made once by importing the library's tracks): the playlist object with its
    first 100 items, and pages of 100 items at random offsets."""
    pid = next((p["id"] for p in _pages(client, "/v1/me/playlists?limit=50", None)
                if p["name"] == "bench 10k" and p["tracks"]["total"] == PLAYLIST_ITEMS), None)
    if pid is None:
        ids: list[str] = []
        for album in _albums(client):
            ids += [t["id"] for t in _pages(client, f"/v1/albums/{album['id']}/tracks?limit=50", None)]
            if len(ids) >= PLAYLIST_ITEMS:
                break
        body = "\n".join(f"musicd:track:{ids[i % len(ids)]}" for i in range(PLAYLIST_ITEMS))
        r = client.post("/v1/me/playlists/import", params={"name": "bench 10k"}, content=body.encode())
        r.raise_for_status()
        pid = r.json()["playlist"]["id"]
    offsets = [rng.randrange(0, PLAYLIST_ITEMS // 100) * 100 for _ in range(n)]
    return {
        "playlist_10k": [f"/v1/playlists/{pid}" for _ in range(n)],
        "playlist_10k_items": [f"/v1/playlists/{pid}/tracks?offset={o}&limit=100" for o in offsets],
    }


SECTIONS: dict[str, Section] = {"album": album_section, "artist": artist_section, "playlist": playlist_section}


def _measure(client: httpx.Client, urls: list[str]) -> dict[str, Any]:
    for u in urls[: min(10, len(urls))]:  # warm-up: connections, caches, first-use paths
        client.get(u)
    times, errors = [], 0
    for u in urls:
        t0 = time.perf_counter()
        r = client.get(u)
        times.append((time.perf_counter() - t0) * 1000)
        errors += r.status_code != 200
    times.sort()
    return {
        "n": len(times), "errors": errors,
        "p50_ms": round(statistics.median(times), 3),
        "p99_ms": round(times[min(len(times) - 1, int(len(times) * 0.99))], 3),
        "max_ms": round(times[-1], 3),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base-url", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--library", type=Path, required=True, help="the library the server serves (recorded)")
    ap.add_argument("--samples", type=int, default=300)
    ap.add_argument("--sections", default=",".join(SECTIONS))
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()

    base = args.base_url.rstrip("/")
    r = httpx.post(f"{base}/v1/auth/login", json={"username": args.user, "password": args.password}, timeout=30)
    if r.status_code != 200:
        sys.exit(f"login failed: {r.status_code} {r.text}")
    headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
    rng = random.Random(args.seed)
    out: dict[str, Any] = {"base_url": base, "library": str(args.library), "samples": args.samples}
    manifest = args.library / "manifest.json"
    if manifest.is_file():
        out["library_counts"] = json.loads(manifest.read_text()).get("counts")
    results: dict[str, Any] = {}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        for name in [s.strip() for s in args.sections.split(",") if s.strip()]:
            if name not in SECTIONS:
                sys.exit(f"unknown section {name!r}; known: {', '.join(SECTIONS)}")
            for endpoint, urls in SECTIONS[name](client, rng, args.samples).items():
                if urls:
                    results[endpoint] = _measure(client, urls)
    out["endpoints"] = results
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
