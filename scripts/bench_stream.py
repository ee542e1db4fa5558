"""Streaming benchmark of a real musicd server (granian) on a library: TTFB, ranges, tiers, throughput.

    python scripts/bench_stream.py --library /tmp/lib10k [--clients 50 --duration 20] [--wrk]

Starts `musicd serve` on a loopback port with a fresh data dir (scanned in-process first), logs in
over /v1, then measures with one keep-alive connection per client thread:
- raw TTFB (`quality=original`, bodies compared with the files) and Range TTFB (`bytes=1000-1999`);
- cold on-the-fly Ogg Vorbis 160k TTFB (nothing pre-transcoded; pre-started encoders), then the same
  tracks again from the tier cache;
- N clients streaming random raw tracks for D seconds (MB/s, req/s, errors, latency, server CPU);
- with --wrk: `wrk` on the same random authenticated URLs, beside nginx (sendfile) on the same files.
Prints one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from musicd.devtools.processes import process_tree

REPO = Path(__file__).resolve().parent.parent
USER, PASSWORD = "bench", "bench-password"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pct(xs: list[float], p: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return round(xs[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))], 3)


def tree_cpu(pid: int) -> float:
    """CPU seconds (user + system, reaped children's included) of a process and its descendants."""
    tick, total = os.sysconf("SC_CLK_TCK"), 0.0
    for p in process_tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        total += sum(int(f) for f in fields[11:15]) / tick
    return total


def run_threads(worker: Callable[[int], None], n: int) -> float:
    """Run `worker(i)` on `n` threads at once; the wall seconds until the last one ends."""
    t0 = time.monotonic()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.monotonic() - t0


def prepare(data: Path, library: Path) -> None:
    sys.path.insert(0, str(REPO))
    from musicd.config import load_config
    from musicd.services.registry import open_services

    async def go() -> None:
        cfg = load_config(environ={"MUSICD_DATA_DIR": str(data), "MUSICD_LIBRARY_FOLDERS": str(library)})
        s = await open_services(cfg)
        try:
            if await s.accounts.count() == 0:
                await s.accounts.create(USER, PASSWORD, role="admin")
            await s.library.scan()
        finally:
            await s.close()

    asyncio.run(go())


class Client:
    def __init__(self, port: int, token: str) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, path: str, extra: dict[str, str] | None = None) -> tuple[int, float, float, bytes]:
        """(status, ttfb ms, total ms, body)."""
        t0 = time.perf_counter()
        self.conn.request("GET", path, headers={**self.headers, **(extra or {})})
        r = self.conn.getresponse()
        first = r.read(1)
        t1 = time.perf_counter()
        body = first + r.read()
        t2 = time.perf_counter()
        return r.status, (t1 - t0) * 1000, (t2 - t0) * 1000, body


def login(port: int) -> str:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("POST", "/v1/auth/login", body=json.dumps({"username": USER, "password": PASSWORD}),
              headers={"Content-Type": "application/json"})
    return str(json.loads(c.getresponse().read())["access_token"])


def ttfb_section(port: int, token: str, tracks: list[tuple], n: int, rng: random.Random) -> dict:  # type: ignore[type-arg]
    c = Client(port, token)
    raw, rng_ttfb, exact, rexact = [], [], 0, 0
    for tid, path, size, _fmt, _br in rng.sample(tracks, min(n, len(tracks))):
        st, ttfb, _total, body = c.get(f"/v1/tracks/{tid}/stream?quality=original")
        raw.append(ttfb)
        exact += st == 200 and body == Path(path).read_bytes()
        if size > 4000:
            st, ttfb, _total, body = c.get(f"/v1/tracks/{tid}/stream?quality=original", {"Range": "bytes=1000-1999"})
            rng_ttfb.append(ttfb)
            with open(path, "rb") as f:
                f.seek(1000)
                rexact += st == 206 and body == f.read(1000)
    return {"raw_ttfb_ms": {"p50": pct(raw, 50), "p99": pct(raw, 99), "n": len(raw), "byte_exact": exact},
            "range_ttfb_ms": {"p50": pct(rng_ttfb, 50), "p99": pct(rng_ttfb, 99), "n": len(rng_ttfb),
                              "byte_exact": rexact}}


