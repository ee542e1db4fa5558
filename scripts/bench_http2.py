#!/usr/bin/env python3
"""Streaming over HTTP/2 beside HTTP/1.1 on the same musicd: whole files, Range, concurrent streams.

    .venv/bin/python scripts/bench_http2.py --data /tmp/mem-data --library /tmp/lib10k \
        [--tracks 60 --ranges 60 --clients 16 --duration 15]

Needs a scanned data dir holding the user that bench_memory.py creates (no server may run on it).
Starts `musicd serve` twice on loopback: with a throwaway certificate (HTTPS: HTTP/1.1 or h2 by ALPN)
and in clear text with `server.h2c` (HTTP/1.1 or h2c by prior knowledge). On each it measures, with
httpx (h2 for HTTP/2): TTFB and whole response time of original-quality streams (bodies compared with
the files), TTFB of `Range: bytes=1000-1999` (compared too), and `--clients` tasks streaming random
files for `--duration` s (asyncio tasks), on one connection each for HTTP/1.1 and as streams of ONE
shared connection for HTTP/2 (what a browser does). Prints one JSON object with the load averages at start and end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import trustme

from musicd.devtools.processes import process_tree

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))
from bench_memory import PASSWORD, USER, free_port  # noqa: E402
from bench_stream import pct, tree_cpu  # noqa: E402


def _tracks(data: Path) -> list[tuple[str, str, int]]:
    with sqlite3.connect(f"file:{data / 'musicd.db'}?mode=ro", uri=True) as db:
        return [(str(i), p, s) for i, p, s in db.execute("SELECT id, path, size FROM tracks WHERE size > 4000")]


def _serve(data: Path, library: Path, work: Path, **env: str) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    full = {k: v for k, v in os.environ.items() if not k.startswith("MUSICD_")}
    full.update(MUSICD_DATA_DIR=str(data), MUSICD_LIBRARY_FOLDERS=str(library), MUSICD_LOG_LEVEL="warning",
                MUSICD_ANALYSIS_BACKGROUND="false", MUSICD_TRANSCODE_PRE_TRANSCODE="false", **env)
    log = (work / f"server-{port}.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "musicd", "serve", "--port", str(port)], env=full, cwd=REPO,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    return proc, port


def _client(base: str, *, http2: bool, verify: Any) -> httpx.Client:
    return httpx.Client(base_url=base, http1=not http2, http2=http2, verify=verify, timeout=60,
                        limits=httpx.Limits(max_connections=100, max_keepalive_connections=100))


def _login(base: str, verify: Any, proc: subprocess.Popen[bytes]) -> str:
    deadline = time.monotonic() + 120
    while True:
        try:
            r = httpx.post(f"{base}/v1/auth/login", json={"username": USER, "password": PASSWORD}, verify=verify)
            if r.status_code == 200:
                return str(r.json()["access_token"])
            raise SystemExit(f"login failed: {r.status_code} {r.text}")
        except httpx.TransportError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the server did not start") from None
            time.sleep(0.05)


def _timed(c: httpx.Client, url: str, headers: dict[str, str] | None = None) -> tuple[int, float, float, bytes]:
    """(status, TTFB ms, whole response ms, body)."""
    t0 = time.perf_counter()
    with c.stream("GET", url, headers=headers) as r:
        chunks = r.iter_raw()
        first = next(chunks, b"")
        t1 = time.perf_counter()
        body = first + b"".join(chunks)
        return r.status_code, (t1 - t0) * 1000, (time.perf_counter() - t0) * 1000, body


def _sequential(c: httpx.Client, tracks: list[tuple[str, str, int]], n: int, ranges: int,
                rng: random.Random) -> dict[str, Any]:
    ttfb, whole, exact, r_ttfb, r_exact = [], [], 0, [], 0
    for tid, path, _size in rng.sample(tracks, n):
        st, t, total, body = _timed(c, f"/v1/tracks/{tid}/stream?quality=original")
        ttfb.append(t)
        whole.append(total)
        exact += st == 200 and body == Path(path).read_bytes()
    for tid, path, _size in rng.sample(tracks, ranges):
        st, t, _total, body = _timed(c, f"/v1/tracks/{tid}/stream?quality=original", {"Range": "bytes=1000-1999"})
        r_ttfb.append(t)
        with open(path, "rb") as f:
            f.seek(1000)
            r_exact += st == 206 and body == f.read(1000)
    return {"stream_ttfb_ms": {"p50": pct(ttfb, 50), "p99": pct(ttfb, 99)},
            "stream_whole_ms": {"p50": pct(whole, 50), "p99": pct(whole, 99)},
            "stream_byte_exact": f"{exact}/{n}",
            "range_ttfb_ms": {"p50": pct(r_ttfb, 50), "p99": pct(r_ttfb, 99)},
            "range_byte_exact": f"{r_exact}/{ranges}"}


def _concurrent(base: str, token: str, verify: Any, http2: bool, tracks: list[tuple[str, str, int]],
                clients: int, duration: float, pid: int) -> dict[str, Any]:
    """`clients` tasks streaming at once: on one connection each (HTTP/1.1) or as streams of one (HTTP/2).

    asyncio, not threads: httpcore's HTTP/2 connection is not safe to share between threads."""
    tot = {"bytes": 0, "reqs": 0, "errors": 0}
    ttfbs: list[float] = []

    async def worker(c: httpx.AsyncClient, seed: int, stop: float) -> None:
        rng = random.Random(seed)
        while time.monotonic() < stop:
            tid, _path, size = rng.choice(tracks)
            t0 = time.perf_counter()
            try:
                async with c.stream("GET", f"/v1/tracks/{tid}/stream?quality=original") as r:
                    n, first = 0, None
                    async for chunk in r.aiter_raw():
                        first = first or time.perf_counter()
                        n += len(chunk)
                    err = r.status_code != 200 or n != size
            except httpx.HTTPError:
                err, n, first = True, 0, None
            tot["reqs"] += 1
            tot["bytes"] += n
            tot["errors"] += err
            ttfbs.append(((first or time.perf_counter()) - t0) * 1000)

    async def run() -> float:
        headers = {"Authorization": f"Bearer {token}"}
        limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
        conns = [httpx.AsyncClient(base_url=base, http1=not http2, http2=http2, verify=verify, timeout=60,
                                   headers=headers, limits=limits) for _ in range(1 if http2 else clients)]
        t0 = time.monotonic()
        stop = t0 + duration
        await asyncio.gather(*(worker(conns[i % len(conns)], i, stop) for i in range(clients)))
        wall = time.monotonic() - t0
        for c in conns:
            await c.aclose()
        return wall

    cpu0 = tree_cpu(pid)
    wall = asyncio.run(run())
    return {"clients": clients, "connections": 1 if http2 else clients, "MB_per_s": round(tot["bytes"] / wall / 1e6, 1),
            "req_per_s": round(tot["reqs"] / wall, 1), "errors": tot["errors"],
            "ttfb_ms": {"p50": pct(ttfbs, 50), "p99": pct(ttfbs, 99)},
            "server_cpu_s": round(tree_cpu(pid) - cpu0, 1)}


