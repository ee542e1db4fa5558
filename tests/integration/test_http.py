"""The real server (granian in a subprocess) and the `musicd` command line."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from musicd import __version__
from musicd.devtools.library_builder import BuiltLibrary
from tests.live import serve, server_env


def _musicd(*args: str, env: dict[str, str], stdin: str | None = None, cwd: Path | None = None):
    return subprocess.run(
        [sys.executable, "-m", "musicd", *args], env=env, input=stdin, capture_output=True, text=True,
        timeout=60, cwd=cwd,
    )


@pytest.fixture
def server(built_library: BuiltLibrary, tmp_path: Path) -> Iterator[str]:
    """A server that scans the library itself at start (no users, nothing prepared in-process)."""
    with serve(tmp_path, tmp_path / "data", built_library.root) as live:
        yield live.base


def test_server_health_metrics_and_errors(server: str, built_library: BuiltLibrary) -> None:
    r = httpx.get(f"{server}/health", timeout=5)
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok"
    assert body["version"] == __version__
    assert "scan" in body

    want = len(built_library.tracks)
    pattern = re.compile(r'^musicd_catalog_items\{kind="tracks"\} ([0-9.e+]+)$', re.MULTILINE)
    deadline = time.monotonic() + 30
    got = None
    while time.monotonic() < deadline:
        r = httpx.get(f"{server}/metrics", timeout=5)
        assert r.status_code == 200
        m = pattern.search(r.text)
        got = float(m.group(1)) if m else None
        if got == want and httpx.get(f"{server}/health", timeout=5).json()["scan"] == "idle":
            break
        time.sleep(0.2)
    assert got == want

    r = httpx.get(f"{server}/no/such/thing", timeout=5)
    assert r.status_code == 404
    err = r.json()["error"]
    assert err["status"] == 404
    assert err["code"] == "not_found"
    assert err.get("message")


def test_cli_scan_json(built_library: BuiltLibrary, tmp_path: Path) -> None:
    r = _musicd("scan", "--json", env=server_env(tmp_path / "data", built_library.root))
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert summary["added"] == len(built_library.tracks)
    assert summary["failed"] == len(built_library.broken)
    assert len(summary["failures"]) == len(built_library.broken)
    assert "changed_track_ids" not in summary


def test_cli_user_add(tmp_path: Path) -> None:
    env = server_env(tmp_path / "data")
    r = _musicd("user", "add", "admin", "--role", "admin", "--password-stdin", env=env, stdin="long-enough-pw\n")
    assert r.returncode == 0, r.stderr
    assert "created admin admin" in r.stdout
    r = _musicd("user", "list", env=env)
    assert r.returncode == 0 and r.stdout.startswith("admin\tadmin\tactive")
    r = _musicd("user", "add", "admin", "--password-stdin", env=env, stdin="long-enough-pw\n")
    assert r.returncode != 0
    assert "already exists" in r.stderr
    r = _musicd("user", "add", "weak", "--password-stdin", env=env, stdin="short\n")
    assert r.returncode != 0
    assert "password" in r.stderr


def test_cli_config_check_rejects_unknown_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[library]\nfolderz = []\n")
    env = server_env(tmp_path / "data")
    r = _musicd("--config", str(bad), "config", "check", env=env)
    assert r.returncode != 0
    assert "library.folderz" in r.stderr
    good = tmp_path / "good.toml"
    good.write_text("[server]\nport = 9999\n")
    r = _musicd("--config", str(good), "config", "check", env=env)
    assert r.returncode == 0, r.stderr
    assert "port = 9999" in r.stdout
