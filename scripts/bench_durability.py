#!/usr/bin/env python3
"""Durability benchmark: what durable play events cost, and what kill -9 loses of acknowledged writes.

    .venv/bin/python scripts/bench_durability.py [--repo /work/main] [--sections journal,cost,crash]
        [--requests 1000] [--clients 8] [--duration 8] [--crashes 100] [--workers 6] [--seed 1] [--work DIR]

Sections (prints one JSON object):
- journal: in this process, the price of one journal append on this box: musicd's (an INSERT transaction
  into the WAL database through the writer connection, synchronous=NORMAL) against synchronous=FULL, and
  against an append-only file with write(2) alone (what NORMAL promises) or with fsync (what FULL does).
- cost: a real server of --repo's code: p50/p99 latency of `POST /v1/me/player/events` (one event) and
  `GET /rest/scrobble` one request at a time, then events per second with --clients connections.
  Run it once with --repo pointing at the old code (it needs its own .venv) and once without: before/after.
- crash: --crashes times: mixed load (v1 plays, v1 start+progress plays, Subsonic scrobbles, /v1 playlist
  adds) from --workers connections, kill -9 of the server process tree at a random moment, restart, and
  check every acknowledged write is there. Reports acknowledged writes lost (target 0), writes that landed
  without an acknowledgement (requests in flight at the kill: allowed), and count mismatches.

The library is musicd's test library (real audio, built once into --work); users and the scan are made
with --repo's own `musicd` command, so the database is that code's.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import http.client
import json
import os
import random
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from musicd.devtools.library_builder import build_test_library  # noqa: E402
from musicd.devtools.processes import kill_tree, process_tree  # noqa: E402

USERS = {"alice": "alice-password", "bob": "bob-password", "carol": "carol-password"}  # guests' plays are not kept
Key = tuple[str, str]


def pct(xs: list[float], p: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return round(xs[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))], 3)


def stats(ms: list[float]) -> dict[str, float]:
    return {"p50_ms": pct(ms, 50), "p99_ms": pct(ms, 99), "n": len(ms)}


def tree_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) the process and its children have used, those that exited included:
    steadier than latency on a shared, busy machine."""
    total = 0.0
    for p in process_tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")  # utime stime cutime cstime
    return total


def start_threads(target: Any, args: list[tuple[Any, ...]]) -> list[threading.Thread]:
    """One started thread per argument tuple."""
    threads = [threading.Thread(target=target, args=a) for a in args]
    for t in threads:
        t.start()
    return threads


# ---- journal: the primitives, in process ----

