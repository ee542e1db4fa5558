#!/usr/bin/env python3
"""The realtime channel under load: 1,000 concurrent WebSocket connections, latency from a playlist change
to every subscriber, server memory per connection, and friend-activity fan-out from a play start.

    .venv/bin/python scripts/bench_realtime.py [--connections 1000] [--users 100] [--changes 30] [--plays 20]
    .venv/bin/python scripts/bench_realtime.py --base-url http://127.0.0.1:4747 --user admin --password PW

Without --base-url it starts its own server (`musicd serve` on a free loopback port, a fresh data dir, the
demo library). It creates `--users` accounts through the admin API and opens `--connections` sockets spread
evenly over them, all subscribed to one public playlist; its owner shares their listening and every other
account follows them. Then:
- playlist change: the owner adds a track (`--changes` times, 0.2 s apart); latency is from just before
  the HTTP request to each socket's `playlist_changed` with the new snapshot (and to the last socket);
- friend activity: the owner reports a play start (`--plays` times); latency to each follower socket's
  `friend_activity` with that track (and to the last one);
- memory: the server's resident memory (process_resident_memory_bytes in /metrics) with every socket open
  minus before any was, per connection.
The clients run in this one process on the same machine: their own decoding time is in the figures.
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import websockets

REPO = Path(__file__).resolve().parents[1]


def _pct(xs: list[float], p: float) -> float:
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))]


def _summary(xs: list[float]) -> dict[str, float]:
    ms = [x * 1000 for x in xs]
    return {"n": len(ms), "p50_ms": round(_pct(ms, 50), 2), "p95_ms": round(_pct(ms, 95), 2),
            "p99_ms": round(_pct(ms, 99), 2), "max_ms": round(max(ms), 2) if ms else float("nan"),
            "mean_ms": round(statistics.fmean(ms), 2) if ms else float("nan")}


def _metric(base: str, name: str, labels: str = "") -> float:
    want = f"{name}{{{labels}}}" if labels else name
    for line in httpx.get(f"{base}/metrics", timeout=30).text.splitlines():
        if line.startswith(want + " "):
            return float(line.split()[-1])
    return 0.0


@contextmanager
def _own_server(admin_password: str):  # type: ignore[no-untyped-def]
    """A server on a free port with a fresh data dir and the demo library; stopped at the end."""
    work = Path(tempfile.mkdtemp(prefix="bench-realtime-"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("MUSICD_")}
    env.update({"MUSICD_DATA_DIR": str(work / "data"), "MUSICD_LIBRARY_FOLDERS": str(work / "music"),
                "MUSICD_TRANSCODE_PRE_TRANSCODE": "false", "MUSICD_LOG_LEVEL": "warning",
                "MUSICD_AUTH_LOGIN_PER_MINUTE": "10000", "MUSICD_AUTH_WRITES_PER_SECOND": "10000"})
    py = [sys.executable, "-m", "musicd"]
    subprocess.run([*py, "demo-library", str(work / "music")], env=env, check=True, capture_output=True, cwd=REPO)
    subprocess.run([*py, "user", "add", "admin", "--role", "admin", "--password-stdin"], input=admin_password + "\n",
                   text=True, env=env, check=True, capture_output=True, cwd=REPO)
    subprocess.run([*py, "scan"], env=env, check=True, capture_output=True, cwd=REPO)
    log = (work / "server.log").open("wb")
    proc = subprocess.Popen([*py, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT,
                            cwd=REPO)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the server did not start:\n" + (work / "server.log").read_text())
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        shutil.rmtree(work, ignore_errors=True)


class Sock:
    """One realtime connection that records when each message type arrived."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.seen: dict[tuple[str, str], float] = {}
        self.waiters: dict[tuple[str, str], asyncio.Future[None]] = {}

    async def read(self) -> None:
        async for raw in self.ws:
            now = time.perf_counter()
            msg = json.loads(raw)
            kind, data = msg["type"], msg["data"]
            if kind == "ping":
                await self.ws.send('{"type":"pong"}')
                continue
            key = None
            if kind == "playlist_changed":
                key = (kind, data["snapshot_id"])
            elif kind == "friend_activity":
                key = (kind, data["track"]["id"])
            elif kind in ("subscribed", "ready"):
                key = (kind, "")
            if key is not None:
                self.seen[key] = now
                fut = self.waiters.pop(key, None)
                if fut is not None and not fut.done():
                    fut.set_result(None)

    def wait(self, key: tuple[str, str]) -> asyncio.Future[None]:
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if key in self.seen:
            fut.set_result(None)
        else:
            self.waiters[key] = fut
        return fut


