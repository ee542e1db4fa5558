"""An install of an older version keeps working: its `./data` (the old default, relative to the folder a
command ran in) is moved to the per-user data dir at the first command, with one line saying so, and
every command from any folder then finds its users; a copy that cannot be moved is used where it is."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from musicd.devtools.library_builder import BuiltLibrary
from musicd.services.data_lock import DataDirLock
from tests.integration.subsonic_support import Sub
from tests.integration.test_data_dir_cli import musicd, user_env
from tests.live import USERS, serve


def _old_install(tmp_path: Path, library: Path) -> tuple[Path, Path, dict[str, str], Path]:
    """What an older version left: ./data in its folder (`checkout`) with a database, a user and a scanned
    library. Returns that folder, its ./data, a user's shell with a data home of its own, and the per-user
    data dir of that shell."""
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    old = checkout / "data"
    env = {**user_env(checkout / "unused"), "MUSICD_DATA_DIR": str(old), "MUSICD_LIBRARY_FOLDERS": str(library)}
    add = musicd("user", "add", "alice", "--role", USERS["alice"][1], "--password-stdin", cwd=checkout, env=env,
                 stdin=USERS["alice"][0] + "\n")
    assert add.returncode == 0, add.stderr
    scan = musicd("scan", cwd=checkout, env=env)
    assert scan.returncode == 0, scan.stderr
    assert (old / "musicd.db").is_file()
    return checkout, old, user_env(tmp_path / "share"), (tmp_path / "share" / "musicd").resolve()


def _moved_lines(stderr: str) -> list[str]:
    return [ln for ln in stderr.splitlines() if "data dir of an older version" in ln]


@pytest.mark.slow
def test_old_data_dir_is_moved_once_and_every_folder_finds_it(built_library: BuiltLibrary, tmp_path: Path) -> None:
    checkout, old, env, new = _old_install(tmp_path, built_library.root)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    first = musicd("--library", str(built_library.root), "config", "folders", cwd=checkout, env=env)
    assert first.returncode == 0, first.stderr
    assert _moved_lines(first.stderr) == [f"musicd: moved the data dir of an older version from {old} to {new}, "
                                          f"where every command finds it ({old} now links there)"]
    assert f"musicd: data dir {new}" in first.stderr.splitlines()
    assert (new / "musicd.db").is_file() and (new / "keys").is_dir()
    assert old.is_symlink() and old.resolve() == new

    # From another folder: the moved database, not a new empty one; the move is not announced again.
    add = musicd("user", "add", "bob", "--role", USERS["bob"][1], "--password-stdin", cwd=elsewhere, env=env,
                 stdin=USERS["bob"][0] + "\n")
    assert add.returncode == 0, add.stderr
    assert _moved_lines(add.stderr) == []
    again = musicd("config", "folders", cwd=checkout, env=env)
    assert _moved_lines(again.stderr) == [] and f"musicd: data dir {new}" in again.stderr.splitlines()

    with serve(tmp_path, new, cwd=elsewhere, unset=("MUSICD_DATA_DIR", "MUSICD_LIBRARY_FOLDERS"),
               **{k: v for k, v in env.items() if k.startswith(("MUSICD_", "XDG_"))}) as server:
        for name in ("alice", "bob"):  # the old user and the one added after the move
            status = Sub(server.base, name, USERS[name][0]).call("getScanStatus")["scanStatus"]
            assert status["count"] == len(built_library.tracks)


def test_old_data_dir_in_use_is_used_where_it_is(built_library: BuiltLibrary, tmp_path: Path) -> None:
    checkout, old, env, new = _old_install(tmp_path, built_library.root)
    running = DataDirLock(old)
    running.acquire("server")  # an older musicd still serving from it
    try:
        r = musicd("user", "list", cwd=checkout, env=env)
    finally:
        running.release()
    assert r.returncode == 0, r.stderr
    assert _moved_lines(r.stderr) == [f"musicd: using the data dir of an older version, {old}, which a musicd is "
                                      f"using (stop it and run again to move it to {new}, where every command "
                                      "finds it)"]
    assert f"musicd: data dir {old}" in r.stderr.splitlines()
    assert "alice" in r.stdout
    assert not old.is_symlink() and (old / "musicd.db").is_file() and not (new / "musicd.db").exists()


def test_old_data_dir_is_not_merged_into_a_new_one(built_library: BuiltLibrary, tmp_path: Path) -> None:
    """The per-user dir already holds some of the old one's files (no database): nothing is overwritten."""
    checkout, old, env, new = _old_install(tmp_path, built_library.root)
    (new / "keys").mkdir(parents=True)
    r = musicd("user", "list", cwd=checkout, env=env)
    assert r.returncode == 0, r.stderr
    assert _moved_lines(r.stderr) == [f"musicd: using the data dir of an older version, {old} ({new} already has "
                                      f"keys): set MUSICD_DATA_DIR={old} or move it to {new} so every command "
                                      "finds it"]
    assert "alice" in r.stdout and sorted(os.listdir(new)) == ["keys"] and not os.listdir(new / "keys")


@pytest.mark.slow
def test_a_configured_data_dir_leaves_an_old_one_alone(built_library: BuiltLibrary, tmp_path: Path) -> None:
    checkout, old, env, _ = _old_install(tmp_path, built_library.root)
    r = musicd("user", "list", cwd=checkout, env={**env, "MUSICD_DATA_DIR": str(tmp_path / "chosen")})
    assert r.returncode == 0, r.stderr
    assert _moved_lines(r.stderr) == [] and "alice" not in r.stdout
    assert (old / "musicd.db").is_file() and not old.is_symlink()
