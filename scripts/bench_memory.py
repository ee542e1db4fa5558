#!/usr/bin/env python3
"""Memory of musicd as a household sees it: PSS of the whole process tree, scanning, idle and under load.

    .venv/bin/python scripts/bench_memory.py --library /tmp/lib10k [--data /tmp/mem-data] [--rescan-data]
        [--load builtin|none] [--load-cmd "python3 ../shared/bench/measure.py --base-url {base} ..."]
        [--clients 8 --duration 30] [--settle 5]

1. `musicd scan --json` on the data dir (skipped when it already holds a catalogue, unless
   --rescan-data wipes it): wall time and peak PSS/RSS of the scan's process tree (scan workers included).
2. `musicd serve` on a loopback port: seconds from spawn to the first authenticated answer
   (`/rest/getArtists`), then the tree's PSS while idle (after --settle seconds), by process kind
   (the server, ffmpeg encoders, anything else it started) and by mapping (Python heap and other
   anonymous memory, shared libraries, the database's mmap, the search index, the rest).
3. Under load, sampled every 50 ms: the built-in load (--clients threads for --duration seconds, each
   looping over raw and Ogg-transcoded streams, search3, getArtists, getAlbumList2 and getAlbum; the
   time to each answer's headers by kind, p50/p95/max: a stream's TTFB), or
   --load-cmd, a shell command run while sampling ({base}, {user}, {password}, {pid} are filled in),
   e.g. the shared harness's measure.py. Then idle again.

PSS splits pages shared between processes (the interpreter, libraries) among them, so the sum over
the tree is what the tree occupies; the RSS sum counts shared pages once per process. Prints one
JSON object; the load averages at start and end say how busy the (shared) machine was.
"""

from __future__ import annotations

import argparse
import ctypes
import hashlib
import http.client
import json
import os
import platform
import random
import resource
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from musicd.devtools.processes import process_tree as tree

REPO = Path(__file__).resolve().parent.parent
USER, PASSWORD = "bench", "bench-password"
MIB = 1024


# ---- process tree memory ----

_KCMP = {"x86_64": 312, "aarch64": 272}.get(platform.machine())  # kcmp(2)'s syscall number
_LIBC = ctypes.CDLL(None, use_errno=True)


def _shares_vm(a: int, b: int) -> bool:
    """True while `b` runs in `a`'s address space: a child between vfork and exec (Python starts ffmpeg so).
    Its smaps are the parent's, so counting it too would count the server twice (seen as a 'python'
    process of the server's size under load)."""
    return _KCMP is not None and _LIBC.syscall(_KCMP, a, b, 1, 0, 0) == 0  # 1 = KCMP_VM


def _processes(root: int) -> list[int]:
    return [pid for pid in tree(root) if pid == root or not _shares_vm(root, pid)]

def _kind(pid: int, root: int) -> str:
    if pid == root:
        return "server"
    try:
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return "gone"
    if comm in ("ffmpeg", "nice"):
        return "ffmpeg"
    return "python" if comm.startswith("python") or comm == "musicd" else comm


def _rollup(pid: int) -> dict[str, int]:
    """PSS, RSS and USS (private pages: what the process alone holds) of one process, in KiB."""
    out = {"pss": 0, "rss": 0, "uss": 0}
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                key, _, rest = line.partition(":")
                if key == "Pss":
                    out["pss"] = int(rest.split()[0])
                elif key == "Rss":
                    out["rss"] = int(rest.split()[0])
                elif key in ("Private_Clean", "Private_Dirty"):
                    out["uss"] += int(rest.split()[0])
    except OSError:
        pass
    return out


def tree_memory(root: int) -> dict[str, Any]:
    """PSS, RSS and USS (KiB) summed over the tree, and PSS, USS and process count by kind."""
    total = {"pss": 0, "rss": 0, "uss": 0}
    kinds: dict[str, dict[str, int]] = {}
    for pid in _processes(root):
        m = _rollup(pid)
        for key in total:
            total[key] += m[key]
        k = kinds.setdefault(_kind(pid, root), {"pss_kib": 0, "uss_kib": 0, "n": 0})
        k["pss_kib"] += m["pss"]
        k["uss_kib"] += m["uss"]
        k["n"] += 1
    return {"pss_kib": total["pss"], "rss_kib": total["rss"], "uss_kib": total["uss"], "kinds": kinds}


