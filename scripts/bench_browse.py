#!/usr/bin/env python3
"""Browsing a big library through /rest: start-up to the first answer, then getArtists and getAlbumList2.

    .venv/bin/python scripts/bench_browse.py --data /tmp/data100k --library /tmp/lib100k \
        [--rounds 40]

Starts `musicd serve` on a loopback port over an already scanned data dir (no scan on start, no
background analysis or pre-transcoding), times spawn to the first authenticated getArtists answer
(bench_memory.py's probe; both log in as its user "bench", password "bench-password"),
then asks each list `--rounds` times on one keep-alive connection after a warm-up request. Per list:
wall p50/p99 in ms, and the server's CPU time per request (utime + stime of the server process and its
children over the rounds, from /proc), which the other users of a shared box disturb far less than wall
time. Prints one JSON object with the load averages at start and end.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench_memory import PASSWORD, USER, free_port, wait_first_answer  # scripts/ is on sys.path when run

LISTS: list[tuple[str, str, dict[str, Any]]] = [
    ("getArtists", "getArtists", {}),
    ("getAlbumList2 newest", "getAlbumList2", {"type": "newest", "size": 50}),
    ("getAlbumList2 alphabeticalByName", "getAlbumList2", {"type": "alphabeticalByName", "size": 50}),
    ("getAlbumList2 random", "getAlbumList2", {"type": "random", "size": 50}),
    ("getIndexes", "getIndexes", {}),
]


def _cpu_s(pid: int) -> float:
    """utime + stime of a process and its descendants (the server may run under a supervisor), in seconds."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    total = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        total += sum(_cpu_s(int(c)) for c in task.read_text().split())
    return total


class Client:
    """Subsonic token auth over one keep-alive connection."""

    def __init__(self, port: int, user: str, password: str) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.user, self.password = user, password

    def get(self, method: str, params: dict[str, Any]) -> tuple[int, bytes]:
        salt = secrets.token_hex(6)
        token = hashlib.md5((self.password + salt).encode()).hexdigest()  # the Subsonic token scheme
        query = urlencode({"u": self.user, "t": token, "s": salt, "v": "1.16.1", "c": "bench-browse", "f": "json",
                           **params})
        self.conn.request("GET", f"/rest/{method}?{query}")
        r = self.conn.getresponse()
        return r.status, r.read()


def measure(client: Client, pid: int, method: str, params: dict[str, Any], rounds: int) -> dict[str, Any]:
    """Wall p50/p99 and server CPU per request of one list."""
    status, body = client.get(method, params)
    if status != 200 or b'"ok"' not in body:
        raise SystemExit(f"{method} failed: {status} {body[:300]!r}")
    wall: list[float] = []
    cpu0 = _cpu_s(pid)
    for _ in range(rounds):
        t = time.perf_counter()
        status, body = client.get(method, params)
        wall.append((time.perf_counter() - t) * 1000)
        if status != 200:
            raise SystemExit(f"{method} failed: {status}")
    cpu = (_cpu_s(pid) - cpu0) * 1000 / rounds
    wall.sort()
    return {"p50_ms": round(statistics.median(wall), 2), "p99_ms": round(wall[int(0.99 * (len(wall) - 1))], 2),
            "server_cpu_ms": round(cpu, 2), "bytes": len(body)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True, help="a data dir holding a scanned catalogue")
    ap.add_argument("--library", type=Path, required=True)
    ap.add_argument("--rounds", type=int, default=40)
    args = ap.parse_args()

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MUSICD_")}
    env.update({"MUSICD_DATA_DIR": str(args.data), "MUSICD_LIBRARY_FOLDERS": str(args.library),
                "MUSICD_LOG_LEVEL": "warning", "MUSICD_LIBRARY_SCAN_ON_START": "never",
                "MUSICD_ANALYSIS_BACKGROUND": "false", "MUSICD_TRANSCODE_PRE_TRANSCODE": "false"})
    out: dict[str, Any] = {"load_start": os.getloadavg()}
    with tempfile.NamedTemporaryFile(prefix="bench-browse-", suffix=".log", delete=False) as f:
        log = Path(f.name)
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "musicd", "serve", "--host", "127.0.0.1", "--port", str(port)],
                            stdout=log.open("wb"), stderr=subprocess.STDOUT, env=env)
    try:
        out["startup_to_first_answer_s"] = round(wait_first_answer(port, proc, t0, log), 2)
        client = Client(port, USER, PASSWORD)
        for label, method, params in LISTS:
            out[label] = measure(client, proc.pid, method, params, args.rounds)
        out["load_end"] = os.getloadavg()
    finally:
        proc.terminate()
        proc.wait(30)
    log.unlink()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