def journal_section(work: Path, n: int) -> dict[str, Any]:
    from musicd.store.db import Database
    from musicd.store.history import HistoryRepository
    from musicd.store.migrations import migrate

    async def sqlite_append(sync: str) -> list[float]:
        db = Database(work / f"journal-{sync}.db")
        await db.open()
        await migrate(db)
        await db.writer.execute(f"PRAGMA synchronous={sync}")
        repo, out = HistoryRepository(db), []
        for i in range(n):
            t0 = time.perf_counter()
            await repo.append([("user", f"track{i % 50}", "progress", time.time(), i, i, None, "bench")])
            out.append((time.perf_counter() - t0) * 1000)
        await db.close()
        return out

    def file_append(sync: bool) -> list[float]:
        fd, out = os.open(work / f"journal-{sync}.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), []
        for i in range(n):
            line = json.dumps(["user", f"track{i % 50}", "progress", time.time(), i, i, None, "bench"]) + "\n"
            t0 = time.perf_counter()
            os.write(fd, line.encode())
            if sync:
                os.fsync(fd)
            out.append((time.perf_counter() - t0) * 1000)
        os.close(fd)
        return out

    return {"sqlite_wal_normal (musicd)": stats(asyncio.run(sqlite_append("NORMAL"))),
            "sqlite_wal_full": stats(asyncio.run(sqlite_append("FULL"))),
            "file_write": stats(file_append(False)), "file_write_fsync": stats(file_append(True))}


# ---- a server of --repo's code ----

class Server:
    def __init__(self, repo: Path, work: Path, library: Path) -> None:
        self.repo, self.work, self.library = repo, work, library
        self.data = work / "data"
        self.python = str(repo / ".venv" / "bin" / "python")
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("MUSICD_")} | {
            "MUSICD_DATA_DIR": str(self.data), "MUSICD_LIBRARY_FOLDERS": str(library),
            "MUSICD_LIBRARY_SCAN_WORKERS": "2", "MUSICD_LIBRARY_SCAN_ON_START": "never",
            "MUSICD_TRANSCODE_PRE_TRANSCODE": "false", "MUSICD_TRANSCODE_POOL_SIZE": "0",
            "MUSICD_AUTH_LOGIN_PER_MINUTE": "600", "MUSICD_LOG_LEVEL": "warning",
            "MUSICD_AUTH_ACCESS_TOKEN_MINUTES": "1440",  # a 100-crash run outlives a 15-minute token
            # The per-user rate limits (50 writes/s) would measure the limiter, not the writes.
            "MUSICD_AUTH_WRITES_PER_SECOND": "1000000", "MUSICD_AUTH_READS_PER_SECOND": "1000000"}
        if "[analysis]" in (repo / "config.example.toml").read_text():  # code older than it refuses the key
            self.env["MUSICD_ANALYSIS_BACKGROUND"] = "false"  # its ffmpeg would count as the requests' CPU
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.tokens: dict[str, str] = {}

    def musicd(self, *args: str, stdin: str | None = None) -> None:
        subprocess.run([self.python, "-m", "musicd", *args], env=self.env, cwd=self.repo, check=True,
                       input=stdin.encode() if stdin else None, capture_output=True)

    def prepare(self) -> None:
        for name, pw in USERS.items():
            self.musicd("user", "add", name, "--role", "user", "--password-stdin", stdin=pw + "\n")
        self.musicd("scan")

    def start(self) -> float:
        """Start and wait for /health; returns the seconds it took."""
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        t0 = time.monotonic()
        log = (self.work / "server.log").open("ab")
        self.proc = subprocess.Popen([self.python, "-m", "musicd", "serve", "--port", str(self.port)],
                                     env=self.env, cwd=self.repo, stdout=log, stderr=subprocess.STDOUT)
        while True:
            if self.proc.poll() is not None:
                sys.exit(f"the server exited: see {self.work / 'server.log'}")
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                c.request("GET", "/health")
                if c.getresponse().status == 200:
                    return time.monotonic() - t0
            except OSError:
                pass
            if time.monotonic() - t0 > 60:
                sys.exit("the server did not answer /health in 60 s")
            time.sleep(0.05)

    def stop(self, kill: bool = False) -> None:
        assert self.proc is not None
        if kill:
            kill_tree(self.proc.pid)
        else:
            self.proc.terminate()
        self.proc.wait(timeout=30)

    def conn(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def token(self, name: str) -> str:
        if name not in self.tokens:
            c = self.conn()
            c.request("POST", "/v1/auth/login", body=json.dumps({"username": name, "password": USERS[name]}),
                      headers={"Content-Type": "application/json"})
            self.tokens[name] = json.loads(c.getresponse().read())["access_token"]
        return self.tokens[name]

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        with sqlite3.connect(f"file:{self.data / 'musicd.db'}?mode=ro", uri=True) as db:
            return db.execute(sql).fetchall()


class Client:
    """One keep-alive connection as one user: /v1 calls with a Bearer token, /rest with a salted token."""

    def __init__(self, server: Server, name: str, device: str) -> None:
        self.c = server.conn()
        self.name, self.device = name, device
        self.auth = {"Authorization": f"Bearer {server.token(name)}", "Content-Type": "application/json"}
        salt = os.urandom(6).hex()
        self.rest = {"u": name, "s": salt, "t": hashlib.md5((USERS[name] + salt).encode()).hexdigest(),
                     "v": "1.16.1", "c": "bench", "f": "json"}

    def post(self, path: str, body: Any) -> int:
        self.c.request("POST", path, body=json.dumps(body), headers=self.auth)
        r = self.c.getresponse()
        r.read()
        return r.status

    def events(self, *events: dict[str, Any]) -> bool:
        return self.post("/v1/me/player/events", {"events": [{**e, "device_id": self.device} for e in events]}) == 202

    def scrobble(self, track_id: str) -> bool:
        self.c.request("GET", "/rest/scrobble?" + urlencode({**self.rest, "id": track_id}))
        r = self.c.getresponse()
        return r.status == 200 and json.loads(r.read())["subsonic-response"]["status"] == "ok"


# ---- cost ----

def _one_event(c: Client, tracks: list[tuple[str, float]], i: int) -> bool:
    tid, d = tracks[(i // 3) % len(tracks)]
    step = i % 3  # start, progress past half, end: a play every three events
    ms = [0, int(d * 600), int(d * 1000)][step]
    return c.events({"track_id": tid, "event": ["start", "progress", "end"][step], "position_ms": ms, "ms_played": ms})


def _concurrent(server: Server, call: Any, label: str, tracks: list[tuple[str, float]], clients: int,
                duration: float) -> dict[str, Any]:
    lat: list[float] = []
    done = Counter[str]()
    lock = threading.Lock()
    conns = [Client(server, "bob", f"bench-{label}-{w}") for w in range(clients)]  # logins before the clock runs
    stop = time.monotonic() + duration

    def worker(w: int) -> None:
        c, i, mine = conns[w], 0, []
        while time.monotonic() < stop:
            t0 = time.perf_counter()
            ok = call(c, tracks, i + w)
            mine.append((time.perf_counter() - t0) * 1000)
            i += 1
            with lock:
                done["ok" if ok else "errors"] += 1
        with lock:
            lat.extend(mine)

    assert server.proc is not None
    t0, cpu0 = time.monotonic(), tree_cpu_s(server.proc.pid)
    for t in start_threads(worker, [(w,) for w in range(clients)]):
        t.join()
    wall, cpu = time.monotonic() - t0, tree_cpu_s(server.proc.pid) - cpu0
    return {"clients": clients, "events_per_s": round(done["ok"] / wall, 1), "errors": done["errors"], **stats(lat),
            "server_cpu_ms_per_event": round(cpu * 1000 / max(1, done["ok"]), 3)}


def cost_section(server: Server, tracks: list[tuple[str, float]], requests: int, clients: int, duration: float
                 ) -> dict[str, Any]:
    out: dict[str, Any] = {}
    calls = {"v1_events": _one_event, "rest_scrobble": lambda c, t, i: c.scrobble(t[i % len(t)][0])}
    for name, call in calls.items():
        c = Client(server, "alice", f"bench-{name}")
        for i in range(20):  # warm-up
            call(c, tracks, i)
        times, errors = [], 0
        assert server.proc is not None
        cpu0 = tree_cpu_s(server.proc.pid)
        for i in range(requests):
            t0 = time.perf_counter()
            errors += not call(c, tracks, i)
            times.append((time.perf_counter() - t0) * 1000)
        cpu_ms = (tree_cpu_s(server.proc.pid) - cpu0) * 1000 / requests
        out[name] = {"sequential": {**stats(times), "errors": errors, "server_cpu_ms_per_event": round(cpu_ms, 3)},
                     "concurrent": _concurrent(server, call, name, tracks, clients, duration)}
    return out


# ---- crash ----

class Load:
    """Mixed load until the server dies; remembers what was acknowledged."""

    def __init__(self, server: Server, tracks: list[tuple[str, float]], playlists: dict[str, str],
                 user_ids: dict[str, str], seed: int) -> None:
        self.server, self.tracks, self.playlists, self.user_ids = server, tracks, playlists, user_ids
        self.rng = random.Random(seed)
        self.plays: Counter[Key] = Counter()
        self.adds: Counter[Key] = Counter()
        self.lock = threading.Lock()

    def worker(self, w: int, seed: int) -> None:
        rng = random.Random(seed)
        name = ("alice", "bob", "carol")[w % 3]
        try:
            c = Client(self.server, name, f"w{w}")
            while True:
                tid, d = rng.choice(self.tracks)
                ms, op = int(d * 1000), rng.choice(("play", "open", "scrobble", "add"))
                if op == "play":
                    ok = c.events({"track_id": tid, "event": "start"},
                                  {"track_id": tid, "event": "end", "position_ms": ms, "ms_played": ms})
                elif op == "open":
                    ok = c.events({"track_id": tid, "event": "start"}) and c.events(
                        {"track_id": tid, "event": "progress", "position_ms": ms * 6 // 10, "ms_played": ms * 6 // 10})
                elif op == "scrobble":
                    ok = c.scrobble(tid)
                else:
                    uris = {"uris": [f"musicd:track:{tid}"]}
                    ok = c.post(f"/v1/playlists/{self.playlists[name]}/tracks", uris) == 201
                if ok:
                    with self.lock:
                        if op == "add":
                            self.adds[self.playlists[name], tid] += 1
                        else:
                            self.plays[self.user_ids[name], tid] += 1
        except (OSError, http.client.HTTPException, json.JSONDecodeError, KeyError):
            return  # the server died under us

    def run_until_killed(self, seconds: float, workers: int) -> None:
        threads = start_threads(self.worker, [(w, self.rng.random()) for w in range(workers)])
        time.sleep(seconds)
        self.server.stop(kill=True)
        for t in threads:
            t.join()


def _diff(acked: Counter[Key], present: Counter[Key]) -> tuple[int, int]:
    """(acknowledged but missing, present but never acknowledged)."""
    keys = set(acked) | set(present)
    return (sum(max(0, acked[k] - present[k]) for k in keys), sum(max(0, present[k] - acked[k]) for k in keys))


def crash_section(server: Server, tracks: list[tuple[str, float]], crashes: int, workers: int, seed: int
                  ) -> dict[str, Any]:
    user_ids = {n: server.rows(f"SELECT id FROM users WHERE username = '{n}'")[0][0] for n in USERS}
    playlists = {}
    for name in USERS:
        c = Client(server, name, "setup")
        c.c.request("POST", "/v1/me/playlists", body=json.dumps({"name": "crash bench"}), headers=c.auth)
        playlists[name] = json.loads(c.c.getresponse().read())["id"]
    load = Load(server, tracks, playlists, user_ids, seed)
    restarts: list[float] = []
    lost, extra, crashes_with_loss, mismatches, t0 = (0, 0), (0, 0), 0, 0, time.monotonic()
    for _ in range(crashes):
        load.run_until_killed(load.rng.uniform(0.0, 1.5), workers)
        restarts.append(server.start())
        plays = Counter({(u, t): n for u, t, n in server.rows(
            "SELECT user_id, track_id, count(*) FROM listening_history GROUP BY user_id, track_id")})
        adds = Counter({(p, t): n for p, t, n in server.rows(
            "SELECT playlist_id, track_id, count(*) FROM playlist_entries GROUP BY playlist_id, track_id")})
        (lost_plays, extra_plays), (lost_adds, extra_adds) = _diff(load.plays, plays), _diff(load.adds, adds)
        crashes_with_loss += (lost_plays, lost_adds) != lost
        lost, extra = (lost_plays, lost_adds), (extra_plays, extra_adds)
        totals = server.rows("SELECT (SELECT count(*) FROM listening_history), (SELECT sum(play_count) FROM tracks),"
                             " (SELECT sum(play_count) FROM user_track_plays)")[0]
        mismatches += len({x or 0 for x in totals}) != 1
    server.stop()
    return {"crashes": crashes, "workers": workers, "wall_s": round(time.monotonic() - t0, 1),
            "acknowledged": {"plays": sum(load.plays.values()), "playlist_adds": sum(load.adds.values())},
            "acknowledged_lost": {"plays": lost[0], "playlist_adds": lost[1]},
            "crashes_that_lost_writes": crashes_with_loss,
            "present_unacknowledged": {"plays": extra[0], "playlist_adds": extra[1]},
            "history_count_mismatches": mismatches, "restart_s": {"p50": pct(restarts, 50), "p99": pct(restarts, 99)}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repo", type=Path, default=REPO, help="checkout whose server to run (needs .venv)")
    ap.add_argument("--sections", default="journal,cost,crash")
    ap.add_argument("--requests", type=int, default=1000, help="sequential requests per endpoint")
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--duration", type=float, default=8.0, help="seconds of concurrent load per endpoint")
    ap.add_argument("--crashes", type=int, default=100)
    ap.add_argument("--workers", type=int, default=6)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--work", type=Path, help="working dir (default: a new temporary one)")
    args = ap.parse_args()
    sections = set(args.sections.split(","))
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-durability-"))
    work.mkdir(parents=True, exist_ok=True)
    repo = args.repo.resolve()
    commit = subprocess.run(["git", "-C", str(repo), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    out: dict[str, Any] = {"repo": str(repo), "commit": commit, "work": str(work)}
    if "journal" in sections:
        out["journal"] = journal_section(work, args.requests)
    if sections & {"cost", "crash"}:
        library = build_test_library(work / "Music", cache_dir=work / "templates").root
        for name in ("cost", "crash"):
            if name not in sections:
                continue
            server = Server(repo, work / name, library)
            server.work.mkdir(exist_ok=True)
            server.prepare()
            server.start()
            tracks = [(t, float(d)) for t, d in server.rows("SELECT id, duration FROM tracks WHERE duration > 0")]
            if name == "cost":
                out["cost"] = cost_section(server, tracks, args.requests, args.clients, args.duration)
                server.stop()
            else:
                out["crash"] = crash_section(server, tracks, args.crashes, args.workers, args.seed)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
