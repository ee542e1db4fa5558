"""Reads the playback path needs: where a track's file is, an album's files, a device's quality cap."""

from __future__ import annotations

import json
from collections.abc import Sequence

import msgspec

from musicd.store.db import Database

__all__ = ["MediaLookup", "SourceRow", "ZipEntryRow"]

_IDS = "SELECT value FROM json_each(?)"


class SourceRow(msgspec.Struct, frozen=True, array_like=True):
    id: str
    path: str
    format: str
    size: int
    mtime_ns: int
    bitrate: int | None
    duration: float
    title: str


class ZipEntryRow(msgspec.Struct, frozen=True, array_like=True):
    id: str
    path: str
    format: str
    size: int
    mtime_ns: int
    disc_number: int | None
    track_number: int | None
    title: str
    artist: str
    album: str


_SOURCE_COLS = "t.id, t.path, t.format, t.size, t.mtime_ns, t.bitrate, t.duration, t.title"
_ZIP_COLS = ("t.id, t.path, t.format, t.size, t.mtime_ns, t.disc_number, t.track_number, t.title,"
             " t.artist_display, al.name")


class MediaLookup:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def sources(self, track_ids: Sequence[str]) -> dict[str, SourceRow]:
        """The files of these tracks, by id (unknown ids are absent)."""
        if len(track_ids) == 1:
            rows = await self.db.fetchall(f"SELECT {_SOURCE_COLS} FROM tracks t WHERE t.id = ?", (track_ids[0],))
        else:
            rows = await self.db.fetchall(
                f"SELECT {_SOURCE_COLS} FROM tracks t WHERE t.id IN ({_IDS})", (json.dumps(list(track_ids)),)
            )
        return {r[0]: SourceRow(*r) for r in rows}

    async def all_sources(self, formats: Sequence[str] | None = None) -> list[SourceRow]:
        """Every track's file (of the given formats), most played and newest first: the pre-transcode order."""
        where, params = "", ()
        if formats is not None:
            where, params = f"WHERE t.format IN ({_IDS})", (json.dumps(list(formats)),)
        rows = await self.db.fetchall(
            f"SELECT {_SOURCE_COLS} FROM tracks t {where} ORDER BY t.play_count DESC, t.created_at DESC, t.id",
            params,
        )
        return [SourceRow(*r) for r in rows]

    async def source_ids(self, formats: Sequence[str]) -> str:
        """The ids of `all_sources` in the same order, one a line, in one string: a pass over the library
        reads them a chunk at a time. 100k ids as a list of rows then strings left the server's heap about
        29 MiB larger for good; as one string they are 2.3 MB."""
        row = await self.db.fetchone(
            f"SELECT group_concat(id, char(10)) FROM (SELECT t.id FROM tracks t WHERE t.format IN ({_IDS})"
            " ORDER BY t.play_count DESC, t.created_at DESC, t.id)", (json.dumps(list(formats)),))
        return row[0] if row and row[0] else ""

    async def album_entries(self, album_id: str) -> tuple[str, str, list[ZipEntryRow]] | None:
        """An album's name, album artist and tracks in disc/track order; None when there is no such album."""
        row = await self.db.fetchone(
            "SELECT al.name, ar.name FROM albums al JOIN artists ar ON ar.id = al.album_artist_id WHERE al.id = ?",
            (album_id,),
        )
        if row is None:
            return None
        rows = await self.db.fetchall(
            f"SELECT {_ZIP_COLS} FROM tracks t JOIN albums al ON al.id = t.album_id WHERE t.album_id = ?"
            " ORDER BY coalesce(t.disc_number, 1), t.track_number, t.path",
            (album_id,),
        )
        return row[0], row[1], [ZipEntryRow(*r) for r in rows]

    async def track_entries(self, track_ids: Sequence[str]) -> list[ZipEntryRow]:
        """Zip entries of tracks in the order given (repeats kept, unknown ids dropped)."""
        rows = await self.db.fetchall(
            f"SELECT {_ZIP_COLS} FROM tracks t JOIN albums al ON al.id = t.album_id WHERE t.id IN ({_IDS})",
            (json.dumps(list(track_ids)),),
        )
        by_id = {r[0]: ZipEntryRow(*r) for r in rows}
        return [by_id[i] for i in track_ids if i in by_id]

    async def device_max_quality(self, device_id: str, user_id: str) -> str | None:
        """The quality cap of one of the user's devices (None: no cap or no such device)."""
        row = await self.db.fetchone(
            "SELECT max_quality FROM devices WHERE id = ? AND user_id = ?", (device_id, user_id)
        )
        return row[0] if row else None