def _mapping_kind(name: str, data_dir: str) -> str:
    if not name or name.startswith("[heap]") or name.startswith("[anon"):
        return "anonymous (Python heap, Rust and C allocations, thread stacks)"
    if name.startswith("[stack"):
        return "anonymous (Python heap, Rust and C allocations, thread stacks)"
    if name.startswith(data_dir):
        if "/index/" in name:
            return "search index files (mmap)"
        if "musicd.db" in name:
            return "database (mmap, -shm)"
        return "other data-dir files"
    if ".so" in name or name.endswith("/python3.11") or "/bin/" in name:
        return "executables and shared libraries"
    return "other mappings"


def _mappings(pid: int, data_dir: str, out: dict[str, int]) -> None:
    name = ""
    try:
        with open(f"/proc/{pid}/smaps") as fh:
            for line in fh:
                head = line.split(None, 1)[0]
                if "-" in head and not head.endswith(":"):
                    parts = line.split(None, 5)
                    name = parts[5].strip() if len(parts) > 5 else ""
                elif head == "Pss:":
                    k = _mapping_kind(name, data_dir)
                    out[k] = out.get(k, 0) + int(line.split()[1])
    except OSError:
        pass


def mapping_breakdown(root: int, data_dir: str) -> dict[str, dict[str, float]]:
    """PSS (MiB) of the tree by kind of process and kind of mapping, from /proc/PID/smaps."""
    by_kind: dict[str, dict[str, int]] = {}
    for pid in _processes(root):
        _mappings(pid, data_dir, by_kind.setdefault(_kind(pid, root), {}))
    return {kind: {k: round(v / MIB, 1) for k, v in sorted(m.items(), key=lambda kv: -kv[1])}
            for kind, m in by_kind.items()}


def _mib(kib: int) -> float:
    return round(kib / MIB, 1)


