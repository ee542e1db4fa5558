#!/usr/bin/env python3
"""Podcast refresh cost: parse a feed of N items, a first refresh (fetch through the address guard, parse,
store, index) and an unchanged refresh (a 304 thanks to the ETag), on a local feed server.

Prints one JSON object. Example: .venv/bin/python scripts/bench_podcasts.py --items 2000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from musicd.net.feeds import parse_feed
from musicd.services.registry import open_services
from tests.feed_server import Item, Route, feed_server, rss
from tests.live import make_config


def _feed(n: int, base: str) -> bytes:
    items = [Item(f"guid-{i}", f"Episode {i}", f"{base}/e/{i}.mp3", 1000 + i,
                  pub=time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(1_700_000_000 - i * 3600)),
                  duration="00:42:00", notes=f"<p>Notes of {i}, <b>bold</b> and <a href='https://x/'>a link</a></p>")
             for i in range(n)]
    return rss("Bench Show", items)


async def _refreshes(n: int, data: Path) -> dict[str, float]:
    with feed_server() as fs:
        body = _feed(n, fs.base)
        fs.routes["/feed.xml"] = Route(body, etag='"bench"')
        config = make_config(data, MUSICD_PODCASTS_ALLOW_HOSTS=f"127.0.0.1:{fs.port}",
                             MUSICD_PODCASTS_AUTO_DOWNLOAD="0")
        services = await open_services(config)
        try:
            admin = await services.accounts.create("bench", "bench-password", role="admin")
            t0 = time.perf_counter()
            show = await services.podcasts.add_feed(admin, fs.url("/feed.xml"))
            first = time.perf_counter() - t0
            t0 = time.perf_counter()
            [res] = await services.podcasts.refresh(admin, [show.id])
            again = time.perf_counter() - t0
            assert res.status == "not_modified"
            t0 = time.perf_counter()
            page = await services.podcasts.show_episodes(show.id, admin.id, 50, 0)
            read = time.perf_counter() - t0
            assert page.total == n
            return {"feed_bytes": len(body), "first_refresh_s": round(first, 4), "unchanged_refresh_s": round(again, 4),
                    "episodes_page_ms": round(read * 1000, 2)}
        finally:
            await services.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--items", type=int, default=2000)
    args = ap.parse_args()
    body = _feed(args.items, "http://cdn.example")
    t0 = time.perf_counter()
    parsed = parse_feed(body, "http://cdn.example/feed.xml")
    parse_s = time.perf_counter() - t0
    assert len(parsed.items) == args.items
    with tempfile.TemporaryDirectory() as tmp:
        out = asyncio.run(_refreshes(args.items, Path(tmp) / "data"))
    print(json.dumps({"items": args.items, "parse_s": round(parse_s, 4), **out}))


if __name__ == "__main__":
    main()
