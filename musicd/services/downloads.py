"""Album and playlist downloads as a zip streamed while it is written (no temporary file).

The stdlib `zipfile` writes into a pipe-like object (it is not seekable, so zipfile puts sizes
and CRCs in data descriptors after each entry) on a thread of its own; the request reads the
chunks from a small bounded queue, so a slow client holds back the writer instead of memory.
Audio is already compressed: entries are stored, not deflated.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
import threading
import zipfile
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from musicd.domain.models import User
from musicd.errors import NotFoundError
from musicd.logs import get_logger
from musicd.services.playback import PlaybackService
from musicd.services.playlists import PlaylistService
from musicd.store.media_lookup import MediaLookup, ZipEntryRow

__all__ = ["Downloads", "ZipDownload", "zip_name", "zip_stream"]

log = get_logger("musicd.downloads")

_FLUSH_AT = 256 * 1024
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


def zip_name(text: str, limit: int = 120) -> str:
    """A file or folder name safe on every OS (no separators, reserved characters or trailing dots)."""
    clean = _UNSAFE.sub("_", text).strip().strip(".").strip()
    return clean[:limit].rstrip(" .") or "untitled"


@dataclass(frozen=True, slots=True)
class ZipDownload:
    filename: str  # the .zip name offered to the browser
    chunks: AsyncIterator[bytes]


class _Cancelled(Exception):
    pass


class _PipeWriter(io.RawIOBase):
    """A write-only, unseekable file that hands coalesced chunks to an asyncio queue."""

    def __init__(self, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[bytes | None]) -> None:
        self.loop = loop
        self.queue = queue
        self.buf = bytearray()
        self.cancelled = threading.Event()

    def writable(self) -> bool:
        return True

    def write(self, b: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        self.buf += b
        if len(self.buf) >= _FLUSH_AT:
            self.push(bytes(self.buf))
            self.buf.clear()
        return len(b)

    def push(self, item: bytes | None) -> None:
        fut = asyncio.run_coroutine_threadsafe(self.queue.put(item), self.loop)
        while True:
            if self.cancelled.is_set():
                fut.cancel()
                raise _Cancelled
            try:
                fut.result(timeout=0.5)
                return
            except TimeoutError:
                continue


def _entry_names(rows: Sequence[ZipEntryRow], folder: str | None) -> list[str]:
    multi_disc = len({r.disc_number or 1 for r in rows}) > 1
    seen: dict[str, int] = {}
    names = []
    for i, r in enumerate(rows, 1):
        ext = Path(r.path).suffix.lower() or f".{r.format}"
        if folder is None:  # a playlist: order by position, artist in the name
            base = f"{i:02d} - {zip_name(r.artist, 60)} - {zip_name(r.title)}"
        else:
            num = f"{r.track_number:02d}" if r.track_number else f"{i:02d}"
            base = f"{r.disc_number or 1}-{num} - {zip_name(r.title)}" if multi_disc else f"{num} - {zip_name(r.title)}"
        n = seen.get(base.casefold(), 0)
        seen[base.casefold()] = n + 1
        name = f"{base} ({n + 1}){ext}" if n else f"{base}{ext}"
        names.append(f"{folder}/{name}" if folder else name)
    return names


async def zip_stream(entries: Sequence[tuple[str, str]]) -> AsyncIterator[bytes]:
    """The bytes of a stored zip of (file path, name in the zip) pairs, produced as they are read."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=8)
    out = _PipeWriter(loop, queue)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
                for path, name in entries:
                    try:
                        zf.write(path, name)
                    except FileNotFoundError:
                        log.warning("download.file_missing", path=path)
            if out.buf:
                out.push(bytes(out.buf))
        except _Cancelled:
            return
        except BaseException as e:
            errors.append(e)
        with contextlib.suppress(_Cancelled):
            out.push(None)

    thread = threading.Thread(target=work, name="zip-writer", daemon=True)
    thread.start()
    try:
        while (chunk := await queue.get()) is not None:
            yield chunk
        if errors:
            raise errors[0]
    finally:
        out.cancelled.set()
        while not queue.empty():
            queue.get_nowait()


class Downloads:
    """Zips of albums and of track lists (playlists), for users allowed to download."""

    def __init__(self, lookup: MediaLookup, playback: PlaybackService, playlists: PlaylistService) -> None:
        self.lookup = lookup
        self.playback = playback
        self.playlists = playlists

    async def album_zip(self, album_id: str, user: User) -> ZipDownload:
        self.playback.check_download(user)
        found = await self.lookup.album_entries(album_id)
        if found is None:
            raise NotFoundError(f"no album with id {album_id}", code="album_not_found")
        name, artist, rows = found
        folder = zip_name(f"{artist} - {name}" if artist else name)
        entries = list(zip((r.path for r in rows), _entry_names(rows, folder), strict=True))
        return ZipDownload(f"{folder}.zip", zip_stream(entries))

    async def playlist_zip(self, playlist_id: str, user: User) -> ZipDownload:
        """A playlist the user may read, as a zip in playlist order."""
        self.playback.check_download(user)
        pl, items = await self.playlists.subsonic_get(user, playlist_id)
        return await self.tracks_zip(pl.name, [i.entry.track_id for i in items], user)

    async def tracks_zip(self, title: str, track_ids: Sequence[str], user: User) -> ZipDownload:
        self.playback.check_download(user)
        rows = await self.lookup.track_entries(track_ids)
        folder = zip_name(title)
        entries = list(zip((r.path for r in rows), _entry_names(rows, None), strict=True))
        return ZipDownload(f"{folder}.zip", zip_stream([(p, f"{folder}/{n}") for p, n in entries]))

