"""`musicd transcode run|status` as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from musicd.devtools.library_builder import BuiltLibrary
from tests.live import REPO_ROOT, server_env


def musicd(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "musicd", *args], env=env, capture_output=True, text=True,
                          timeout=120, cwd=REPO_ROOT)


@pytest.mark.slow
def test_transcode_run_and_status(built_library: BuiltLibrary, tmp_path: Path) -> None:
    env = server_env(tmp_path / "data", built_library.root, MUSICD_TRANSCODE_WORKERS="2")
    assert musicd("scan", "--json", env=env).returncode == 0
    r = musicd("transcode", "status", "--json", env=env)
    assert r.returncode == 0, r.stderr
    before = json.loads(r.stdout)
    assert before["wanted"] > 0 and before["done"] == 0

    r = musicd("transcode", "run", "--limit", "4", "--json", env=env)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["made"] == 4
    r = musicd("transcode", "run", "--json", env=env)  # resumes: only what is missing
    assert json.loads(r.stdout)["made"] == before["wanted"] - 4

    r = musicd("transcode", "status", env=env)
    assert r.returncode == 0
    assert f"tiers: {before['wanted']}/{before['wanted']} made (100.0 %)" in r.stdout
