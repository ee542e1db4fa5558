"""One data dir whatever the working directory: `--library` given relative to the folder the user is in,
remembered; `musicd user add` run from another folder makes the user the server then sees; every command
says which data dir it uses."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from musicd.devtools.library_builder import BuiltLibrary
from tests.integration.subsonic_support import Sub
from tests.live import USERS, serve


def user_env(home: Path) -> dict[str, str]:
    """A user's shell: no MUSICD_DATA_DIR, no library, a data home of its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MUSICD_")}
    env.update({"XDG_DATA_HOME": str(home), "MUSICD_LIBRARY_SCAN_WORKERS": "2", "MUSICD_ANALYSIS_BACKGROUND": "false"})
    return env


def musicd(*args: str, cwd: Path, env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "musicd", *args], cwd=cwd, env=env, input=stdin,
                          capture_output=True, text=True, timeout=180)


@pytest.mark.slow
def test_any_folder_finds_the_same_data_dir(built_library: BuiltLibrary, tmp_path: Path) -> None:
    env = user_env(tmp_path / "share")
    data = (tmp_path / "share" / "musicd").resolve()
    here, there, elsewhere = (tmp_path / d for d in ("here", "there", "elsewhere"))
    for d in (here, there, elsewhere):
        d.mkdir()
    rel = os.path.relpath(built_library.root, here)
    assert not Path(rel).is_absolute()

    scan = musicd("--library", rel, "scan", "--json", cwd=here, env=env)
    assert scan.returncode == 0, scan.stderr
    assert f"musicd: data dir {data}" in scan.stderr.splitlines()
    assert json.loads(scan.stdout)["added"] == len(built_library.tracks)
    assert str(built_library.root.resolve()) in (data / "config.toml").read_text()  # remembered

    name = "alice"
    add = musicd("user", "add", name, "--role", USERS[name][1], "--password-stdin", cwd=there, env=env,
                 stdin=USERS[name][0] + "\n")
    assert add.returncode == 0, add.stderr
    assert f"musicd: data dir {data}" in add.stderr.splitlines()
    assert not (there / "data").exists()

    # a plain command from a third folder uses the remembered library
    folders = musicd("config", "folders", cwd=elsewhere, env=env)
    assert folders.stdout.split() == [str(built_library.root.resolve())]

    with serve(tmp_path, data, cwd=elsewhere, unset=("MUSICD_DATA_DIR", "MUSICD_LIBRARY_FOLDERS"),
               **{k: v for k, v in env.items() if k.startswith(("MUSICD_", "XDG_"))}) as server:
        status = Sub(server.base, name, USERS[name][0]).call("getScanStatus")["scanStatus"]
        assert status["count"] == len(built_library.tracks)
        assert f"musicd: data dir {data}" in server.log()


def test_missing_library_folder_is_refused(tmp_path: Path) -> None:
    env = user_env(tmp_path / "share")
    r = musicd("--library", "no-such-folder", "scan", cwd=tmp_path, env=env)
    assert r.returncode != 0
    assert r.stderr.strip().splitlines()[-1] == \
        f"Error: library folder {(tmp_path / 'no-such-folder').resolve()} does not exist (check --library)"
    assert not (tmp_path / "share" / "musicd" / "config.toml").exists()


@pytest.mark.slow
def test_catalogue_follows_the_configured_folders(built_library: BuiltLibrary, tmp_path: Path) -> None:
    """Demo first, then the real library: the demo's tracks leave the catalogue (reported), and the server's
    own scan uses the remembered folder."""
    env = user_env(tmp_path / "share")
    data = (tmp_path / "share" / "musicd").resolve()
    demo = tmp_path / "demo"
    shutil.copytree(built_library.root / "Röyksopp", demo / "Röyksopp")
    n_demo = sum(1 for f in demo.rglob("*.flac"))
    first = musicd("--library", str(demo), "scan", "--json", cwd=tmp_path, env=env)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["added"] == n_demo == 4

    real = musicd("--library", str(built_library.root), "scan", "--json", cwd=tmp_path, env=env)
    assert real.returncode == 0, real.stderr
    s = json.loads(real.stdout)
    assert (s["added"], s["removed"]) == (len(built_library.tracks), n_demo)
    assert s["report"]["unconfigured_folders"] == [{"folder": str(demo.resolve()), "removed": n_demo}]

    again = musicd("scan", "--json", cwd=tmp_path, env=env)  # plain: the remembered library, nothing to do
    s = json.loads(again.stdout)
    assert (s["added"], s["removed"], s["unchanged"]) == (0, 0, len(built_library.tracks))

    add = musicd("user", "add", "admin", "--role", "admin", "--password-stdin", cwd=tmp_path, env=env,
                 stdin=USERS["admin"][0] + "\n")
    assert add.returncode == 0, add.stderr
    with serve(tmp_path, data, cwd=tmp_path, unset=("MUSICD_DATA_DIR", "MUSICD_LIBRARY_FOLDERS"),
               **{k: v for k, v in env.items() if k.startswith(("MUSICD_", "XDG_"))}) as server:
        sub = Sub(server.base, "admin", USERS["admin"][0])
        folders = sub.call("getMusicFolders")["musicFolders"]["musicFolder"]
        assert [f["name"] for f in folders] == [built_library.root.name]
        sub.call("startScan")
        deadline = time.monotonic() + 120
        while (st := sub.call("getScanStatus")["scanStatus"])["scanning"]:
            assert time.monotonic() < deadline
            time.sleep(0.2)
        assert st["count"] == len(built_library.tracks)


def test_version(tmp_path: Path) -> None:
    from musicd import __version__

    r = musicd("--version", cwd=tmp_path, env=user_env(tmp_path / "share"))
    assert r.returncode == 0 and r.stdout.strip() == f"musicd {__version__}"
