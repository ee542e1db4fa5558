"""Repository of playlists: entries, the per-version edit log, collaborators, follows, covers."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import tempfile
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite
import msgspec

from musicd.domain.playlists import Playlist, PlaylistEntry, Viewer
from musicd.store.db import Database, utc_now

__all__ = ["EDIT_LOG_KEEP", "EntryChanges", "KeyedEntry", "PlaylistEditor", "PlaylistRepository", "TrackKey"]

EDIT_LOG_KEEP = 500  # versions of edit log kept per playlist; older snapshots can only merge position-free edits
MAX_LOGGED_CHANGES = 1000  # entry changes kept per version for rebasing stale reorders (more: not logged)
_IDS = "SELECT value FROM json_each(?)"
_COLLAB = "EXISTS (SELECT 1 FROM playlist_collaborators c WHERE c.playlist_id = p.id AND c.user_id = {})"
_COLS = (
    "p.id, p.owner_id, coalesce(u.display_name, u.username), p.name, p.description, p.public, p.collaborative,"
    " p.version, p.cover_id,"
    " (SELECT coalesce(t.cover_id, al.cover_id) FROM playlist_entries e JOIN tracks t ON t.id = e.track_id"
    "   JOIN albums al ON al.id = t.album_id WHERE e.playlist_id = p.id ORDER BY e.order_key LIMIT 1),"
    " (SELECT count(*) FROM playlist_entries e WHERE e.playlist_id = p.id),"
    " (SELECT count(*) FROM playlist_follows f WHERE f.playlist_id = p.id),"
    " p.created_at, p.updated_at"
)
_N_COLS = 14


class KeyedEntry(msgspec.Struct, frozen=True):
    """An entry with its order key (entries sort by key; see migrations/0034_playlist_order_keys.sql)."""

    key: str
    entry: PlaylistEntry


class EntryChanges(msgspec.Struct, frozen=True, array_like=True):
    """What one version did to the entries: the keys it added and the (key, track id) pairs it removed."""

    added: list[str]
    removed: list[tuple[str, str]]


class TrackKey(msgspec.Struct, frozen=True):
    """What an imported playlist line may be matched on."""

    id: str
    folder: str
    path: str
    title: str
    artist: str
    album: str


def _playlist(r: Sequence[Any]) -> Playlist:
    return Playlist(
        id=r[0], owner_id=r[1], owner_name=r[2], name=r[3], description=r[4], public=bool(r[5]),
        collaborative=bool(r[6]), version=r[7], cover_id=r[8], first_cover_id=r[9], total=r[10], followers=r[11],
        created_at=r[12], updated_at=r[13],
    )


def _write_file(covers_dir: Path, cover_id: str, data: bytes) -> tuple[int | None, int | None]:
    # The same layout as the scanner's covers (content hash, two-letter fan-out), so one reader serves both.
    dest = covers_dir / cover_id[:2] / f"{cover_id}.jpg"
    if not dest.exists():
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, dest)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as im:
            return im.width, im.height
    except Exception:
        return None, None


class PlaylistEditor:
    """The writes of one change to one playlist, inside one transaction (see PlaylistRepository.edit)."""

    def __init__(self, conn: aiosqlite.Connection, playlist_id: str, version: int) -> None:
        self.conn = conn
        self.playlist_id = playlist_id
        self.version = version
        self.rows_written = 0  # entry rows inserted, moved or deleted by this change
        self._added: list[str] = []  # order keys this change added (a move adds the new key)
        self._removed: list[tuple[str, str]] = []  # (order key, track id) it removed (a move removes the old key)

    async def lows_since(self, base: int) -> dict[int, int | None]:
        """The first entry index each version after `base` touched (pruned versions are absent)."""
        async with self.conn.execute(
            "SELECT version, low FROM playlist_edits WHERE playlist_id = ? AND version > ?", (self.playlist_id, base)
        ) as cur:
            return {r[0]: r[1] for r in await cur.fetchall()}

    async def existing_tracks(self, track_ids: Sequence[str]) -> set[str]:
        async with self.conn.execute(
            f"SELECT id FROM tracks WHERE id IN ({_IDS})", (json.dumps(list(track_ids)),)
        ) as cur:
            return {r[0] for r in await cur.fetchall()}

    async def count(self) -> int:
        async with self.conn.execute(
            "SELECT count(*) FROM playlist_entries WHERE playlist_id = ?", (self.playlist_id,)
        ) as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def rows(self, offset: int = 0, limit: int = -1) -> list[KeyedEntry]:
        """Entries `offset`..`offset+limit` in order with their order keys (an index walk: nothing is written)."""
        async with self.conn.execute(
            "SELECT order_key, track_id, added_by, added_at FROM playlist_entries WHERE playlist_id = ?"
            " ORDER BY order_key LIMIT ? OFFSET ?", (self.playlist_id, limit, offset)
        ) as cur:
            return [KeyedEntry(r[0], PlaylistEntry(r[1], r[2], r[3])) for r in await cur.fetchall()]

    async def key_at(self, index: int) -> str | None:
        """The order key of the entry at `index` (None outside the list)."""
        if index < 0:
            return None
        got = await self.rows(index, 1)
        return got[0].key if got else None

    async def last_key(self) -> str | None:
        async with self.conn.execute(
            "SELECT max(order_key) FROM playlist_entries WHERE playlist_id = ?", (self.playlist_id,)
        ) as cur:
            row = await cur.fetchone()
        return row[0] if row else None

    async def ranks_of(self, track_ids: Sequence[str]) -> list[tuple[int, str, str]]:
        """(index, order key, track id) of every entry of these tracks, in order."""
        async with self.conn.execute(
            "SELECT rn, order_key, track_id FROM (SELECT row_number() OVER (ORDER BY order_key) - 1 AS rn,"
            " order_key, track_id FROM playlist_entries WHERE playlist_id = ?)"
            f" WHERE track_id IN ({_IDS}) ORDER BY rn", (self.playlist_id, json.dumps(list(track_ids)))
        ) as cur:
            return [(int(r[0]), r[1], r[2]) for r in await cur.fetchall()]

    async def insert(self, rows: Sequence[KeyedEntry]) -> None:
        """Add entries under new order keys."""
        await self.conn.executemany(
            "INSERT INTO playlist_entries (playlist_id, order_key, track_id, added_by, added_at)"
            " VALUES (?, ?, ?, ?, ?)",
            [(self.playlist_id, r.key, r.entry.track_id, r.entry.added_by, r.entry.added_at) for r in rows],
        )
        self.rows_written += len(rows)
        self._added += [r.key for r in rows]

    async def rekey(self, moves: Sequence[tuple[KeyedEntry, str]]) -> None:
        """Give entries new order keys ((entry, new key) pairs): a move writes only the entries it moves."""
        await self.conn.executemany(
            "UPDATE playlist_entries SET order_key = ? WHERE playlist_id = ? AND order_key = ?",
            [(new, self.playlist_id, old.key) for old, new in moves],
        )
        self.rows_written += len(moves)
        self._removed += [(old.key, old.entry.track_id) for old, _ in moves]
        self._added += [new for _, new in moves]

    async def delete(self, rows: Sequence[tuple[str, str]]) -> None:
        """Remove entries by (order key, track id)."""
        await self.conn.execute(
            f"DELETE FROM playlist_entries WHERE playlist_id = ? AND order_key IN ({_IDS})",
            (self.playlist_id, json.dumps([k for k, _ in rows])),
        )
        self.rows_written += len(rows)
        self._removed += rows

    async def undo_logs(self, base: int) -> list[EntryChanges] | None:
        """The entry changes of every version after `base`, newest first; None when one is not logged."""
        async with self.conn.execute(
            "SELECT version, changes FROM playlist_edits WHERE playlist_id = ? AND version > ? ORDER BY version DESC",
            (self.playlist_id, base),
        ) as cur:
            rows = await cur.fetchall()
        if len(rows) != self.version - base or any(r[1] is None for r in rows):
            return None  # pruned, too big to log, or the scanner removed entries without a log
        return [msgspec.json.decode(r[1], type=EntryChanges) for r in rows]

    async def set_details(self, **fields: Any) -> None:
        cols = {k: v for k, v in fields.items() if v is not None}
        if not cols:
            return
        for k in ("public", "collaborative"):
            if k in cols:
                cols[k] = int(cols[k])
        sets = ", ".join(f"{k} = ?" for k in cols)  # keys come from the service, never from a client
        await self.conn.execute(f"UPDATE playlists SET {sets} WHERE id = ?", (*cols.values(), self.playlist_id))

    async def set_cover(self, cover_id: str, size: int, width: int | None, height: int | None) -> None:
        await self.conn.execute(
            "INSERT OR IGNORE INTO covers (id, mime, width, height, size, source, created_at)"
            " VALUES (?, 'image/jpeg', ?, ?, ?, 'upload', ?)", (cover_id, width, height, size, utc_now()),
        )
        await self.conn.execute("UPDATE playlists SET cover_id = ? WHERE id = ?", (cover_id, self.playlist_id))

    async def commit(self, kind: str, low: int | None, user_id: str | None) -> int:
        """Bump the version and log the change; return the new version."""
        now = utc_now()
        self.version += 1
        await self.conn.execute(
            "UPDATE playlists SET version = ?, updated_at = ? WHERE id = ?", (self.version, now, self.playlist_id)
        )
        changes = None
        if len(self._added) + len(self._removed) <= MAX_LOGGED_CHANGES:
            changes = msgspec.json.encode(EntryChanges(self._added, self._removed)).decode()
        await self.conn.execute(
            "INSERT OR REPLACE INTO playlist_edits (playlist_id, version, kind, low, user_id, at, changes)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)", (self.playlist_id, self.version, kind, low, user_id, now, changes),
        )
        if self.version % 50 == 0:
            await self.conn.execute(
                "DELETE FROM playlist_edits WHERE playlist_id = ? AND version <= ?",
                (self.playlist_id, self.version - EDIT_LOG_KEEP),
            )
        return self.version


class PlaylistRepository:
    def __init__(self, db: Database, covers_dir: Path) -> None:
        self.db = db
        self.covers_dir = covers_dir

    # -- reads --------------------------------------------------------------------------------------------

    async def get(self, playlist_id: str, viewer_id: str | None = None) -> tuple[Playlist, Viewer] | None:
        r = await self.db.fetchone(
            f"SELECT {_COLS}, {_COLLAB.format('?')},"
            " EXISTS (SELECT 1 FROM playlist_follows f WHERE f.playlist_id = p.id AND f.user_id = ?)"
            " FROM playlists p JOIN users u ON u.id = p.owner_id WHERE p.id = ?",
            (viewer_id, viewer_id, playlist_id),
        )
        if r is None:
            return None
        pl = _playlist(r)
        return pl, Viewer(owner=pl.owner_id == viewer_id, collaborator=bool(r[_N_COLS]),
                          following=bool(r[_N_COLS + 1]))

    async def library(self, user_id: str, viewer_id: str, limit: int, offset: int) -> tuple[list[Playlist], int]:
        """Playlists in `user_id`'s library (owned, followed, collaborating) that `viewer_id` may see, newest first.

        A user sees their whole library; others see what it shows publicly (owned and publicly followed)
        and that they may read.
        """
        rows = await self.db.fetchall(
            "WITH scope (id, since, shown) AS ("
            "  SELECT id, created_at, 1 FROM playlists WHERE owner_id = :u"
            "  UNION ALL SELECT playlist_id, created_at, public FROM playlist_follows WHERE user_id = :u"
            "  UNION ALL SELECT playlist_id, added_at, 0 FROM playlist_collaborators WHERE user_id = :u),"
            " lib AS (SELECT id, max(since) AS since, max(shown) AS shown FROM scope GROUP BY id)"
            f" SELECT {_COLS}, count(*) OVER () FROM lib JOIN playlists p ON p.id = lib.id"
            " JOIN users u ON u.id = p.owner_id"
            f" WHERE (p.owner_id = :v OR p.public OR {_COLLAB.format(':v')}) AND (:u = :v OR lib.shown)"
            " ORDER BY lib.since DESC, p.id LIMIT :limit OFFSET :offset",
            {"u": user_id, "v": viewer_id, "limit": limit, "offset": offset},
        )
        if not rows and offset > 0:
            return [], await self._library_total(user_id, viewer_id)
        return [_playlist(r) for r in rows], (rows[0][_N_COLS] if rows else 0)

    async def _library_total(self, user_id: str, viewer_id: str) -> int:
        _, total = await self.library(user_id, viewer_id, 1, 0)
        return total

    async def visible(self, user_id: str) -> list[Playlist]:
        """Every playlist `user_id` may read: own, collaborating, and everyone's public ones (Subsonic lists)."""
        rows = await self.db.fetchall(
            f"SELECT {_COLS} FROM playlists p JOIN users u ON u.id = p.owner_id"
            f" WHERE p.owner_id = :u OR p.public OR {_COLLAB.format(':u')} ORDER BY p.name COLLATE NOCASE, p.id",
            {"u": user_id},
        )
        return [_playlist(r) for r in rows]

    async def entries(self, playlist_id: str, limit: int = -1, offset: int = 0) -> list[PlaylistEntry]:
        rows = await self.db.fetchall(
            "SELECT track_id, added_by, added_at FROM playlist_entries WHERE playlist_id = ?"
            " ORDER BY order_key LIMIT ? OFFSET ?", (playlist_id, limit, offset),
        )
        return [PlaylistEntry(*r) for r in rows]

    async def durations(self, playlist_ids: Sequence[str]) -> dict[str, float]:
        """Summed track durations per playlist (a join over every entry: only where a client shows it)."""
        rows = await self.db.fetchall(
            "SELECT e.playlist_id, coalesce(sum(t.duration), 0) FROM playlist_entries e"
            f" JOIN tracks t ON t.id = e.track_id WHERE e.playlist_id IN ({_IDS}) GROUP BY e.playlist_id",
            (json.dumps(list(playlist_ids)),),
        )
        return {r[0]: float(r[1]) for r in rows}

    async def existing_tracks(self, track_ids: Sequence[str]) -> set[str]:
        rows = await self.db.fetchall(f"SELECT id FROM tracks WHERE id IN ({_IDS})", (json.dumps(list(track_ids)),))
        return {r[0] for r in rows}

    async def user_roles(self, user_ids: Sequence[str]) -> dict[str, str]:
        """The role of each user id that exists (disabled accounts left out)."""
        rows = await self.db.fetchall(
            f"SELECT id, role FROM users WHERE disabled = 0 AND id IN ({_IDS})", (json.dumps(list(user_ids)),)
        )
        return {r[0]: r[1] for r in rows}

    async def user_exists(self, user_id: str) -> bool:
        return await self.db.fetchone("SELECT 1 FROM users WHERE id = ?", (user_id,)) is not None

    async def track_keys(self) -> list[TrackKey]:
        """Every track with its path parts and names, for matching imported playlists."""
        rows = await self.db.fetchall(
            "SELECT t.id, f.path, t.path, t.title, t.artist_display, al.name FROM tracks t"
            " JOIN library_folders f ON f.id = t.folder_id JOIN albums al ON al.id = t.album_id"
        )
        return [TrackKey(*r) for r in rows]

    # -- writes -------------------------------------------------------------------------------------------

    async def create(self, playlist_id: str, owner_id: str, name: str, description: str, public: bool,
                     collaborative: bool) -> None:
        now = utc_now()
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO playlists (id, owner_id, name, description, public, collaborative, version, created_at,"
                " updated_at) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?)",
                (playlist_id, owner_id, name, description, int(public), int(collaborative), now, now),
            )
            await conn.execute(
                "INSERT INTO playlist_edits (playlist_id, version, kind, low, user_id, at)"
                " VALUES (?, 1, 'create', NULL, ?, ?)", (playlist_id, owner_id, now),
            )

    @asynccontextmanager
    async def edit(self, playlist_id: str) -> AsyncIterator[PlaylistEditor | None]:
        """One change as one write transaction (BEGIN IMMEDIATE): concurrent changes run one after another."""
        async with self.db.transaction() as conn:
            async with conn.execute("SELECT version FROM playlists WHERE id = ?", (playlist_id,)) as cur:
                row = await cur.fetchone()
            yield PlaylistEditor(conn, playlist_id, int(row[0])) if row else None

    async def delete(self, playlist_id: str) -> bool:
        return await self.db.execute("DELETE FROM playlists WHERE id = ?", (playlist_id,)) > 0

    async def store_cover(self, data: bytes) -> tuple[str, int | None, int | None]:
        """Write JPEG bytes under their content hash in the covers folder; (cover id, width, height)."""
        cover_id = hashlib.blake2b(data, digest_size=16).hexdigest()
        w, h = await asyncio.to_thread(_write_file, self.covers_dir, cover_id, data)
        return cover_id, w, h

    # -- follows and collaborators ------------------------------------------------------------------------

    async def follow(self, playlist_id: str, user_id: str, public: bool) -> None:
        await self.db.execute(
            "INSERT INTO playlist_follows (user_id, playlist_id, created_at, public) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (user_id, playlist_id) DO UPDATE SET public = excluded.public",
            (user_id, playlist_id, utc_now(), int(public)),
        )

    async def unfollow(self, playlist_id: str, user_id: str) -> None:
        await self.db.execute("DELETE FROM playlist_follows WHERE user_id = ? AND playlist_id = ?",
                              (user_id, playlist_id))

    async def followers_among(self, playlist_id: str, user_ids: Sequence[str]) -> set[str]:
        rows = await self.db.fetchall(
            f"SELECT user_id FROM playlist_follows WHERE playlist_id = ? AND user_id IN ({_IDS})",
            (playlist_id, json.dumps(list(user_ids))),
        )
        return {r[0] for r in rows}

    async def collaborators(self, playlist_id: str) -> list[tuple[str, str, str]]:
        """(user id, display name, added at) of each invited collaborator."""
        rows = await self.db.fetchall(
            "SELECT c.user_id, coalesce(u.display_name, u.username), c.added_at FROM playlist_collaborators c"
            " JOIN users u ON u.id = c.user_id WHERE c.playlist_id = ? ORDER BY c.added_at, c.user_id",
            (playlist_id,),
        )
        return [(r[0], r[1], r[2]) for r in rows]

    async def add_collaborators(self, playlist_id: str, user_ids: Sequence[str]) -> None:
        now = utc_now()
        await self.db.executemany(
            "INSERT OR IGNORE INTO playlist_collaborators (playlist_id, user_id, added_at) VALUES (?, ?, ?)",
            [(playlist_id, u, now) for u in user_ids],
        )

    async def remove_collaborators(self, playlist_id: str, user_ids: Sequence[str]) -> None:
        await self.db.execute(
            f"DELETE FROM playlist_collaborators WHERE playlist_id = ? AND user_id IN ({_IDS})",
            (playlist_id, json.dumps(list(user_ids))),
        )