def _measure(base: str, verify: Any, proc: subprocess.Popen[bytes], args: argparse.Namespace,
             tracks: list[tuple[str, str, int]], names: tuple[str, str]) -> dict[str, Any]:
    token = _login(base, verify, proc)
    out: dict[str, Any] = {}
    for http2, name in ((False, names[0]), (True, names[1])):
        with _client(base, http2=http2, verify=verify) as c:
            c.headers["Authorization"] = f"Bearer {token}"
            c.get("/v1/me")  # the connection, and the protocol it speaks
            seq = _sequential(c, tracks, args.tracks, args.ranges, random.Random(args.seed))
            version = c.get("/v1/me").http_version
        out[name] = {"http_version": version, **seq,
                     "concurrent": _concurrent(base, token, verify, http2, tracks, args.clients, args.duration,
                                               proc.pid)}
    return out


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        for p in process_tree(proc.pid):
            os.kill(p, 9)
        proc.wait()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--library", type=Path, required=True)
    ap.add_argument("--tracks", type=int, default=60)
    ap.add_argument("--ranges", type=int, default=60)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--duration", type=float, default=15)
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()
    tracks = _tracks(args.data)
    out: dict[str, Any] = {"library": str(args.library), "tracks": len(tracks), "loadavg_at_start": os.getloadavg()}
    with tempfile.TemporaryDirectory(prefix="bench-h2-") as tmp:
        work = Path(tmp)
        ca = trustme.CA()
        cert = ca.issue_cert("127.0.0.1")
        cert.private_key_pem.write_to_path(str(work / "key.pem"))
        cert.cert_chain_pems[0].write_to_path(str(work / "cert.pem"))
        verify = ssl.create_default_context()
        ca.configure_trust(verify)
        proc, port = _serve(args.data, args.library, work, MUSICD_SERVER_TLS_CERT=str(work / "cert.pem"),
                            MUSICD_SERVER_TLS_KEY=str(work / "key.pem"))
        try:
            out["https"] = _measure(f"https://127.0.0.1:{port}", verify, proc, args, tracks, ("http/1.1", "h2"))
        finally:
            _stop(proc)
        proc, port = _serve(args.data, args.library, work, MUSICD_SERVER_H2C="true")
        try:
            out["cleartext"] = _measure(f"http://127.0.0.1:{port}", False, proc, args, tracks, ("http/1.1", "h2c"))
        finally:
            _stop(proc)
    out["loadavg_at_end"] = os.getloadavg()
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