def _summary(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """Peak and mean tree PSS over samples, with the by-kind split at the peak."""
    if not samples:
        return {}
    peak = max(samples, key=lambda s: s["pss_kib"])
    return {
        "pss_mib_peak": _mib(peak["pss_kib"]),
        "pss_mib_mean": _mib(sum(s["pss_kib"] for s in samples) // len(samples)),
        "uss_mib_peak": _mib(max(s["uss_kib"] for s in samples)),
        "rss_sum_mib_peak": _mib(max(s["rss_kib"] for s in samples)),
        "at_peak_by_kind": {k: {"pss_mib": _mib(v["pss_kib"]), "uss_mib": _mib(v["uss_kib"]), "processes": v["n"]}
                            for k, v in peak["kinds"].items()},
        "samples": len(samples),
    }


class Sampler:
    """Samples the tree's memory every `interval` seconds on a thread until stopped."""

    def __init__(self, root: int, interval: float = 0.05) -> None:
        self.root, self.interval = root, interval
        self.samples: list[dict[str, Any]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append(tree_memory(self.root))
            self._stop.wait(self.interval)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


# ---- the server ----

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(data: Path, library: Path, extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MUSICD_")}
    env.update({"MUSICD_DATA_DIR": str(data), "MUSICD_LIBRARY_FOLDERS": str(library), "MUSICD_LOG_LEVEL": "warning"})
    env.update(extra)
    return env


def _musicd() -> list[str]:
    return [sys.executable, "-m", "musicd"]


def scan(data: Path, library: Path, extra: dict[str, str]) -> dict[str, Any]:
    """A first scan in its own process tree: wall time, scanner time, peak PSS."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([*_musicd(), "scan", "--json"], env=_env(data, library, extra), cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    with Sampler(proc.pid) as s:
        out, err = proc.communicate()
    wall = time.perf_counter() - t0
    # The scan's workers are waited for by the scan process, so its children's times include theirs.
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"scan failed: {err.decode()[-2000:]}")
    summary = json.loads(out)
    return {"wall_s": round(wall, 2), "scanner_wall_s": summary["wall_s"],
            "cpu_s": round(cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime, 2),
            "added": summary["added"], "failed": summary["failed"], **_summary(s.samples)}


def add_user(data: Path, library: Path, extra: dict[str, str]) -> None:
    subprocess.run([*_musicd(), "user", "add", USER, "--role", "admin", "--password-stdin"], cwd=REPO,
                   env=_env(data, library, extra), input=f"{PASSWORD}\n".encode(), capture_output=True, check=False)


def rest(path: str, **params: Any) -> str:
    salt = secrets.token_hex(6)
    auth = {"u": USER, "t": hashlib.md5((PASSWORD + salt).encode()).hexdigest(), "s": salt, "v": "1.16.1",
            "c": "bench-memory", "f": "json"}
    return f"/rest/{path}?{urlencode({**auth, **params})}"


def get(conn: http.client.HTTPConnection, path: str, ttfb: list[float] | None = None) -> tuple[int, bytes]:
    t0 = time.perf_counter()
    conn.request("GET", path)
    r = conn.getresponse()
    if ttfb is not None:  # the status line and headers are in: a stream's first bytes are on their way
        ttfb.append(time.perf_counter() - t0)
    return r.status, r.read()


def _percentiles_ms(xs: list[float]) -> dict[str, float]:
    xs = sorted(xs)
    if not xs:
        return {}
    at = lambda q: round(1000 * xs[min(len(xs) - 1, int(q * len(xs)))], 1)  # noqa: E731
    return {"p50": at(0.5), "p95": at(0.95), "max": round(1000 * xs[-1], 1)}


def wait_first_answer(port: int, proc: subprocess.Popen[bytes], t0: float, log: Path) -> float:
    """Seconds from spawn to the first authenticated catalogue answer (getArtists)."""
    while True:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            status, body = get(c, rest("getArtists"))
            if status == 200 and b'"ok"' in body:
                return time.perf_counter() - t0
        except OSError:
            pass
        if proc.poll() is not None or time.perf_counter() - t0 > 300:
            raise SystemExit("server did not answer: " + log.read_text()[-3000:])
        time.sleep(0.02)


def track_ids(port: int, most: int = 2000) -> list[str]:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    ids: list[str] = []
    while len(ids) < most:
        _, body = get(c, rest("search3", query="", songCount=500, songOffset=len(ids), artistCount=0, albumCount=0))
        songs = json.loads(body)["subsonic-response"]["searchResult3"].get("song", [])
        if not songs:
            break
        ids += [s["id"] for s in songs]
    return ids


def album_ids(port: int) -> list[str]:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    _, body = get(c, rest("getAlbumList2", type="random", size=500))
    return [a["id"] for a in json.loads(body)["subsonic-response"]["albumList2"].get("album", [])]


WORDS = ["love", "night", "latern", "home", "dvorak", "sta", "ete", "blue", "river", "gold", "dream", "fire"]


def builtin_load(port: int, clients: int, duration: float, seed: int) -> dict[str, Any]:
    """`clients` threads loop over a mix of streams (raw and transcoded), searches and browsing."""
    tracks, albums = track_ids(port), album_ids(port)
    stop = time.monotonic() + duration
    counts: dict[str, int] = {}
    errors: dict[str, int] = {}
    ttfb: dict[str, list[float]] = {}
    lock = threading.Lock()
    kinds = ["raw", "raw", "ogg", "search", "search", "artists", "albumlist", "album"]

    def worker(i: int) -> None:
        rng = random.Random(seed + i)
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        while time.monotonic() < stop:
            kind = rng.choice(kinds)
            if kind == "raw":
                path = rest("stream", id=rng.choice(tracks), format="raw")
            elif kind == "ogg":
                path = rest("stream", id=rng.choice(tracks), format="ogg", maxBitRate=rng.choice([96, 160, 320]))
            elif kind == "search":
                path = rest("search3", query=rng.choice(WORDS), songCount=10, albumCount=10, artistCount=10)
            elif kind == "artists":
                path = rest("getArtists")
            elif kind == "albumlist":
                path = rest("getAlbumList2", type=rng.choice(["newest", "random", "alphabeticalByName"]), size=50)
            else:
                path = rest("getAlbum", id=rng.choice(albums))
            took: list[float] = []
            try:
                status, _ = get(c, path, took)
                bad = status != 200
            except (OSError, http.client.HTTPException):
                bad = True
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            with lock:
                counts[kind] = counts.get(kind, 0) + 1
                errors[kind] = errors.get(kind, 0) + bad
                ttfb.setdefault(kind, []).extend(took)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"clients": clients, "duration_s": duration, "requests": counts, "errors": errors,
            "ttfb_ms": {k: _percentiles_ms(v) for k, v in sorted(ttfb.items())}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--library", type=Path, required=True)
    ap.add_argument("--data", type=Path, help="data dir (kept; default: a temporary one, removed at the end)")
    ap.add_argument("--rescan-data", action="store_true", help="wipe --data first, so the scan is a first scan")
    ap.add_argument("--load", choices=["builtin", "none"], default="builtin")
    ap.add_argument("--load-cmd", help="shell command run as the load ({base} {user} {password} {pid})")
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--duration", type=float, default=30)
    ap.add_argument("--settle", type=float, default=5, help="seconds after the first answer before 'idle'")
    ap.add_argument("--env", action="append", default=[], help="KEY=VALUE for the server (repeatable)")
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()
    library = args.library.resolve()
    work = Path(tempfile.mkdtemp(prefix="musicd-bench-memory-"))
    data = (args.data or work / "data").resolve()
    extra = dict(kv.split("=", 1) for kv in args.env)
    if args.rescan_data and data.exists():
        shutil.rmtree(data)
    out: dict[str, Any] = {"library": str(library), "loadavg_at_start": [round(x, 1) for x in os.getloadavg()],
                           "server_env": extra}
    if not (data / "musicd.db").exists():
        out["scan"] = scan(data, library, extra)
    add_user(data, library, extra)

    port = free_port()
    log = work / "server.log"
    t0 = time.perf_counter()
    with log.open("wb") as fh:
        proc = subprocess.Popen([*_musicd(), "serve", "--port", str(port)], cwd=REPO, stdout=fh,
                                stderr=subprocess.STDOUT,
                                env=_env(data, library, {"MUSICD_LIBRARY_SCAN_ON_START": "never", **extra}))
    try:
        out["startup_to_first_answer_s"] = round(wait_first_answer(port, proc, t0, log), 2)
        time.sleep(args.settle)
        with Sampler(proc.pid, 0.2) as s:
            time.sleep(3)
        out["idle"] = _summary(s.samples)
        out["idle"]["by_mapping_mib"] = mapping_breakdown(proc.pid, str(data))
        base = f"http://127.0.0.1:{port}"
        with Sampler(proc.pid) as s:
            if args.load_cmd:
                cmd = args.load_cmd.format(base=base, user=USER, password=PASSWORD, pid=proc.pid)
                r = subprocess.run(cmd, shell=True, capture_output=True, text=True, check=False)
                out["load"] = {"cmd": shlex.split(cmd)[:3], "exit": r.returncode, "stderr_tail": r.stderr[-1500:]}
            elif args.load == "builtin":
                out["load"] = builtin_load(port, args.clients, args.duration, args.seed)
            out["load_by_mapping_mib"] = mapping_breakdown(proc.pid, str(data))
        out["under_load"] = _summary(s.samples)
        time.sleep(args.settle)
        with Sampler(proc.pid, 0.2) as s:
            time.sleep(3)
        out["idle_after_load"] = _summary(s.samples)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(work, ignore_errors=True)  # the data dir too, unless --data put it elsewhere
    out["loadavg_at_end"] = [round(x, 1) for x in os.getloadavg()]
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
