"""What the scans left out, for admins: the files they could not read (kept in the catalogue's list of
failures until the file changes or goes) and the folders the last scan could not open, with the reasons.

Public methods: skipped(user, limit, offset) -> SkippedPage (admins only).
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from musicd.domain.models import User
from musicd.services.library import LibraryService
from musicd.services.playlist_core import check_page
from musicd.services.rules import require_admin
from musicd.store.catalog import CatalogRepository

__all__ = ["MAX_SKIPPED_PAGE", "ScanReport", "SkippedFile", "SkippedPage"]

MAX_SKIPPED_PAGE = 500


class SkippedFile(msgspec.Struct, frozen=True):
    path: str  # as found on disk
    folder: str | None  # the library folder it is under, if still configured
    rel_path: str  # inside that folder (the path itself otherwise)
    reason: str
    kind: str  # "file" (unreadable tags or audio) or "folder" (could not be opened)
    seen_at: str | None


class SkippedPage(msgspec.Struct, frozen=True):
    items: list[SkippedFile]
    total: int  # files; the folders of the last scan come on the first page on top of them
    limit: int
    offset: int


class ScanReport:
    def __init__(self, catalog: CatalogRepository, library: LibraryService) -> None:
        self.catalog = catalog
        self.library = library

    def _place(self, path: str) -> tuple[str | None, str]:
        for folder in self.library.folders:
            try:
                return str(folder), str(Path(path).relative_to(folder))
            except ValueError:
                continue
        return None, path

    async def skipped(self, user: User, limit: int = 100, offset: int = 0) -> SkippedPage:
        """The files the scans skipped (by path) with their reasons; the last scan's unreadable folders first."""
        require_admin(user)
        check_page(limit, offset, MAX_SKIPPED_PAGE)
        rows, total = await self.catalog.failures_page(limit, offset)
        items = [SkippedFile(p, *self._place(p), reason, "file", seen) for p, reason, seen in rows]
        last = self.library.state.last
        if offset == 0 and last is not None:
            items[:0] = [SkippedFile(d, *self._place(d), reason, "folder", None) for d, reason in last.unreadable_dirs]
        return SkippedPage(items, total, limit, offset)
