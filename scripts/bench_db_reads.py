#!/usr/bin/env python3
"""Read latency of musicd's Database (the reader connections) and how often a read misses a write just
committed, with N concurrent readers hammering the same connections. Prints one JSON object.

    .venv/bin/python scripts/bench_db_reads.py [--rows 20000] [--seconds 5] [--readers 6]

It writes a scratch database in a temporary folder: one table of `--rows` rows, then runs `--readers`
tasks of point and range reads while one task inserts a row, reads it back at once and counts misses.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

from musicd.store.db import Database


def _pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return round(xs[min(len(xs) - 1, int(len(xs) * p))] * 1e6, 1) if xs else 0.0


async def _run(rows: int, seconds: float, readers: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(Path(tmp) / "bench.db")
        await db.open()
        await db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, n INTEGER)")
        await db.executemany("INSERT INTO t (id, name, n) VALUES (?, ?, ?)",
                             [(i, f"name {i}", i % 97) for i in range(rows)])
        stop = time.monotonic() + seconds
        point: list[float] = []
        scan: list[float] = []

        async def reader(k: int) -> None:
            i = k
            while time.monotonic() < stop:
                t = time.perf_counter()
                await db.fetchone("SELECT id, name FROM t WHERE id = ?", (i * 7919 % rows,))
                point.append(time.perf_counter() - t)
                t = time.perf_counter()
                await db.fetchall("SELECT id, name FROM t WHERE n = ? LIMIT 50", (i % 97,))
                scan.append(time.perf_counter() - t)
                i += 1

        async def writer() -> tuple[int, int]:
            tries = misses = 0
            next_id = rows
            while time.monotonic() < stop:
                await db.execute("INSERT INTO t (id, name, n) VALUES (?, 'new', 0)", (next_id,))
                if await db.fetchone("SELECT id FROM t WHERE id = ?", (next_id,)) is None:
                    misses += 1
                tries += 1
                next_id += 1
                await asyncio.sleep(0.002)
            return tries, misses

        results = await asyncio.gather(writer(), *(reader(k) for k in range(readers)))
        await db.close()
    tries, misses = results[0]
    return {
        "rows": rows, "readers": readers, "seconds": seconds,
        "point_reads": len(point), "point_p50_us": _pct(point, 0.5), "point_p99_us": _pct(point, 0.99),
        "range_reads": len(scan), "range_p50_us": _pct(scan, 0.5), "range_p99_us": _pct(scan, 0.99),
        "reads_per_s": round((len(point) + len(scan)) / seconds),
        "write_then_read": tries, "read_missed_own_write": misses,
        "mean_point_us": round(statistics.fmean(point) * 1e6, 1) if point else 0.0,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=20000)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--readers", type=int, default=6)
    a = ap.parse_args()
    print(json.dumps(asyncio.run(_run(a.rows, a.seconds, a.readers))))


if __name__ == "__main__":
    main()
