"""The catalogue of a database as plain, comparable rows: every catalogue table, every field, with the
values that legitimately differ between two scans of one library (timestamps, random track ids,
genre and folder row ids) left out or replaced by what they stand for (a path, a genre name)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

__all__ = ["CATALOGUE_TABLES", "catalogue", "catalogue_diff", "read_only"]

CATALOGUE_TABLES = (
    "library_folders", "covers", "artists", "albums", "genres", "tracks", "track_artists", "track_genres",
    "album_genres", "lyrics", "scan_failures",
)
_DROPPED = {"created_at", "updated_at", "seen_at", "last_scan_at"}
# Row ids that are generated per database, not derived from the data.
_OWN_ID = {"tracks", "genres", "library_folders"}


def read_only(db: Path) -> sqlite3.Connection:
    """A read-only connection (safe while another process writes, and while it is being killed)."""
    return sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)


def catalogue(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every catalogue table as a sorted list of rows, comparable between two databases."""
    with read_only(db) as conn:
        track_path = dict(conn.execute("SELECT id, path FROM tracks"))
        genre_name = dict(conn.execute("SELECT id, name FROM genres"))
        folder_path = dict(conn.execute("SELECT id, path FROM library_folders"))
        swap = {"track_id": track_path, "genre_id": genre_name, "folder_id": folder_path}
        out: dict[str, list[tuple[Any, ...]]] = {}
        for table in CATALOGUE_TABLES:
            cols = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
            keep = [c for c in cols if c not in _DROPPED and not (c == "id" and table in _OWN_ID)]
            rows = []
            for r in conn.execute(f"SELECT {', '.join(keep)} FROM {table}"):
                rows.append(tuple(
                    (c, swap[c].get(v, f"<dangling {v}>") if c in swap else v) for c, v in zip(keep, r, strict=True)
                ))
            if table == "library_folders":
                scanned = [r[0] for r in conn.execute("SELECT last_scan_at IS NOT NULL FROM library_folders")]
                assert all(scanned), "a library folder was never marked scanned"
            out[table] = sorted(rows, key=repr)
    return out


def catalogue_diff(a: dict[str, list[tuple[Any, ...]]], b: dict[str, list[tuple[Any, ...]]], limit: int = 5) -> str:
    """A short report of the rows that differ, table by table ("" when the catalogues are equal)."""
    lines = []
    for table in CATALOGUE_TABLES:
        sa, sb = set(a[table]), set(b[table])
        if sa == sb and len(a[table]) == len(b[table]):
            continue
        lines.append(f"{table}: {len(sa - sb)} rows only in the first, {len(sb - sa)} only in the second")
        lines += [f"  - {dict(r)}" for r in sorted(sa - sb, key=repr)[:limit]]
        lines += [f"  + {dict(r)}" for r in sorted(sb - sa, key=repr)[:limit]]
    return "\n".join(lines)
