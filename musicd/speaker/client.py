"""`musicd speaker`: a headless device of the server, over HTTP and the realtime channel only.

It signs in (saved refresh token, an API key, or a pairing code approved by the user), registers as a
device, plays what `player_state` says when it is the active device and falls silent when it is not,
and reports the position it really played (`player_report`, docs/realtime.md). It reconnects with
backoff (0.5 s doubling to 30 s, with jitter) while its sound output plays on. It prints one JSON line per
thing that happened on stdout (`ready`, `pairing`, `playing`, `stopped`, `ended`, `disconnected`, ...)
with `t`, the wall time in ms.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import websockets
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, InvalidStatus

from musicd.speaker.output import Output

__all__ = ["Speaker", "SpeakerSettings"]

_REPORT_S = 1.0  # how often the active device reports while playing
_CLOSE_NO_RETRY = {4002, 4005}  # auth_required (a bug), session_revoked (sign in again)
_DRIFT_MS = 400  # a state that puts the position further than this from what plays makes the speaker seek
_JAM_DRIFT_MS = 120  # in a Jam, drift from the timeline beyond this is corrected by a seek...
_JAM_SETTLE_S = 3.0  # ...at most this often (the output's progress is coarse for a moment after a start)


def emit(event: str, **data: Any) -> None:
    """One line of the speaker's event log (stdout)."""
    sys.stdout.write(json.dumps({"event": event, "t": int(time.time() * 1000), **data}) + "\n")
    sys.stdout.flush()


class SpeakerSettings:
    def __init__(self, server: str, name: str, sink: str, state_dir: Path, api_key: str | None = None,
                 ffmpeg: str = "ffmpeg") -> None:
        self.server = server.rstrip("/")
        self.name = name
        self.sink = sink
        self.state_dir = state_dir
        self.api_key = api_key
        self.ffmpeg = ffmpeg


