#!/usr/bin/env python3
"""What an edit of a long playlist costs: reorders, inserts and removals in a 10,000-entry playlist.

    .venv/bin/python scripts/bench_playlist_reorder.py [--entries 10000] [--rounds 40]

Opens musicd's services on a scratch data dir (migrations, the single writer, the event bus: what a
request reaches after its handler), fills a playlist with `--entries` entries, then times `--rounds` of
each edit through PlaylistService (the same call /v1 and /rest make), with the rows each one wrote
(`musicd_playlist_entry_writes_total`). Issue 12 measured 100-255 ms per reorder of 10,000 dense positions.
Prints one JSON object. The box is shared: read `loadavg` before comparing runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any


def _filler_row(conn: sqlite3.Connection, table: str, **given: Any) -> None:
    """Insert a row with `given` values and filler in the other NOT NULL columns (tracks without files)."""
    row = dict(given)
    for _, name, kind, notnull, default, pk in conn.execute(f"PRAGMA table_info({table})"):
        if name not in row and notnull and default is None and not pk:
            row[name] = 1 if "INT" in kind.upper() else 1.0 if "REAL" in kind.upper() else f"{name}-{given}"
    conn.execute(f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", tuple(row.values()))


def _pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return round(xs[min(len(xs) - 1, int(len(xs) * p))] * 1000, 2) if xs else 0.0


async def _run(entries: int, rounds: int) -> dict[str, object]:
    from musicd.config import load_config
    from musicd.services.registry import open_services

    with tempfile.TemporaryDirectory() as tmp:
        music = Path(tmp) / "music"
        music.mkdir()
        env = {"MUSICD_DATA_DIR": str(Path(tmp) / "data"), "MUSICD_LIBRARY_FOLDERS": str(music),
               "MUSICD_LOG_LEVEL": "warning"}
        s = await open_services(load_config(environ=env))
        try:
            user = await s.accounts.create("bench", "bench-password-long")
            with sqlite3.connect(Path(tmp) / "data" / "musicd.db") as conn:
                _filler_row(conn, "library_folders", id=1000, path="/bench", name="bench")
                _filler_row(conn, "artists", id="ar", name="Bench")
                _filler_row(conn, "albums", id="al", group_key="bench", name="Bench", album_artist_id="ar")
                tracks = [f"bt{i:03d}" for i in range(200)]
                for t in tracks:
                    _filler_row(conn, "tracks", id=t, folder_id=1000, path=f"/bench/{t}.flac", album_id="al", title=t)
            pl = await s.playlists.create(user, "Bench", public=False)
            t0 = time.perf_counter()
            for i in range(0, entries, 100):
                await s.playlists.add(user, pl.id, [tracks[(i + j) % len(tracks)] for j in range(100)])
            fill_s = time.perf_counter() - t0
            rng = random.Random(5)
            writes = s.metrics.playlist_rows_written

            async def timed(edit: Callable[[], Awaitable[object]]) -> tuple[float, float]:
                before = writes._value.get()
                t = time.perf_counter()
                await edit()
                return time.perf_counter() - t, writes._value.get() - before

            kinds: dict[str, Callable[[], Callable[[], Awaitable[object]]]] = {
                "reorder_first_to_end": lambda: lambda: s.playlists.reorder(user, pl.id, 0, entries),
                "reorder_end_to_first": lambda: lambda: s.playlists.reorder(user, pl.id, entries - 1, 0),
                "reorder_random_block_of_5": lambda: (lambda a, b: lambda: s.playlists.reorder(
                    user, pl.id, a, b, range_length=5))(rng.randrange(entries - 5), rng.randrange(entries)),
                "remove_at_start": lambda: lambda: s.playlists.subsonic_update(user, pl.id, remove_indexes=[0]),
                "insert_at_start": lambda: lambda: s.playlists.add(user, pl.id, [tracks[0]], position=0),
            }
            out: dict[str, object] = {"entries": entries, "rounds": rounds, "fill_s": round(fill_s, 2)}
            for name, make in kinds.items():
                times, rows = [], []
                for _ in range(rounds):
                    dt, n = await timed(make())
                    times.append(dt)
                    rows.append(n)
                out[name] = {"p50_ms": _pct(times, 0.5), "p95_ms": _pct(times, 0.95), "max_ms": _pct(times, 1.0),
                             "rows_written_mean": statistics.mean(rows)}
            out["loadavg"] = os.getloadavg()
            return out
        finally:
            await s.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--entries", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=40)
    a = ap.parse_args()
    print(json.dumps(asyncio.run(_run(a.entries, a.rounds))))


if __name__ == "__main__":
    main()
