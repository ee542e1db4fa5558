"""The README's first command as a user meets it: `scripts/run` in a checkout whose older version left
./data (moved to the per-user data dir, its admin kept), serving the demo library; an admin added with
`musicd user add` from another folder; then `scripts/run --library` with a path relative to that folder:
the demo's tracks leave the catalogue and the real library is served. The demo library it wrote is checked
file by file here (tests/unit/devtools/test_library_builder.py checks the builder with short tones)."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from musicd.devtools.library_builder import BuiltLibrary, demo_tracks
from tests.integration.subsonic_support import Sub
from tests.integration.test_data_dir_cli import musicd, user_env
from tests.live import REPO_ROOT, START_WAIT_S, USERS, free_port, wait_for_health
from tests.unit.devtools.test_library_builder import check_demo_files


def _checkout(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A copy of the checkout's scripts and pyproject.toml, and a shell whose venv is this one (already
    installed: the stamp `scripts/_setup.sh` checks says so, so nothing is installed)."""
    checkout = tmp_path / "checkout"
    shutil.copytree(REPO_ROOT / "scripts", checkout / "scripts")
    shutil.copy2(REPO_ROOT / "pyproject.toml", checkout / "pyproject.toml")
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    here = Path(sys.prefix)
    for name in ("python", "musicd"):
        (venv / "bin" / name).symlink_to(here / "bin" / name)
    sha = hashlib.sha256((checkout / "pyproject.toml").read_bytes()).hexdigest()
    (venv / ".musicd-installed").write_text(f"{sha}--{checkout}\n")  # pyproject, no extras, this checkout
    env = {**user_env(tmp_path / "share"), "MUSICD_VENV": str(venv), "MUSICD_WITH_BROWSER": "0"}
    return checkout, env


@contextmanager
def _run(checkout: Path, *args: str, cwd: Path, env: dict[str, str], log: Path) -> Iterator[str]:
    """`scripts/run ARGS --port P` from `cwd` until it answers /health; stopped when the block ends."""
    port = free_port()
    with log.open("wb") as out:
        proc = subprocess.Popen([str(checkout / "scripts" / "run"), *args, "--port", str(port)], cwd=cwd, env=env,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_for_health(proc, base, START_WAIT_S + 120, log.read_text)  # it also writes the demo and scans
            yield base
        finally:
            for sig in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.killpg(proc.pid, sig)
                    proc.wait(timeout=20)
                    break
                except ProcessLookupError:
                    break
                except subprocess.TimeoutExpired:
                    continue
            proc.wait()


def _count(base: str, user: str) -> int:
    return int(Sub(base, user, USERS[user][0]).call("getScanStatus")["scanStatus"]["count"])


@pytest.mark.slow
def test_scripts_run_upgrade_demo_then_real_library(built_library: BuiltLibrary, tmp_path: Path) -> None:
    checkout, env = _checkout(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    new = (tmp_path / "share" / "musicd").resolve()
    # What an older version left in its checkout: ./data with the admin in it.
    old = checkout / "data"
    made = musicd("user", "add", "admin", "--role", "admin", "--password-stdin", cwd=checkout,
                  env={**env, "MUSICD_DATA_DIR": str(old)}, stdin=USERS["admin"][0] + "\n")
    assert made.returncode == 0, made.stderr

    first = tmp_path / "first.log"
    with _run(checkout, cwd=elsewhere, env=env, log=first) as base:
        demo = _count(base, "admin")  # the admin of the older version's database
        assert demo > 0
        # an admin's helper added from another folder is seen by the running server
        add = musicd("user", "add", "alice", "--role", USERS["alice"][1], "--password-stdin", cwd=elsewhere,
                     env=env, stdin=USERS["alice"][0] + "\n")
        assert add.returncode == 0, add.stderr
        assert _count(base, "alice") == demo
    text = first.read_text()
    assert text.count("data dir of an older version") == 1
    assert f"musicd: moved the data dir of an older version from {old} to {new}" in text
    assert f"serving the demo library in {checkout / 'demo-library'}" in text
    assert old.is_symlink() and (new / "musicd.db").is_file()
    check_demo_files(checkout / "demo-library", demo_tracks())  # what `musicd demo-library` wrote

    rel = os.path.relpath(built_library.root, elsewhere)
    second = tmp_path / "second.log"
    with _run(checkout, "--library", rel, cwd=elsewhere, env=env, log=second) as base:
        assert _count(base, "admin") == len(built_library.tracks)
    text = second.read_text()
    said = f"removed {demo} tracks of {checkout / 'demo-library'} (no longer a library folder)"
    assert "".join(said.split()) in "".join(text.split())  # the summary is wrapped at the terminal's width
    assert "older version" not in text and "demo library" not in text

    # the next plain run serves the remembered library
    with _run(checkout, cwd=elsewhere, env=env, log=tmp_path / "third.log") as base:
        assert _count(base, "alice") == len(built_library.tracks)