async def _open(ws_url: str, token: str, topic: str) -> Sock:
    ws = await websockets.connect(ws_url, max_size=None, ping_interval=None, open_timeout=60)
    s = Sock(ws)
    asyncio.get_running_loop().create_task(s.read())
    await ws.send(json.dumps({"type": "auth", "token": token}))
    await asyncio.wait_for(s.wait(("ready", "")), 60)
    await ws.send(json.dumps({"type": "subscribe", "topic": topic}))
    await asyncio.wait_for(s.wait(("subscribed", "")), 60)
    return s


def _setup(base: str, admin: str, password: str, n_users: int) -> dict[str, Any]:
    """Accounts, a public playlist of the first one (who shares their listening), everyone else following them."""
    http = httpx.Client(base_url=base, timeout=60)
    login = http.post("/v1/auth/login", json={"username": admin, "password": password})
    login.raise_for_status()
    ah = {"Authorization": f"Bearer {login.json()['access_token']}"}
    tag = secrets.token_hex(3)
    users: list[dict[str, str]] = []
    for i in range(n_users):
        name, pw = f"bench-{tag}-{i}", f"bench-password-{tag}"
        r = http.post("/v1/admin/users", json={"username": name, "password": pw}, headers=ah)
        r.raise_for_status()
        tok = http.post("/v1/auth/login", json={"username": name, "password": pw}).json()["access_token"]
        users.append({"id": r.json()["id"], "token": tok})
    owner = users[0]
    oh = {"Authorization": f"Bearer {owner['token']}"}
    albums = http.get("/v1/browse/new-releases", params={"limit": 50}, headers=oh).json()["albums"]["items"]
    tracks = [t["id"] for a in albums for t in http.get(f"/v1/albums/{a['id']}/tracks", headers=oh).json()["items"]]
    pid = http.post("/v1/me/playlists", json={"name": f"bench {tag}", "public": True}, headers=oh).json()["id"]
    http.put("/v1/me/settings", json={"share_activity": True}, headers=oh).raise_for_status()
    for u in users[1:]:
        http.put("/v1/me/following", params={"type": "user", "ids": owner["id"]},
                 headers={"Authorization": f"Bearer {u['token']}"}).raise_for_status()
    return {"http": http, "users": users, "owner": oh, "tracks": tracks, "playlist": pid}


def _post(ctx: dict[str, Any], path: str, body: dict[str, Any]) -> dict[str, Any]:
    r = ctx["http"].post(path, json=body, headers=ctx["owner"])
    r.raise_for_status()
    return r.json()  # type: ignore[no-any-return]


