"""Handoff between two `musicd speaker --sink null` processes on this box (issue 14); prints one JSON object.

It starts its own server (a fresh data dir, a library of long FLAC tones, one user), two real speakers
signed in with an API key, starts playback on A with the player API and moves it back and forth `--transfers`
times with `PUT /v1/me/player` (play: true), waiting each time until the new device plays and the old one
is silent.

- handoff latency: from sending the command to the later of "the new device's ffmpeg played its first
  audio" (its first `out_time_us` progress) and "the old device's ffmpeg was killed";
- Jam: four users, each with a null speaker, join one Jam; after `--jam-seconds` the drift between members
  (the spread of "played position minus the timeline" across the four, sampled every 250 ms over the
  last 5 s) and how many corrective seeks they made;
- position error: what the new device really played (its report about 1 s after it started) minus where
  the old one had got to when it stopped, carried forward by the wall time between the two (0 = perfectly
  continuous); the speaker skips its measured start-up lag when it starts, so this is what a listener hears.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from musicd.devtools.speakers import SpeakerProcess, build_long_library  # noqa: E402


def _pct(xs: list[float], p: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))] if s else float("nan")


def _summary(xs: list[float], abs_values: bool = False) -> dict[str, float]:
    v = [abs(x) for x in xs] if abs_values else xs
    return {"n": len(v), "p50_ms": round(_pct(v, 50), 1), "p95_ms": round(_pct(v, 95), 1),
            "p99_ms": round(_pct(v, 99), 1), "max_ms": round(max(v), 1) if v else float("nan"),
            "mean_ms": round(statistics.fmean(v), 1) if v else float("nan")}


def _serve(work: Path) -> tuple[subprocess.Popen[bytes], str, dict[str, str]]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("MUSICD_")}
    env.update({"MUSICD_DATA_DIR": str(work / "data"), "MUSICD_LIBRARY_FOLDERS": str(work / "music"),
                "MUSICD_TRANSCODE_PRE_TRANSCODE": "false", "MUSICD_LOG_LEVEL": "warning",
                "MUSICD_AUTH_LOGIN_PER_MINUTE": "10000", "MUSICD_AUTH_WRITES_PER_SECOND": "10000",
                "MUSICD_DISCOVERY_ADVERTISE": "never"})
    py = [sys.executable, "-m", "musicd"]
    for name in ("bench", "jam1", "jam2", "jam3", "jam4"):
        subprocess.run([*py, "user", "add", name, "--password-stdin"], input=b"bench-password\n", env=env,
                       check=True, capture_output=True, cwd=REPO)
    subprocess.run([*py, "scan"], env=env, check=True, capture_output=True, cwd=REPO)
    proc = subprocess.Popen([*py, "serve", "--port", str(port)], env=env, stdout=(work / "server.log").open("wb"),
                            stderr=subprocess.STDOUT, cwd=REPO, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return proc, base, env
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("the server did not start:\n" + (work / "server.log").read_text())
        time.sleep(0.2)


def _client(base: str, name: str) -> httpx.Client:
    token = httpx.post(f"{base}/v1/auth/login", json={"username": name, "password": "bench-password"},
                       timeout=10).json()["access_token"]
    return httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def _jam(base: str, work: Path, seconds: float) -> dict[str, object]:
    """Four users' null speakers in one Jam; the drift between them after `seconds`."""
    clients = [_client(base, f"jam{i}") for i in range(1, 5)]
    speakers = []
    try:
        for i, c in enumerate(clients):
            key = c.post("/v1/me/api-keys", json={"name": "jam"}).json()["key"]
            speakers.append(SpeakerProcess(base, f"Jam {i + 1}", work / f"state-jam{i}", api_key=key, cwd=REPO))
        for s in speakers:
            s.ready()
        host = clients[0]
        album = host.get("/v1/search", params={"q": "Long Album", "type": "album"}).json()["albums"]["items"][0]
        r = host.put("/v1/me/player/play", params={"device_id": speakers[0].device_id},
                     json={"context_uri": album["uri"]})
        assert r.status_code == 204, r.text
        speakers[0].wait("playing", 15)
        r = host.post("/v1/me/jam", json={"device_id": speakers[0].device_id})
        assert r.status_code == 201, r.text
        code = r.json()["code"]
        for c, s in zip(clients[1:], speakers[1:], strict=True):
            r = c.post("/v1/jam/join", json={"code": code, "device_id": s.device_id})
            assert r.status_code == 200, r.text
        t0 = time.time() * 1000
        time.sleep(seconds)
        window = (t0 + (seconds - 5) * 1000, t0 + seconds * 1000)
        buckets: dict[int, dict[int, float]] = {}
        for i, s in enumerate(speakers):
            for e in s.events:
                if e["event"] == "jam_position" and window[0] <= e["t"] <= window[1]:
                    buckets.setdefault(int(e["t"] // 250), {})[i] = e["drift_ms"]
        spreads = [max(d.values()) - min(d.values()) for d in buckets.values() if len(d) >= 2]
        drifts = [abs(e["drift_ms"]) for s in speakers for e in s.events
                  if e["event"] == "jam_position" and window[0] <= e["t"] <= window[1]]
        return {"members": len(speakers), "seconds": seconds,
                "drift_between_members": _summary(spreads),
                "drift_from_timeline": _summary(drifts),
                "corrective_seeks": sum(1 for s in speakers for e in s.events if e["event"] == "jam_seek")}
    finally:
        for s in speakers:
            s.stop()
        for c in clients:
            c.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--transfers", type=int, default=100)
    ap.add_argument("--settle", type=float, default=0.8, help="seconds each device plays after the handoff")
    ap.add_argument("--jam-seconds", type=float, default=30.0, help="how long the Jam plays (0: no Jam)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-connect-"))
    build_long_library(work / "music", tracks=3, seconds=180.0)
    proc, base, _ = _serve(work)
    speakers: list[SpeakerProcess] = []
    try:
        token = httpx.post(f"{base}/v1/auth/login", json={"username": "bench", "password": "bench-password"},
                           timeout=10).json()["access_token"]
        c = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30)
        key = c.post("/v1/me/api-keys", json={"name": "bench"}).json()["key"]
        speakers = [SpeakerProcess(base, n, work / f"state-{n}", api_key=key, cwd=REPO) for n in ("A", "B")]
        for s in speakers:
            s.ready()
        album = c.get("/v1/search", params={"q": "Long Album", "type": "album"}).json()["albums"]["items"][0]
        src, dst = speakers
        r = c.put("/v1/me/player/play", params={"device_id": src.device_id},
                  json={"context_uri": album["uri"], "position_ms": 1000})
        assert r.status_code == 204, r.text
        src.wait("playing", 15)
        time.sleep(1.5)
        latency: list[float] = []
        errors: list[float] = []
        failures = 0
        for _ in range(args.transfers):
            ms, md = len(src.events), len(dst.events)
            t0 = time.time() * 1000
            r = c.put("/v1/me/player", json={"device_ids": [dst.device_id], "play": True})
            assert r.status_code == 204, r.text
            try:
                stopped = src.wait("stopped", 10, after=ms)
                begun = dst.wait("start", 10, after=md)
                first = dst.wait("playing", 10, after=md)
                latency.append(max(first["t"], stopped["t"]) - t0)
                time.sleep(args.settle)
                since = begun["t"] + 900
                rep = dst.wait("report", 10, lambda e, since=since: e["t"] >= since, after=md)
            except TimeoutError:
                failures += 1
                src, dst = dst, src
                continue
            errors.append(rep["position_ms"] - (stopped["position_ms"] + rep["t"] - stopped["t"]))
            src, dst = dst, src
        for s in speakers:
            s.stop()
        jam = _jam(base, work, args.jam_seconds) if args.jam_seconds > 0 else None
        print(json.dumps({
            "transfers": args.transfers, "failed": failures, "cpus": os.cpu_count(),
            "load_average_1m": round(os.getloadavg()[0], 1),
            "handoff_latency": _summary(latency),
            "position_error": _summary(errors, abs_values=True),
            "position_error_signed_mean_ms": round(statistics.fmean(errors), 1) if errors else None,
            "startup_lag_ms": [e.get("lag_ms") for e in (speakers[0].events + speakers[1].events)
                               if e["event"] == "start"][-1],
            "jam": jam,
        }))
    finally:
        if os.environ.get("BENCH_CONNECT_DUMP"):
            Path(os.environ["BENCH_CONNECT_DUMP"]).write_text(json.dumps([s.events for s in speakers]))
        for s in speakers:
            s.stop()
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()


if __name__ == "__main__":
    main()
