"""Start-up failures are one clear line and stop the start (a busy port, a missing or unreadable library
folder, config typos: every one at once, with the nearest key); a client that goes away mid-stream is
routine, not a transport error in the log."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from musicd.devtools.library_builder import BuiltLibrary
from tests.live import REPO_ROOT, LiveServer, free_port, server_env


def musicd(*args: str, env: dict[str, str], cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "musicd", *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def _error_lines(r: subprocess.CompletedProcess[str]) -> list[str]:
    """What the user sees besides the data dir line."""
    return [ln for ln in r.stderr.splitlines() if ln.strip() and not ln.startswith("musicd: data dir ")]


def test_busy_port_is_one_line(built_library: BuiltLibrary, tmp_path: Path) -> None:
    port = free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        r = musicd("serve", "--port", str(port), env=server_env(tmp_path / "data", built_library.root))
    assert r.returncode == 1
    assert _error_lines(r) == [f"Error: port {port} on 127.0.0.1 is already in use (another musicd or program?): "
                               "stop it or pick another with --port"]
    assert not (tmp_path / "data" / "musicd.db").exists()  # refused before anything ran


def test_missing_or_unreadable_library_folder_refuses_to_start(tmp_path: Path) -> None:
    gone = tmp_path / "not-here"
    r = musicd("serve", "--port", str(free_port()), env=server_env(tmp_path / "data", gone))
    assert r.returncode == 1
    assert _error_lines(r) == [f"Error: library folder {gone} does not exist (library.folders or --library)"]
    if os.geteuid() != 0:  # root reads everything
        locked = tmp_path / "locked"
        locked.mkdir(mode=0)
        r = musicd("serve", "--port", str(free_port()), env=server_env(tmp_path / "data", locked))
        assert _error_lines(r) == [f"Error: library folder {locked} cannot be read by this user "
                                   "(check its permissions)"]


def test_config_typos_all_at_once_with_the_nearest_key(tmp_path: Path) -> None:
    cfg = tmp_path / "musicd.toml"
    cfg.write_text('[server]\nprot = 4000\nhost = 5\n[libary]\nfolders = []\n[transcode]\npool_size = "x"\n')
    r = musicd("--config", cfg.name, "config", "check", env=server_env(tmp_path / "data", MUSICD_SERVER_PROT="1"),
               cwd=tmp_path)
    assert r.returncode == 1
    (line,) = _error_lines(r)
    assert line.startswith(f"Error: invalid configuration in {cfg} (5 errors): ")
    for part in ("environment variable MUSICD_SERVER_PROT: no such setting (server.prot) "
                 "(did you mean MUSICD_SERVER_PORT?)",
                 "unknown key server.prot (did you mean server.port?)",
                 "server.host: Expected `str`, got `int`",
                 "unknown section [libary] (did you mean [library]?)",
                 "transcode.pool_size: Expected `int`, got `str`"):
        assert part in line, line


def test_client_disconnect_is_not_a_transport_error(live_server: LiveServer) -> None:
    token = live_server.token("alice")
    h = {"Authorization": f"Bearer {token}"}
    tracks = httpx.get(f"{live_server.base}/v1/search", params={"q": "Northern Lights", "type": "track"}, headers=h,
                       timeout=30).json()["tracks"]["items"]
    start = live_server.log_path.stat().st_size
    for fmt in ("mp3", "opus", "aac"):  # a transcode in the making, left after the first bytes
        with httpx.stream("GET", f"{live_server.base}/v1/tracks/{tracks[0]['id']}/stream", headers=h,
                          params={"quality": "high", "format": fmt, "time_offset": 0.5}, timeout=30) as r:
            assert r.status_code == 200
            next(r.iter_raw(1024))
    time.sleep(1.5)
    with live_server.log_path.open("rb") as f:
        f.seek(start)
        new = f.read().decode("utf-8", "replace")
    assert "transport" not in new.lower() and "Traceback" not in new, new
