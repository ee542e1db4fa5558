"""A real musicd server in a subprocess (granian on a loopback port) for HTTP tests."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from musicd.config import Config, load_config

REPO_ROOT = Path(__file__).resolve().parent.parent
START_WAIT_S = 120

# The accounts every live server has: name -> (password, role).
USERS: dict[str, tuple[str, str]] = {
    "admin": ("admin-password", "admin"),
    "alice": ("alice-password", "user"),
    "bob": ("bob-password", "user"),
    "guest": ("guest-password", "guest"),
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_config(data_dir: Path, *folders: Path, **extra: str) -> Config:
    """A config on `data_dir` scanning `folders`, as the server would load it from the environment."""
    env = {"MUSICD_DATA_DIR": str(data_dir), "MUSICD_LIBRARY_FOLDERS": os.pathsep.join(str(f) for f in folders)}
    env["MUSICD_LIBRARY_SCAN_WORKERS"] = "2"
    env.update(extra)
    return load_config(environ=env)


def server_env(data_dir: Path, *folders: Path, **extra: str) -> dict[str, str]:
    """The environment of a musicd process: this data dir and library, nothing inherited from MUSICD_*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MUSICD_")}
    env.update({
        "MUSICD_DATA_DIR": str(data_dir),
        "MUSICD_LIBRARY_FOLDERS": os.pathsep.join(str(f) for f in folders),
        "MUSICD_LIBRARY_SCAN_WORKERS": "2",
        "MUSICD_ANALYSIS_BACKGROUND": "false",  # the tests that want background analysis switch it on
    })
    env.update(extra)
    return env


@dataclass
class LiveServer:
    """A running server: its base URL, data dir, log file, and a cache of access tokens per user."""

    base: str
    data_dir: Path
    log_path: Path
    proc: subprocess.Popen[bytes]
    _tokens: dict[str, tuple[str, float]] = field(default_factory=dict)
    _user_ids: dict[str, str] = field(default_factory=dict)

    def login(self, name: str, password: str | None = None) -> dict[str, object]:
        """A fresh token pair for `name` (one of USERS unless a password is given)."""
        pw = password if password is not None else USERS[name][0]
        r = httpx.post(f"{self.base}/v1/auth/login", json={"username": name, "password": pw}, timeout=10)
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    def token(self, name: str) -> str:
        """A cached access token for one of USERS, renewed before it expires (a slow run outlives one)."""
        cached = self._tokens.get(name)
        if cached is None or time.monotonic() > cached[1]:
            pair = self.login(name)
            lifetime = float(pair.get("expires_in", 900))  # type: ignore[arg-type]
            self._tokens[name] = (str(pair["access_token"]), time.monotonic() + lifetime / 2)
            cached = self._tokens[name]
        return cached[0]

    def headers(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(name)}"}

    def client(self, name: str | None) -> httpx.Client:
        """An httpx client on the server, logged in as `name` (None: no token)."""
        headers = self.headers(name) if name else {}
        return httpx.Client(base_url=self.base, headers=headers, timeout=30)

    def user_id(self, name: str) -> str:
        if name not in self._user_ids:
            r = httpx.get(f"{self.base}/v1/me", headers=self.headers(name), timeout=10)
            assert r.status_code == 200, r.text
            self._user_ids[name] = r.json()["id"]
        return self._user_ids[name]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