def transcode_section(port: int, token: str, tracks: list[tuple], n: int, rng: random.Random) -> dict:  # type: ignore[type-arg]
    c = Client(port, token)
    pick = rng.sample([t for t in tracks if t[3] != "ogg"], n)
    cold, full, warm, ok = [], [], [], 0
    for tid, *_ in pick:
        st, ttfb, total, body = c.get(f"/v1/tracks/{tid}/stream?quality=normal")
        cold.append(ttfb)
        full.append(total)
        ok += st == 200 and body[:4] == b"OggS"
        time.sleep(0.05)  # a listener does not start a new track every millisecond
    for tid, *_ in pick:
        _st, ttfb, _total, _body = c.get(f"/v1/tracks/{tid}/stream?quality=normal")
        warm.append(ttfb)
    return {"cold_ttfb_ms": {"p50": pct(cold, 50), "p99": pct(cold, 99), "n": n, "ogg_ok": ok},
            "cold_full_response_ms": {"p50": pct(full, 50)},
            "warm_ttfb_ms": {"p50": pct(warm, 50), "p99": pct(warm, 99)}}


def throughput_section(port: int, token: str, tracks: list[tuple], clients: int, duration: float,  # type: ignore[type-arg]
                       server_pid: int) -> dict:
    stop = time.monotonic() + duration
    lock = threading.Lock()
    tot = {"bytes": 0, "reqs": 0, "errors": 0}
    lat: list[float] = []
    ttfbs: list[float] = []

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        c = Client(port, token)
        while time.monotonic() < stop:
            tid, _path, size, *_ = rng.choice(tracks)
            try:
                st, ttfb, total, body = c.get(f"/v1/tracks/{tid}/stream?quality=original")
                err = st != 200 or len(body) != size
            except (OSError, http.client.HTTPException):
                err, body, ttfb, total = True, b"", 0.0, 0.0
                c = Client(port, token)
            with lock:
                tot["reqs"] += 1
                tot["bytes"] += len(body)
                tot["errors"] += err
                lat.append(total)
                ttfbs.append(ttfb)

    cpu0, own0 = tree_cpu(server_pid), time.process_time()
    wall = run_threads(worker, clients)
    return {"clients": clients, "duration_s": round(wall, 1), "MB_per_s": round(tot["bytes"] / wall / 1e6, 1),
            "req_per_s": round(tot["reqs"] / wall, 1), "errors": tot["errors"],
            "request_ms": {"p50": pct(lat, 50), "p99": pct(lat, 99)},
            "ttfb_ms": {"p50": pct(ttfbs, 50), "p99": pct(ttfbs, 99)},
            "server_cpu_s": round(tree_cpu(server_pid) - cpu0, 1),
            "client_cpu_s": round(time.process_time() - own0, 1)}


