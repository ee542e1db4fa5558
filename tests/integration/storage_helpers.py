"""Shared by the storage tests: a prepared data dir, ways to damage its database, the `musicd` command."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from tests.live import REPO_ROOT, USERS, _prepare, server_env

# The environment of a server or command in these tests: nothing in the background that is not asked for.
QUIET = {"MUSICD_LIBRARY_SCAN_ON_START": "never", "MUSICD_TRANSCODE_PRE_TRANSCODE": "false",
         "MUSICD_BACKUP_ENABLED": "false", "MUSICD_AUTH_LOGIN_PER_MINUTE": "600",
         "MUSICD_AUTH_WRITES_PER_SECOND": "10000",
         # The recommendation trainer stores its model in the background: off, so snapshots of the database
         # taken while the server runs stay comparable.
         "MUSICD_RECOMMEND_BACKGROUND": "false"}


def prepare(data_dir: Path, library: Path) -> Path:
    """A data dir with the test users and the scanned library; its database file is complete (no -wal)."""
    asyncio.run(_prepare(data_dir, (library,), USERS))
    return data_dir


def copy_data(template: Path, dest: Path) -> Path:
    shutil.copytree(template, dest)
    (dest / "musicd.lock").unlink(missing_ok=True)
    return dest


@dataclass
class Run:
    code: int
    out: str
    err: str
    seconds: float

    @property
    def lines(self) -> list[str]:
        """The non-empty lines the command wrote (stdout and stderr), less the data dir every command names."""
        return [ln for ln in (self.out + self.err).splitlines()
                if ln.strip() and not ln.startswith("musicd: data dir ")]


def musicd(*args: str, data_dir: Path, library: Path | None = None, stdin: str | None = None, timeout: float = 60,
           **env: str) -> Run:
    """`python -m musicd ARGS` on `data_dir`; a command that does not end within `timeout` fails the test."""
    started = time.monotonic()
    p = subprocess.run(
        [sys.executable, "-m", "musicd", *args], env=server_env(data_dir, *([library] if library else []),
                                                               **{**QUIET, **env}),
        input=stdin, capture_output=True, text=True, timeout=timeout, cwd=REPO_ROOT,
    )
    return Run(p.returncode, p.stdout, p.stderr, time.monotonic() - started)


def leaf_pages(db: Path, table: str) -> list[int]:
    """The leaf pages of `table`'s b-tree (SQLite's dbstat table), in order."""
    with closing(sqlite3.connect(db)) as conn:
        return [r[0] for r in conn.execute(
            "SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf' ORDER BY pageno", (table,))]


def damage(db: Path, kind: str) -> None:
    """Damage the database file as a disk or a crash would: "truncated" (cut to a third), "zeroed" (every
    byte 0), "pages" (a quarter of the tracks table's pages overwritten with random bytes)."""
    size = db.stat().st_size
    if kind == "truncated":
        os.truncate(db, size // 3)
    elif kind == "zeroed":
        db.write_bytes(bytes(size))
    elif kind == "pages":
        with closing(sqlite3.connect(db)) as conn:
            page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        pages = leaf_pages(db, "tracks")
        assert len(pages) >= 2, pages
        with db.open("r+b") as fh:
            for p in pages[1::4]:
                fh.seek((p - 1) * page_size)
                fh.write(os.urandom(page_size))
    else:
        raise ValueError(kind)


def count(db: Path, table: str) -> int:
    with closing(sqlite3.connect(db)) as conn:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def ids_of(db: Path, table: str) -> list[str]:
    with closing(sqlite3.connect(db)) as conn:
        return [r[0] for r in conn.execute(f"SELECT id FROM {table} ORDER BY rowid")]
