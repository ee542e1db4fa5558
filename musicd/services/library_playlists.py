"""Playlist files in the library folders (.m3u, .m3u8) become playlists, after every scan.

Each file makes one playlist of the first admin, visible to the household (public), named after the
file (or its #PLAYLIST line); its lines are matched to library tracks like an imported file's, relative
paths against the file's folder. A changed file replaces its playlist's tracks; an unchanged one is not
read again; a playlist deleted by hand stays deleted until its file changes. When a file goes, its
playlist stays as an ordinary playlist (someone may have kept editing it).

Public methods: sync() -> PlaylistSync (the scan's consumer calls it; the CLI may too).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from pathlib import Path

import msgspec

from musicd.domain.models import User
from musicd.errors import MusicdError, NotFoundError
from musicd.logs import get_logger
from musicd.services.accounts import AccountService
from musicd.services.library import LibraryService
from musicd.services.playlist_core import MAX_DESCRIPTION, MAX_NAME
from musicd.services.playlists import PlaylistService
from musicd.store.library_playlists import LibraryPlaylistRepository

__all__ = ["PLAYLIST_EXTENSIONS", "LibraryPlaylists", "PlaylistSync"]

log = get_logger("musicd.library")

PLAYLIST_EXTENSIONS = (".m3u", ".m3u8")
_MAX_BYTES = 4 << 20  # a playlist file larger than this is not a playlist a person made


class PlaylistSync(msgspec.Struct, frozen=True):
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: list[tuple[str, str]] = []  # (path, reason)


def _find(folders: Sequence[Path]) -> dict[str, os.stat_result]:
    """Every playlist file under the folders (hidden entries skipped), with its stat."""
    out: dict[str, os.stat_result] = {}
    for folder in folders:
        for d, dirs, files in os.walk(folder):
            dirs[:] = [x for x in dirs if not x.startswith(".")]
            for f in files:
                if not f.startswith(".") and f.lower().endswith(PLAYLIST_EXTENSIONS):
                    p = os.path.join(d, f)
                    try:
                        out[p] = os.stat(p)
                    except OSError:
                        continue
    return out


class LibraryPlaylists:
    def __init__(self, repo: LibraryPlaylistRepository, playlists: PlaylistService, accounts: AccountService,
                 library: LibraryService) -> None:
        self.repo = repo
        self.playlists = playlists
        self.accounts = accounts
        self.library = library  # its folders, as configured now
        self._lock = asyncio.Lock()

    async def _owner(self) -> User | None:
        admins = [u for u in await self.accounts.list() if u.role == "admin" and not u.disabled]
        return min(admins, key=lambda u: (u.created_at, u.id)) if admins else None

    async def sync(self) -> PlaylistSync:
        """Import new and changed playlist files of the library folders."""
        async with self._lock:
            owner = await self._owner()
            if owner is None:
                return PlaylistSync()
            found = await asyncio.to_thread(_find, list(self.library.folders))
            known = await self.repo.all()
            imported = updated = unchanged = 0
            failed: list[tuple[str, str]] = []
            for path, st in sorted(found.items()):
                rec = known.get(path)
                if rec is not None and rec.size == st.st_size and rec.mtime_ns == st.st_mtime_ns:
                    unchanged += 1
                    continue
                try:
                    if st.st_size > _MAX_BYTES:
                        raise MusicdError(f"larger than {_MAX_BYTES >> 20} MB")
                    body = await asyncio.to_thread(Path(path).read_bytes)
                    parsed, matched, unmatched = await self.playlists.match_file(body, os.path.dirname(path))
                    pid = await self._apply(owner, rec.playlist_id if rec else None, path, parsed.name,
                                            parsed.description, matched)
                except (MusicdError, OSError) as e:
                    failed.append((path, str(e)))
                    log.warning("scan.playlist_failed", path=path, reason=str(e))
                    continue
                await self.repo.save(path, pid, st.st_size, st.st_mtime_ns, len(matched), len(unmatched))
                imported, updated = (imported, updated + 1) if rec and rec.playlist_id == pid else (imported + 1,
                                                                                                  updated)
            for path in set(known) - set(found):
                await self.repo.forget(path)  # the file went: its playlist stays, an ordinary one now
            return PlaylistSync(imported, updated, unchanged, failed)

    async def _apply(self, owner: User, playlist_id: str | None, path: str, name: str | None,
                     description: str | None, track_ids: list[str]) -> str:
        if playlist_id is not None:
            try:
                await self.playlists.replace(owner, playlist_id, track_ids)
                return playlist_id
            except NotFoundError:
                pass  # deleted since: make it again, the file changed
        title = (name or Path(path).stem)[:MAX_NAME]
        pl = await self.playlists.create(owner, title, (description or "")[:MAX_DESCRIPTION], public=True)
        if track_ids:
            await self.playlists.replace(owner, pl.id, track_ids)
        return pl.id
