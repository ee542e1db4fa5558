"""Listening history: the journal of acknowledged play events, the open plays, and the batch fold of the
journal into listening_history and the play counts (the seed's Cassandra table, written in batches).

Durability. A play event is acknowledged only after `append` has committed it to `play_journal`. The
database runs in WAL mode with `synchronous=NORMAL` (store/db.py): a commit is written into the -wal file
(write(2), so it sits in the OS page cache) and fsynced only at checkpoints. That means:
- a crash of musicd itself (kill -9, the OOM killer, a segfault) loses no committed transaction: the
  kernel still writes the pages, and the next open replays the WAL;
- a power cut or a kernel crash can roll back the transactions committed since the last WAL sync (the
  database stays consistent, never corrupt). An acknowledged play is then exactly as safe as every other
  acknowledged write of musicd (a playlist edit, a star); promising more for plays alone would cost an
  fsync per event, and `synchronous=FULL` would give it to every write at once.
(https://www.sqlite.org/pragma.html#pragma_synchronous: "transactions are durable across application
crashes regardless of the synchronous setting"; with NORMAL in WAL "a transaction committed ... might roll
back following a power loss or system crash".)

Why a table and not an append-only file: scripts/bench_durability.py measured one journal append at
about 0.06 ms p50 here (one INSERT statement through the writer connection; concurrent requests share
one, see PlayEventService) against about 1 µs for write(2) to a file, both far below the ~1 ms an HTTP
request costs anyway; an fsync per append (the file's power-cut promise) or synchronous=FULL cost 3-5 ms
on this disk. The table
buys what a file cannot: the journal, the open plays and the history live in one database, so one fold
transaction moves rows from the journal into the history; a crash at any moment leaves each event either
still journaled or folded, never both and never neither, with no offsets, torn tails or file rotation to
get right.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from musicd.store.db import Database, utc_now

__all__ = [
    "FoldWrites",
    "HistoryRepository",
    "JournalEntry",
    "JournalRow",
    "NewPlay",
    "OpenPlay",
    "PlayUpdate",
    "RejectedRow",
    "SessionKey",
    "TrackPlays",
]

# (user_id, track_id, played_at, ms_played, context_uri, device_id)
NewPlay = tuple[str, str, str, int, str | None, str | None]
# (ms_played, user_id, played_at, track_id, device_id): a later event of a play already stored
PlayUpdate = tuple[int, str, str, str, str | None]
# (plays to add, last played_at, track_id)
TrackPlays = tuple[int, str, str]
# (user_id, device key ("" for none), track_id)
SessionKey = tuple[str, str, str]
# (user_id, track_id, event, at, position_ms, ms_played, context_uri, device_id): one event to journal
JournalEntry = tuple[str, str, str, float, int, int, str | None, str | None]

_COLS = "user_id, track_id, event, at, position_ms, ms_played, context_uri, device_id"
_SESSION_COLS = "user_id, device_key, track_id, played_at, ms_played, stored_ms, counted, context_uri, device_id, seen"


class JournalRow(NamedTuple):
    """A journaled event with its track's duration in seconds (None: not a track of this library)."""

    id: int
    user_id: str
    track_id: str
    event: str
    at: float
    position_ms: int
    ms_played: int
    context_uri: str | None
    device_id: str | None
    duration: float | None


@dataclass(slots=True)
class OpenPlay:
    """A play that started and has not ended: when it started, how long it has lasted, whether it counts."""

    user_id: str
    device_key: str  # the device id, "" for none: part of the key
    track_id: str
    played_at: str
    ms_played: int
    stored_ms: int  # the ms_played its history row has (once counted)
    counted: bool
    context_uri: str | None
    device_id: str | None
    seen: float  # server time of its last event

    @property
    def key(self) -> SessionKey:
        return (self.user_id, self.device_key, self.track_id)

    def row(self) -> tuple[str, str, str, str, int, int, bool, str | None, str | None, float]:
        return (self.user_id, self.device_key, self.track_id, self.played_at, self.ms_played, self.stored_ms,
                self.counted, self.context_uri, self.device_id, self.seen)


@dataclass
class FoldWrites:
    """What folding a batch of journal rows writes (all in the transaction that deletes those rows)."""

    new: list[NewPlay] = field(default_factory=list)
    updates: list[PlayUpdate] = field(default_factory=list)
    counts: list[TrackPlays] = field(default_factory=list)
    sessions: list[OpenPlay] = field(default_factory=list)  # open plays to store (insert or replace)
    closed: list[SessionKey] = field(default_factory=list)  # plays that ended
    parked: list[tuple[int, str]] = field(default_factory=list)  # (journal id, why): kept aside, not folded
    expire_before: float | None = None  # open plays last seen before this (POSIX s) are forgotten


class RejectedRow(Exception):
    """SQLite refused the data of a row (a constraint, an integer out of range): the database itself works."""


# What a bad value raises (and a failing disk never does): OperationalError (full, I/O, locked) is not here.
_DATA_ERRORS = (sqlite3.IntegrityError, sqlite3.DataError, sqlite3.InterfaceError, OverflowError)

Planner = Callable[[list[JournalRow], dict[SessionKey, OpenPlay]], FoldWrites]


def _ids(ids: Sequence[int]) -> str:
    return json.dumps(list(ids))


class HistoryRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def append(self, entries: Sequence[JournalEntry]) -> None:
        """Journal events in one transaction; once this returns they survive a crash of the process."""
        # One statement (rows as a JSON array): one hand-off to the writer, the request path's whole cost.
        await self.db.write_one(
            f"INSERT INTO play_journal ({_COLS}) SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3,"
            " value ->> 4, value ->> 5, value ->> 6, value ->> 7 FROM json_each(?)",
            (json.dumps(entries),),
        )

    async def journal_size(self) -> int:
        row = await self.db.fetchone("SELECT count(*) FROM play_journal")
        return int(row[0]) if row else 0

    async def journal_ids(self, limit: int) -> list[int]:
        """The ids of the oldest `limit` journaled events."""
        rows = await self.db.fetchall("SELECT id FROM play_journal ORDER BY id LIMIT ?", (limit,))
        return [int(r[0]) for r in rows]

    async def fold(self, plan: Planner, limit: int, only: int | None = None) -> tuple[int, FoldWrites]:
        """Fold the oldest `limit` journal rows (or just the row `only`) in one transaction: read them and
        their open plays, let `plan` decide, write history, counts and open plays, delete the rows.

        Everything is read inside the write transaction, so two folds (even from two processes) never
        fold one row twice. Returns how many rows left the journal and what was written."""
        try:
            return await self._fold(plan, limit, only)
        except _DATA_ERRORS as e:
            raise RejectedRow(f"{type(e).__name__}: {e}") from e

    async def _fold(self, plan: Planner, limit: int, only: int | None) -> tuple[int, FoldWrites]:
        where, params = ("WHERE j.id = ?", (only,)) if only is not None else ("", ())
        async with self.db.transaction() as conn:
            async with conn.execute(
                "SELECT j.id, j.user_id, j.track_id, j.event, j.at, j.position_ms, j.ms_played, j.context_uri,"
                f" j.device_id, t.duration FROM play_journal j LEFT JOIN tracks t ON t.id = j.track_id {where}"
                " ORDER BY j.id LIMIT ?",
                (*params, limit),
            ) as cur:
                rows = [JournalRow(*r) for r in await cur.fetchall()]
            if not rows:
                return 0, FoldWrites()
            keys = sorted({(r.user_id, r.device_id or "", r.track_id) for r in rows})
            async with conn.execute(
                f"SELECT {_SESSION_COLS} FROM play_sessions WHERE (user_id, device_key, track_id) IN"
                " (SELECT value ->> 0, value ->> 1, value ->> 2 FROM json_each(?))",
                (json.dumps(keys),),
            ) as cur:
                open_plays = {(s := OpenPlay(*r[:6], bool(r[6]), *r[7:])).key: s for r in await cur.fetchall()}
            w = plan(rows, open_plays)
            await self._write(conn, w)
            await conn.execute("DELETE FROM play_journal WHERE id IN (SELECT value FROM json_each(?))",
                               (_ids([r.id for r in rows]),))
        return len(rows), w

    @staticmethod
    async def _write(conn, w: FoldWrites) -> None:  # type: ignore[no-untyped-def]
        if w.parked:
            await conn.executemany(
                f"INSERT INTO play_journal_parked (journal_id, {_COLS}, error, parked_at)"
                f" SELECT id, {_COLS}, ?, ? FROM play_journal WHERE id = ?",
                [(why, utc_now(), jid) for jid, why in w.parked],
            )
        if w.new:
            await conn.executemany(
                "INSERT INTO listening_history (user_id, track_id, played_at, ms_played, context_uri, device_id)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                w.new,
            )
        if w.updates:
            await conn.executemany(
                "UPDATE listening_history SET ms_played = max(ms_played, ?)"
                " WHERE user_id = ? AND played_at = ? AND track_id = ? AND device_id IS ?",
                w.updates,
            )
        if w.counts:
            await conn.executemany(
                "UPDATE tracks SET play_count = play_count + ?,"
                " last_played_at = max(coalesce(last_played_at, ''), ?) WHERE id = ?",
                w.counts,
            )
        if w.closed:
            await conn.executemany(
                "DELETE FROM play_sessions WHERE user_id = ? AND device_key = ? AND track_id = ?", w.closed
            )
        if w.sessions:
            await conn.executemany(
                f"INSERT OR REPLACE INTO play_sessions ({_SESSION_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [p.row() for p in w.sessions],
            )
        if w.expire_before is not None:
            await conn.execute("DELETE FROM play_sessions WHERE seen < ?", (w.expire_before,))

    async def park(self, journal_id: int, why: str) -> None:
        """Move one journal row aside (with the reason), so the rows after it can be folded."""
        async with self.db.transaction() as conn:
            await self._write(conn, FoldWrites(parked=[(journal_id, why)]))
            await conn.execute("DELETE FROM play_journal WHERE id = ?", (journal_id,))

    async def parked(self) -> list[tuple[int, str, str]]:
        """(journal id, user id, why) of every parked event, oldest first."""
        rows = await self.db.fetchall("SELECT journal_id, user_id, error FROM play_journal_parked ORDER BY id")
        return [(r[0], r[1], r[2]) for r in rows]

    async def play_count(self, track_id: str) -> int:
        row = await self.db.fetchone("SELECT play_count FROM tracks WHERE id = ?", (track_id,))
        return int(row[0]) if row else 0