class _HashOnce:
    """musicd's argon2 hasher, except that a password hashed before gets the same (real, salted) hash again.

    Every test server's users have the same passwords: hashing each once per test process instead of once
    per server saves ~0.7 CPU-s a server (argon2 costs ~0.2 CPU-s a hash). Logins still verify for real."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.made: dict[str, str] = {}

    def hash(self, password: str) -> str:
        if password not in self.made:
            self.made[password] = self.real.hash(password)
        return self.made[password]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


_HASH_ONCE: _HashOnce | None = None


async def _prepare(data_dir: Path, folders: tuple[Path, ...], users: dict[str, tuple[str, str]]) -> None:
    global _HASH_ONCE
    from musicd.services import accounts
    from musicd.services.registry import open_services

    real = accounts._hasher
    _HASH_ONCE = _HASH_ONCE if _HASH_ONCE is not None and _HASH_ONCE.real is real else _HashOnce(real)
    services = await open_services(make_config(data_dir, *folders))
    try:
        accounts._hasher = _HASH_ONCE  # only while this set-up creates the users
        try:
            for name, (password, role) in users.items():
                await services.accounts.create(name, password, role=role, email=f"{name}@example.test")
        finally:
            accounts._hasher = real
        if folders:
            await services.library.scan()
    finally:
        await services.close()


@contextmanager
def start_server(
    workdir: Path, *folders: Path, users: dict[str, tuple[str, str]] | None = None,
    preexec_fn: Callable[[], None] | None = None, ready_s: float = 30.0, **env: str,
) -> Iterator[LiveServer]:
    """Create users and scan in-process, then serve with `python -m musicd serve` until the block ends."""
    data_dir = workdir / "data"
    asyncio.run(_prepare(data_dir, folders, USERS if users is None else users))
    env.setdefault("MUSICD_LIBRARY_SCAN_ON_START", "never")
    env.setdefault("MUSICD_AUTH_LOGIN_PER_MINUTE", "600")
    with serve(workdir, data_dir, *folders, preexec_fn=preexec_fn, ready_s=ready_s, **env) as server:
        yield server


@contextmanager
def serve(workdir: Path, data_dir: Path, *folders: Path, preexec_fn: Callable[[], None] | None = None,
          port: int | None = None, ready_s: float = 30.0, cwd: Path = REPO_ROOT, unset: tuple[str, ...] = (),
          **env: str) -> Iterator[LiveServer]:
    """`python -m musicd serve` on a free port (or `port`, to restart a server where it was), once it answers
    /health; stopped when the block ends (`preexec_fn` runs in the child before musicd starts, e.g. to lower
    its limits; `unset` names variables left out, e.g. MUSICD_DATA_DIR to let musicd find its data dir as a
    user's shell would)."""
    port = port or free_port()
    log_path = workdir / "server.log"
    log = log_path.open("wb")
    # A session of its own: stopping it stops its children too (ffmpeg encoders, scan and analysis
    # workers), even one still starting when the server is told to stop (otherwise it lives on as an orphan).
    environ = {k: v for k, v in server_env(data_dir, *folders, **env).items() if k not in unset}
    proc = subprocess.Popen(
        [sys.executable, "-m", "musicd", "serve", "--port", str(port)],
        env=environ, stdout=log, stderr=subprocess.STDOUT, cwd=cwd,
        start_new_session=True,
        preexec_fn=preexec_fn,
    )
    scheme = "https" if env.get("MUSICD_SERVER_TLS_CERT") else "http"
    server = LiveServer(base=f"{scheme}://127.0.0.1:{port}", data_dir=data_dir, log_path=log_path, proc=proc)
    try:
        # Generous: on a shared 2-core box under load a start takes tens of seconds (measured up to ~55 s).
        wait_for_health(proc, server.base, max(ready_s, START_WAIT_S), server.log)
        yield server
    finally:
        _signal_group(proc, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            _signal_group(proc, signal.SIGKILL)
            proc.wait()
        _signal_group(proc, signal.SIGKILL)  # a worker left behind by its main process
        log.close()


def wait_for_health(proc: subprocess.Popen[bytes], base: str, wait_s: float, log: Callable[[], str]) -> None:
    """Until `base` answers /health, at most `wait_s`; fails with `log()` if the process ends first."""
    deadline = time.monotonic() + wait_s
    while True:
        assert proc.poll() is None, log()
        try:
            # Readiness only (a TLS test checks the certificate itself).
            if httpx.get(f"{base}/health", timeout=2, verify=False).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"server did not answer /health in {wait_s:.0f} s\n" + log()
        time.sleep(0.1)


def _signal_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)
