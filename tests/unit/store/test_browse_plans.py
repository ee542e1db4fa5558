"""A user's plays are looked up per track of an album or artist, never walked whole per item: with the
plain JOIN, SQLite's planner started from the user's plays (2 s for a page of 50 albums once the user had
played 20,000 tracks of a 100k library)."""

from __future__ import annotations

import json
from pathlib import Path

from musicd.store import browse
from musicd.store.db import Database
from musicd.store.migrations import migrate


async def _plan(db: Database, sql: str) -> list[str]:
    rows = await db.fetchall(f"EXPLAIN QUERY PLAN {sql}", {"uid": "u", "ids": json.dumps(["x"])})
    return [r[3] for r in rows]


async def test_plays_are_looked_up_by_user_and_track(tmp_path: Path) -> None:
    db = Database(tmp_path / "musicd.db")
    await db.open()
    try:
        await migrate(db)
        for sql in (f"{browse._ALBUM_SELECT} WHERE al.id IN ({browse._IDS})",
                    f"{browse._ALBUM_SELECT_BRIEF} WHERE al.id IN ({browse._IDS})",
                    f"{browse._ARTIST_COLUMNS}{browse._ARTIST_FROM} WHERE a.id IN ({browse._IDS})"):
            plays = [step for step in await _plan(db, sql) if step.startswith("SEARCH p ")]
            assert plays == ["SEARCH p USING PRIMARY KEY (user_id=? AND track_id=?)"], plays
    finally:
        await db.close()


async def test_an_albums_tracks_are_read_from_the_index_alone(tmp_path: Path) -> None:
    """A page of albums reads each album's track ids and play counts from the tracks_album index, never the
    wide track rows (migration 0045: a page of 50 random albums at 100k tracks read ~500 table pages)."""
    db = Database(tmp_path / "musicd.db")
    await db.open()
    try:
        await migrate(db)
        plan = await _plan(db, f"{browse._ALBUM_SELECT} WHERE al.id IN ({browse._IDS})")
        tracks = [step for step in plan if step.startswith("SEARCH t ")]
        assert tracks and all(step == "SEARCH t USING COVERING INDEX tracks_album (album_id=?)" for step in tracks), \
            tracks
    finally:
        await db.close()