def wrk_section(port: int, token: str, tracks: list[tuple], library: Path, duration: int, clients: int,  # type: ignore[type-arg]
                work: Path) -> dict:
    if not shutil.which("wrk") or not shutil.which("nginx"):
        return {"skipped": "wrk or nginx not installed"}
    rng = random.Random(7)
    sample = rng.sample(tracks, min(2000, len(tracks)))
    (work / "musicd.txt").write_text("".join(f"/v1/tracks/{t[0]}/stream?quality=original\n" for t in sample))
    (work / "nginx.txt").write_text(
        "".join("/" + quote(str(Path(t[1]).relative_to(library))) + "\n" for t in sample))
    lua = work / "random.lua"
    lua.write_text("""
local urls = {}
for line in io.lines(os.getenv("URLS")) do urls[#urls + 1] = line end
local auth = os.getenv("AUTH")
math.randomseed(42)
request = function()
  local headers = {}
  if auth ~= "" then headers["Authorization"] = auth end
  return wrk.format("GET", urls[math.random(#urls)], headers)
end
""")
    nport = free_port()
    (work / "nginx.conf").write_text(f"""
daemon off; worker_processes 2; pid {work}/nginx.pid; error_log {work}/nginx-error.log;
events {{ worker_connections 1024; }}
http {{ access_log off; sendfile on; tcp_nopush on; keepalive_requests 1000000;
  server {{ listen 127.0.0.1:{nport}; root {library}; }} }}
""")
    nginx = subprocess.Popen(["nginx", "-c", str(work / "nginx.conf"), "-p", str(work)])
    time.sleep(0.5)

    def run(url: str, urls: Path, auth: str) -> dict:  # type: ignore[type-arg]
        env = {**os.environ, "URLS": str(urls), "AUTH": auth}
        out = subprocess.run(["wrk", "-t2", f"-c{clients}", f"-d{duration}s", "--latency", "-s", str(lua), url],
                             env=env, capture_output=True, text=True, timeout=duration + 60).stdout
        rps = float(next(ln.split()[1] for ln in out.splitlines() if ln.startswith("Requests/sec")))
        errs = sum(int(x) for ln in out.splitlines() if "Socket errors" in ln or "Non-2xx" in ln
                   for x in ln.replace(",", " ").split() if x.isdigit())
        tr = next((ln.split()[1] for ln in out.splitlines() if ln.startswith("Transfer/sec")), "?")
        p99 = next((ln.split()[1] for ln in out.splitlines() if ln.strip().startswith("99%")), "?")
        return {"req_per_s": rps, "transfer_per_s": tr, "latency_p99": p99, "errors": errs}

    try:
        res_musicd = run(f"http://127.0.0.1:{port}", work / "musicd.txt", f"Bearer {token}")
        res_nginx = run(f"http://127.0.0.1:{nport}", work / "nginx.txt", "")
    finally:
        nginx.send_signal(signal.SIGQUIT)
        nginx.wait(timeout=10)
    return {"musicd": res_musicd, "nginx": res_nginx,
            "musicd_vs_nginx": round(res_musicd["req_per_s"] / res_nginx["req_per_s"], 3)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--library", type=Path, required=True)
    ap.add_argument("--data", type=Path, help="data dir to reuse (default: a fresh temporary one)")
    ap.add_argument("--raw", type=int, default=100)
    ap.add_argument("--cold", type=int, default=40)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--duration", type=float, default=20)
    ap.add_argument("--wrk", action="store_true", help="also run wrk against musicd and nginx")
    ap.add_argument("--sections", default="ttfb,transcode,throughput")
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()
    library = args.library.resolve()
    work = Path(tempfile.mkdtemp(prefix="musicd-bench-stream-"))
    data = args.data or work / "data"
    t0 = time.monotonic()
    prepare(data, library)
    prep_s = time.monotonic() - t0
    shutil.rmtree(data / "transcodes", ignore_errors=True)  # "cold" means nothing made yet
    with sqlite3.connect(data / "musicd.db") as db:
        tracks = db.execute("SELECT id, path, size, format, bitrate FROM tracks ORDER BY id").fetchall()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MUSICD_")}
    env.update({"MUSICD_DATA_DIR": str(data), "MUSICD_LIBRARY_FOLDERS": str(library),
                "MUSICD_LIBRARY_SCAN_ON_START": "never", "MUSICD_TRANSCODE_PRE_TRANSCODE": "false",
                "MUSICD_LOG_LEVEL": "warning"})
    log = (work / "server.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "musicd", "serve", "--port", str(port)], env=env, cwd=REPO,
                            stdout=log, stderr=subprocess.STDOUT)
    out: dict = {"library": str(library), "tracks": len(tracks), "prepare_s": round(prep_s, 1),  # type: ignore[type-arg]
                 "loadavg_at_start": os.getloadavg()[0]}
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                c.request("GET", "/health")
                if c.getresponse().status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit("server did not start: " + (work / "server.log").read_text())
            time.sleep(0.1)
        time.sleep(1.0)  # let the encoder pool start
        token = login(port)
        rng = random.Random(args.seed)
        sections = set(args.sections.split(","))
        if "ttfb" in sections:
            out["ttfb"] = ttfb_section(port, token, tracks, args.raw, rng)
        if "transcode" in sections:
            out["transcode"] = transcode_section(port, token, tracks, args.cold, rng)
        if "throughput" in sections:
            out["throughput"] = throughput_section(port, token, tracks, args.clients, args.duration, proc.pid)
        if args.wrk:
            out["wrk"] = wrk_section(port, login(port), tracks, library, int(args.duration), args.clients, work)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        if not args.data:
            shutil.rmtree(work, ignore_errors=True)
    out["loadavg_at_end"] = os.getloadavg()[0]  # the machine is shared: read every figure next to these
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
