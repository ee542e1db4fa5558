"""Migration 0034 orders playlist entries by fractional order keys: every old playlist keeps its order
(positions with gaps too) and takes edits afterwards."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from fractional_indexing import validate_order_key

from musicd.store.db import Database
from musicd.store.migrations import available_migrations, migrate


def _insert(conn: sqlite3.Connection, table: str, **given: Any) -> None:
    """A row of `table` with `given` values and filler in every other NOT NULL column without a default."""
    row = dict(given)
    for _, name, kind, notnull, default, pk in conn.execute(f"PRAGMA table_info({table})"):
        if name in row or not notnull or default is not None or pk:
            continue
        row[name] = 1 if "INT" in kind.upper() else 1.0 if "REAL" in kind.upper() else f"{table}-{name}-{given}"
    cols = ", ".join(row)
    conn.execute(f"INSERT INTO {table} ({cols}) VALUES ({', '.join('?' * len(row))})", tuple(row.values()))


async def _database_before_0034(data: Path) -> tuple[list[str], list[str]]:
    folder = data.parent / "migrations-before-0034"
    folder.mkdir()
    for m in available_migrations():
        if m.version < 34:
            (folder / f"{m.version:04d}_{m.name}.sql").write_text(m.sql)
    db = Database(data / "musicd.db")
    await db.open()
    try:
        await migrate(db, folder)
    finally:
        await db.close()
    conn = sqlite3.connect(data / "musicd.db")
    try:
        _insert(conn, "users", id="u1", username="carol", role="user")
        _insert(conn, "library_folders", id=1, path="/music", name="music")
        _insert(conn, "artists", id="ar1", name="Someone")
        _insert(conn, "albums", id="al1", group_key="k", name="Album", album_artist_id="ar1")
        tracks = [f"t{i}" for i in range(6)]
        for t in tracks:
            _insert(conn, "tracks", id=t, folder_id=1, path=f"/music/{t}.flac", album_id="al1", title=t)
        for pid in ("p1", "p2"):
            _insert(conn, "playlists", id=pid, owner_id="u1", name=pid, version=1)
        # p1 has gaps (the scanner removed entries); p2 holds one track twice.
        p1 = [(0, "t3"), (1, "t1"), (3, "t5"), (7, "t0"), (100, "t2")]
        p2 = [(0, "t4"), (1, "t4"), (2, "t0")]
        for pid, entries in (("p1", p1), ("p2", p2)):
            for pos, t in entries:
                conn.execute("INSERT INTO playlist_entries (playlist_id, position, track_id, added_by, added_at)"
                             " VALUES (?, ?, ?, 'u1', '2024-01-01T00:00:00Z')", (pid, pos, t))
        conn.commit()
    finally:
        conn.close()
    return [t for _, t in p1], [t for _, t in p2]


async def test_entries_keep_their_order_under_order_keys(services_for, tmp_path: Path) -> None:
    data = tmp_path / "data"
    p1, p2 = await _database_before_0034(data)
    async with services_for(data_dir=data) as s:
        carol = await s.accounts.get("u1")
        for pid, want in (("p1", p1), ("p2", p2)):
            _, page = await s.playlists.page(carol, pid)
            assert [i.entry.track_id for i in page.items] == want
        with sqlite3.connect(data / "musicd.db") as conn:
            keys = [r[0] for r in conn.execute(
                "SELECT order_key FROM playlist_entries WHERE playlist_id = 'p1' ORDER BY order_key")]
        for k in keys:
            validate_order_key(k)
        # Edits work on the migrated keys: a move, an insert in the middle, an append.
        await s.playlists.reorder(carol, "p1", range_start=4, insert_before=0)
        await s.playlists.add(carol, "p1", ["t4"], position=2)
        await s.playlists.add(carol, "p1", ["t1"])
        _, page = await s.playlists.page(carol, "p1")
        assert [i.entry.track_id for i in page.items] == ["t2", "t3", "t4", "t1", "t5", "t0", "t1"]
