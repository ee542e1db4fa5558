"""Repository of the playlist files found in the library folders and the playlists they made."""

from __future__ import annotations

import msgspec

from musicd.store.db import Database, utc_now

__all__ = ["LibraryPlaylistRecord", "LibraryPlaylistRepository"]


class LibraryPlaylistRecord(msgspec.Struct, frozen=True):
    path: str
    playlist_id: str | None
    size: int
    mtime_ns: int
    matched: int
    unmatched: int
    imported_at: str


class LibraryPlaylistRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def all(self) -> dict[str, LibraryPlaylistRecord]:
        rows = await self.db.fetchall(
            "SELECT path, playlist_id, size, mtime_ns, matched, unmatched, imported_at FROM library_playlists")
        return {r[0]: LibraryPlaylistRecord(*r) for r in rows}

    async def save(self, path: str, playlist_id: str, size: int, mtime_ns: int, matched: int, unmatched: int
                   ) -> None:
        await self.db.execute(
            "INSERT INTO library_playlists (path, playlist_id, size, mtime_ns, matched, unmatched, imported_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (path) DO UPDATE SET playlist_id = excluded.playlist_id,"
            " size = excluded.size, mtime_ns = excluded.mtime_ns, matched = excluded.matched,"
            " unmatched = excluded.unmatched, imported_at = excluded.imported_at",
            (path, playlist_id, size, mtime_ns, matched, unmatched, utc_now()))

    async def forget(self, path: str) -> None:
        await self.db.execute("DELETE FROM library_playlists WHERE path = ?", (path,))