async def _run(base: str, ctx: dict[str, Any], n_conns: int, n_changes: int, n_plays: int) -> dict[str, Any]:
    users, tracks, pid = ctx["users"], ctx["tracks"], ctx["playlist"]
    n_users = len(users)
    await asyncio.sleep(1.0)
    rss_before = _metric(base, "process_resident_memory_bytes")
    ws_url = base.replace("http://", "ws://").replace("https://", "wss://") + "/v1/realtime"
    t0 = time.perf_counter()
    socks: list[Sock] = []
    owners: list[int] = []
    batch = 50
    for start in range(0, n_conns, batch):
        idx = list(range(start, min(n_conns, start + batch)))
        socks += await asyncio.gather(*(_open(ws_url, users[i % n_users]["token"], f"playlist:{pid}") for i in idx))
        owners += [i % n_users for i in idx]
    connect_s = time.perf_counter() - t0
    await asyncio.sleep(2.0)
    rss_after = _metric(base, "process_resident_memory_bytes")
    open_now = _metric(base, "musicd_realtime_connections")

    # Playlist changes -> every subscriber.
    per: list[float] = []
    last: list[float] = []
    for i in range(n_changes):
        tid = tracks[i % len(tracks)]
        t = time.perf_counter()
        snap = await asyncio.to_thread(_post, ctx, f"/v1/playlists/{pid}/tracks", {"uris": [f"musicd:track:{tid}"]})
        key = ("playlist_changed", snap["snapshot_id"])
        await asyncio.wait_for(asyncio.gather(*(s.wait(key) for s in socks)), 30)
        got = [s.seen[key] - t for s in socks]
        per += got
        last.append(max(got))
        await asyncio.sleep(0.2)

    # Friend activity: a play start of the owner -> every follower's sockets.
    followers = [s for s, u in zip(socks, owners, strict=True) if u != 0]
    fper: list[float] = []
    flast: list[float] = []
    for i in range(n_plays):
        tid = tracks[(i * 7 + 3) % len(tracks)]
        key = ("friend_activity", tid)
        for s in followers:
            s.seen.pop(key, None)
        t = time.perf_counter()
        await asyncio.to_thread(_post, ctx, "/v1/me/player/events", {"track_id": tid, "event": "start"})
        await asyncio.wait_for(asyncio.gather(*(s.wait(key) for s in followers)), 30)
        got = [s.seen[key] - t for s in followers]
        fper += got
        flast.append(max(got))
        await asyncio.sleep(0.3)

    sent = _metric(base, "musicd_realtime_messages_sent_total")
    load = os.getloadavg()
    resyncs = sum(_metric(base, "musicd_realtime_resyncs_total", f'reason="{r}"')
                  for r in ("slow_consumer", "server_overflow", "too_far_behind"))
    for s in socks:
        await s.ws.close()
    return {
        "connections": n_conns, "users": n_users, "connect_seconds": round(connect_s, 2),
        "server_connections_gauge": open_now,
        "server_rss_mb_before": round(rss_before / 1e6, 1), "server_rss_mb_with_connections": round(rss_after / 1e6, 1),
        "server_rss_kb_per_connection": round((rss_after - rss_before) / n_conns / 1024, 1),
        "playlist_change_to_subscriber": _summary(per),
        "playlist_change_to_all_subscribers": _summary(last),
        "playlist_change_target_p99_ms": 100,
        "friend_activity_to_follower": _summary(fper),
        "friend_activity_to_all_followers": _summary(flast),
        "friend_activity_target_p95_ms": 1000,
        "server_messages_sent": sent, "server_resyncs": resyncs,
        "load_average_1m_5m": [round(load[0], 1), round(load[1], 1)],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--base-url")
    ap.add_argument("--user", default="admin")
    ap.add_argument("--password")
    ap.add_argument("--connections", type=int, default=1000)
    ap.add_argument("--users", type=int, default=100)
    ap.add_argument("--changes", type=int, default=30)
    ap.add_argument("--plays", type=int, default=20)
    a = ap.parse_args()
    if a.users < 2 or a.connections < a.users:
        sys.exit("need at least 2 users and one connection per user")
    if a.base_url:
        if not a.password:
            sys.exit("--password is needed with --base-url")
        base = a.base_url.rstrip("/")
        out = asyncio.run(_run(base, _setup(base, a.user, a.password, a.users), a.connections, a.changes, a.plays))
    else:
        pw = secrets.token_urlsafe(12)
        with _own_server(pw) as base:
            out = asyncio.run(_run(base, _setup(base, "admin", pw, a.users), a.connections, a.changes, a.plays))
    out["cpus"] = os.cpu_count()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
