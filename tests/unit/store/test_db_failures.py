"""The connection set after failures: a failed open leaves no thread behind, a failed write no open
transaction, and SQLite's SQLITE_FULL reaches the caller as the one storage-full error."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from musicd.errors import DatabaseDamagedError, StorageFullError, storage_error
from musicd.store.db import Database
from musicd.store.integrity import check_database, probe_write, set_size_cap
from musicd.store.migrations import migrate


def _other_threads() -> list[threading.Thread]:
    deadline = time.monotonic() + 5
    while True:
        left = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.05)


async def test_a_failed_open_leaves_no_connection_thread_running(tmp_path: Path) -> None:
    # Before the fix the writer's aiosqlite thread (not a daemon) outlived the error: the process never exited.
    db_path = tmp_path / "musicd.db"
    db_path.write_bytes(bytes(8192))  # zeroed: "file is not a database" at the first pragma
    db = Database(db_path)
    with pytest.raises(sqlite3.DatabaseError):
        await db.open()
    assert _other_threads() == []
    with pytest.raises(DatabaseDamagedError) as e:
        check_database(db_path)
    assert e.value.path == db_path and "header" in e.value.detail


async def test_sqlite_full_is_the_storage_full_error_and_the_writer_recovers(tmp_path: Path) -> None:
    db = Database(tmp_path / "musicd.db")
    await db.open()
    try:
        await migrate(db)
        async with db.writer.execute("PRAGMA page_count") as cur:
            pages = (await cur.fetchone())[0]
        await set_size_cap(db, (pages + 4) * 4096)
        with pytest.raises(sqlite3.OperationalError) as e:
            async with db.transaction() as conn:
                for i in range(200):
                    await conn.execute("INSERT INTO library_folders (path, name) VALUES (?, ?)",
                                       (f"/music/{i}/" + "x" * 1000, "x"))
        err = storage_error(e.value, tmp_path)
        assert isinstance(err, StorageFullError) and err.status == 507 and err.code == "storage_full"
        assert await probe_write(db) < 16  # /health sees the database as full
        # The failed transaction is gone: the next write on the same writer works.
        assert not db.writer.in_transaction
        await db.execute("INSERT INTO library_folders (path, name) VALUES ('/small', 'small')")
        assert (await db.fetchone("SELECT count(*) FROM library_folders"))[0] == 1
    finally:
        await db.close()


def test_enospc_and_corruption_map_to_domain_errors(tmp_path: Path) -> None:
    assert isinstance(storage_error(OSError(28, "No space left on device"), tmp_path), StorageFullError)
    wrapped = RuntimeError("scan failed")
    wrapped.__cause__ = OSError(28, "No space left on device")
    assert isinstance(storage_error(wrapped, tmp_path), StorageFullError)
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"not a database at all" * 100)
    with pytest.raises(sqlite3.DatabaseError) as e:
        sqlite3.connect(bad).execute("SELECT 1 FROM sqlite_schema").fetchall()
    assert isinstance(storage_error(e.value, tmp_path), DatabaseDamagedError)
    assert storage_error(ValueError("an ordinary bug"), tmp_path) is None