class Speaker:
    def __init__(self, cfg: SpeakerSettings) -> None:
        self.cfg = cfg
        self.http = httpx.AsyncClient(base_url=cfg.server, timeout=10)
        self.output = Output(cfg.sink, self._ended, self._started, cfg.ffmpeg)
        self.device_id: str | None = None
        self.access: str | None = None
        self.refresh: str | None = None
        self.expires_at = 0.0
        self.version = 0
        self.state: dict[str, Any] = {}
        self.ws: ClientConnection | None = None
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[Any]] = set()
        self.clock_offset_ms = 0.0  # server clock minus ours (time_sync)
        self.jam: dict[str, Any] | None = None
        self._jam_task: asyncio.Task[None] | None = None
        self._load()

    # ---- credentials ----

    @property
    def _file(self) -> Path:
        return self.cfg.state_dir / "speaker.json"

    def _load(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            saved = json.loads(self._file.read_text())
            self.device_id, self.refresh = saved.get("device_id"), saved.get("refresh_token")

    def _save(self) -> None:
        self.cfg.state_dir.mkdir(parents=True, exist_ok=True)
        tmp = self._file.with_suffix(".tmp")
        tmp.write_text(json.dumps({"device_id": self.device_id, "refresh_token": self.refresh}))
        tmp.chmod(0o600)
        tmp.replace(self._file)

    def _took(self, pair: dict[str, Any]) -> None:
        self.access, self.refresh = pair["access_token"], pair["refresh_token"]
        self.expires_at = time.time() + float(pair["expires_in"])
        self._save()

    async def sign_in(self) -> None:
        """A fresh access token: from the saved refresh token, an API key, or a pairing code."""
        if self.refresh:
            r = await self.http.post("/v1/auth/refresh", json={"refresh_token": self.refresh})
            if r.status_code == 200:
                self._took(r.json())
                return
            if r.status_code not in (400, 401):
                r.raise_for_status()
            self.refresh = None
        if self.cfg.api_key:
            r = await self.http.post("/v1/speakers/token", json={"api_key": self.cfg.api_key, "name": self.cfg.name})
            if r.status_code != 200:
                raise SystemExit(f"the server refused the API key: {r.text}")
            self._took(r.json())
            return
        await self._pair()

    async def _pair(self) -> None:
        r = await self.http.post("/v1/speakers/pairings", json={"name": self.cfg.name})
        r.raise_for_status()
        p = r.json()
        emit("pairing", code=p["code"], expires_in=p["expires_in"])
        print(f"Pairing code: {p['code']} (approve it in the web player or with `musicd speaker approve "
              f"{p['code']} --user NAME`)", file=sys.stderr)
        deadline = time.monotonic() + p["expires_in"]
        while time.monotonic() < deadline:
            await asyncio.sleep(p["interval"])
            r = await self.http.post(f"/v1/speakers/pairings/{p['pairing_id']}/token", json={"secret": p["secret"]})
            if r.status_code == 200:
                self._took(r.json())
                emit("paired")
                return
            if r.json().get("error", {}).get("code") != "authorization_pending":
                raise SystemExit(f"pairing failed: {r.text}")
        raise SystemExit("the pairing code expired")

    @property
    def _auth_header(self) -> str:
        return f"Authorization: Bearer {self.access}\r\n"

    # ---- the channel ----

    async def run(self) -> None:
        """Sign in, connect, and keep connected (with backoff) until cancelled."""
        backoff = 0.5
        try:
            await self.sign_in()
            while True:
                try:
                    await self._session()
                    backoff = 0.5
                except ConnectionClosed as e:
                    code = e.rcvd.code if e.rcvd else None
                    emit("disconnected", code=code)
                    if code in _CLOSE_NO_RETRY:
                        raise SystemExit(f"the server closed the connection: {e.rcvd}") from None
                    if code == 4004:
                        await self.sign_in()
                        continue
                except (OSError, InvalidStatus, httpx.TransportError, TimeoutError) as e:
                    emit("disconnected", error=type(e).__name__)
                await asyncio.sleep(backoff * (0.5 + random.random()))
                backoff = min(backoff * 2, 30.0)
                with contextlib.suppress(httpx.TransportError, httpx.HTTPStatusError):
                    if time.time() > self.expires_at - 60:
                        await self.sign_in()
        finally:
            await self.output.stop()
            await self.http.aclose()

    async def _session(self) -> None:
        url = self.cfg.server.replace("http://", "ws://").replace("https://", "wss://") + "/v1/realtime"
        async with websockets.connect(url, max_size=None, open_timeout=10) as ws:
            self.ws = ws
            await ws.send(json.dumps({"type": "auth", "token": self.access}))
            reader = asyncio.create_task(self._read(ws))
            tasks = [reader, asyncio.create_task(self._report_loop()), asyncio.create_task(self._refresh_loop())]
            try:
                reg = {"type": "device_register", "name": self.cfg.name, "kind": "speaker"}
                if self.device_id:
                    reg["device_id"] = self.device_id
                ack = await self._request(reg)
                if self.device_id != ack["device"]["id"]:
                    self.device_id = ack["device"]["id"]
                    self._save()
                await self._sync_clock()
                emit("ready", device_id=self.device_id)
                await self._apply(ack["state"])
                done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                for t in done:
                    t.result()
            finally:
                self.ws = None
                for t in tasks:
                    t.cancel()
                for t in tasks:
                    with contextlib.suppress(BaseException):
                        await t
                for f in self._waiting.values():
                    f.cancel()
                self._waiting.clear()

    async def _request(self, msg: dict[str, Any], within: float = 10) -> dict[str, Any]:
        ws = self.ws
        if ws is None:
            raise ConnectionError("not connected")
        ref = next(self._ids)
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[ref] = fut
        await ws.send(json.dumps({**msg, "id": ref}))
        try:
            return await asyncio.wait_for(fut, within)
        finally:
            self._waiting.pop(ref, None)

    async def _read(self, ws: ClientConnection) -> None:
        async for raw in ws:
            msg = json.loads(raw)
            kind, data = msg.get("type"), msg.get("data") or {}
            if kind == "ping":
                await ws.send(json.dumps({"type": "pong"}))
            elif kind in ("ack", "error") and (fut := self._waiting.get(data.get("ref"))) is not None:
                if not fut.done():
                    if kind == "ack":
                        fut.set_result(data.get("result") or {})
                    else:
                        fut.set_exception(RuntimeError(data.get("code", "error")))
            elif kind == "player_state":
                self._spawn(self._apply(data))
            elif kind == "jam_state":
                self._jam_state(data)
            elif kind == "resync_required":
                self._spawn(self._resync())

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _resync(self) -> None:
        with contextlib.suppress(Exception):
            await self._apply((await self._request({"type": "player_get"}))["state"])

    async def _refresh_loop(self) -> None:
        """A fresh access token on the open socket before the current one expires."""
        while True:
            await asyncio.sleep(max(5.0, self.expires_at - time.time() - 60))
            await self.sign_in()
            await self._request({"type": "auth", "token": self.access})

    # ---- playing ----

    async def _apply(self, st: dict[str, Any]) -> None:
        """Play, seek, pause or fall silent as the state says (newer versions only)."""
        if self.jam is not None:
            return  # in a Jam the Jam's timeline rules
        async with self._lock:
            v = int(st.get("state_version", 0))
            if v < self.version:
                return
            self.version, self.state = v, st
            mine = st.get("device_id") == self.device_id and st.get("track_id") is not None
            if not mine or not st.get("is_playing"):
                if self.output.playing:
                    pos = await self.output.stop()
                    emit("stopped", track_id=self.output.track_id, position_ms=pos,
                         reason="transfer" if not mine else "pause", state_version=v)
                return
            # Where the track is now, plus the output's measured start-up lag: the audio starts in line.
            target = int(st["position_ms"]) + max(0, int(time.time() * 1000) - int(st["timestamp"]))
            target += int(self.output.lag_ms)
            duration = int(st.get("duration_ms") or 0)
            if duration:
                target = min(target, duration)
            same = self.output.playing and self.output.track_id == st["track_id"]
            if same and st.get("cause") == "report" and self.output.volume == st.get("volume", 100):
                return
            if same and abs(self.output.position_ms() - target) < _DRIFT_MS and \
                    self.output.volume == st.get("volume", 100):
                return
            url = f"{self.cfg.server}/v1/tracks/{st['track_id']}/stream?quality=original"
            await self.output.play(url, self._auth_header, st["track_id"], target, int(st.get("volume", 100)))
            emit("start", track_id=st["track_id"], position_ms=target, state_version=v, cause=st.get("cause"),
                 lag_ms=round(self.output.lag_ms))

    def _started(self, track_id: str, position_ms: int) -> None:
        emit("playing", track_id=track_id, position_ms=position_ms, state_version=self.version)
        self._spawn(self._report())

    async def _ended(self, track_id: str) -> None:
        emit("ended", track_id=track_id, position_ms=self.output.position_ms())
        if self.jam is None:
            await self._report(ended=True)

    async def _report_loop(self) -> None:
        while True:
            await asyncio.sleep(_REPORT_S)
            if self.output.playing and self.jam is None:
                await self._report()

    # ---- group listening (Jam): the server's timeline, docs/connect.md ----

    async def _sync_clock(self) -> None:
        """The server's clock against ours, from the quickest of a few round trips (as NTP does)."""
        best: tuple[float, float] | None = None
        for _ in range(5):
            t0 = time.time() * 1000
            got = await self._request({"type": "time_sync"})
            t1 = time.time() * 1000
            if best is None or t1 - t0 < best[0]:
                best = (t1 - t0, float(got["server_time"]) - (t0 + t1) / 2)
        assert best is not None
        self.clock_offset_ms = best[1]

    def _server_now(self) -> float:
        return time.time() * 1000 + self.clock_offset_ms

    def _jam_state(self, data: dict[str, Any]) -> None:
        mine = any(m.get("device_id") == self.device_id for m in data.get("members", ()))
        was = self.jam
        self.jam = data if mine and not data.get("ended") else None
        if self.jam is not None and (self._jam_task is None or self._jam_task.done()):
            emit("jam_joined", jam_id=data["jam_id"])
            self._jam_task = asyncio.get_running_loop().create_task(self._jam_loop(joining=True))
        elif self.jam is None and was is not None:
            emit("jam_left", jam_id=was["jam_id"])
            self._spawn(self.output.stop())

    async def _jam_loop(self, joining: bool = False) -> None:
        """Follow the Jam's timeline: start each track on time, seek when drifting too far from it."""
        started = 0.0
        if joining:
            await self.output.stop()  # what played before joining gives way to the Jam's timeline
        while (j := self.jam) is not None:
            track, playing = j.get("track_id"), j.get("is_playing")
            if not track or not playing:
                if self.output.playing:
                    await self.output.stop()
                await asyncio.sleep(0.1)
                continue
            expected = self._server_now() - j["start_at"]
            if self.output.track_id != track or not self.output.playing:
                ahead = -(expected + self.output.lag_ms)
                if ahead > 0:  # the track starts in the future: be there on time
                    await asyncio.sleep(min(ahead, 500) / 1000)
                    continue
                url = f"{self.cfg.server}/v1/tracks/{track}/stream?quality=original"
                start = int(expected + self.output.lag_ms)
                await self.output.play(url, self._auth_header, track, start, self.output.volume)
                emit("jam_start", track_id=track, position_ms=start, lag_ms=round(self.output.lag_ms))
                started = time.monotonic()
            elif time.monotonic() - started > _JAM_SETTLE_S:
                drift = self.output.position_ms() - expected
                emit("jam_position", track_id=track, position_ms=self.output.position_ms(),
                     expected_ms=round(expected), drift_ms=round(drift))
                if abs(drift) > _JAM_DRIFT_MS:
                    start = int(expected + self.output.lag_ms)
                    await self.output.play(f"{self.cfg.server}/v1/tracks/{track}/stream?quality=original",
                                           self._auth_header, track, start, self.output.volume)
                    emit("jam_seek", track_id=track, drift_ms=round(drift), position_ms=start)
                    started = time.monotonic()
            await asyncio.sleep(0.25)

    async def _report(self, ended: bool = False) -> None:
        """Tell the server what really played; a refused report is dropped (the newest state rules)."""
        if self.ws is None or self.output.track_id is None:
            return
        msg = {"type": "player_report", "device_id": self.device_id, "state_version": self.version,
               "track_id": self.output.track_id, "position_ms": self.output.position_ms(),
               "is_playing": self.output.playing or ended, "ended": ended}
        emit("report", track_id=msg["track_id"], position_ms=msg["position_ms"], state_version=msg["state_version"])
        try:
            ack = await self._request(msg)
        except (RuntimeError, ConnectionError, ConnectionClosed, TimeoutError, asyncio.CancelledError) as e:
            if isinstance(e, RuntimeError):
                emit("report_refused", code=str(e), state_version=msg["state_version"])
            return
        self.version = max(self.version, int(ack["state_version"]))
