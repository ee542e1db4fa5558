"""Consistent copies of the live database (for backups) and what a copy holds."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

__all__ = ["DB_FILES", "copy_database", "describe", "upload_covers"]

# The database and the files SQLite keeps beside it in WAL mode: moved together or not at all.
DB_FILES = ("musicd.db", "musicd.db-wal", "musicd.db-shm")

# What a backup's one-line summary counts (the copy holds every table whatever this lists).
_COUNTED = ("users", "tracks", "albums", "playlists", "playlist_entries", "listening_history", "listens", "shares",
            "track_features")


def copy_database(src: Path, dst: Path) -> None:
    """Copy the database `src` into the new file `dst` while the server may be writing to it.

    SQLite's online backup API in one step reads the whole file inside one read transaction: the copy is
    one consistent snapshot, and in WAL mode that snapshot never blocks the server's writer."""
    with closing(sqlite3.connect(f"{src.as_uri()}?mode=ro", uri=True, timeout=30)) as source, \
            closing(sqlite3.connect(dst)) as target:
        source.backup(target)
        # The copy is one self-contained file (no -wal beside it) whatever mode the source was in.
        target.execute("PRAGMA journal_mode=DELETE")


def describe(path: Path) -> dict[str, Any]:
    """Schema version and row counts of a few tables of the database at `path` (a backup's summary)."""
    out: dict[str, Any] = {"schema_version": 0, "counts": {}}
    with closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")}
        if "schema_version" in tables:
            out["schema_version"] = conn.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()[0]
        for t in _COUNTED:
            if t in tables:
                out["counts"][t] = conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # t from _COUNTED
    return out


def upload_covers(path: Path) -> list[tuple[str, str]]:
    """(id, mime) of the images people uploaded (playlist covers): not in the library, so no scan re-makes them."""
    with closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as conn:
        return [(r[0], r[1]) for r in conn.execute("SELECT id, mime FROM covers WHERE source = 'upload' ORDER BY id")]
