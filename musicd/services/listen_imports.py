"""History imports uploaded through /v1: the body is spooled to a file in the data dir as it arrives (never
held in memory, bounded by `listens.import_max_bytes`), then imported in the background; the client follows
the job until it says done with its summary. One import per user at a time."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any

import msgspec

from musicd.domain.listens import ListenSummary
from musicd.domain.models import User
from musicd.errors import ConflictError, MusicdError, NotFoundError, ValidationError
from musicd.logs import get_logger
from musicd.services.listen_files import ListenFile
from musicd.services.listens import ListenService
from musicd.services.rules import require_member
from musicd.store.db import utc_now
from musicd.store.listens import ListenCounts

__all__ = ["ImportJob", "ImportTooLarge", "ListenImports", "ListenOverview"]

log = get_logger("musicd.listens")

_KEEP_JOBS = 50


class ImportTooLarge(MusicdError):
    code = "import_too_large"
    status = 413


class ImportJob(msgspec.Struct):
    id: str
    user_id: str
    status: str  # "running", "done" or "failed"
    format: str
    bytes: int
    created_at: str
    progress: float = 0.0
    summary: ListenSummary = msgspec.field(default_factory=ListenSummary)
    error: str | None = None
    finished_at: str | None = None


class ListenOverview(msgspec.Struct, frozen=True):
    counts: ListenCounts
    imports: list[ImportJob]


class ListenImports:
    def __init__(self, listens: ListenService, spool_dir: Path, max_bytes: int,
                 spawn: Callable[[str, Coroutine[Any, Any, Any]], Any]) -> None:
        self.listens = listens
        self.spool_dir = spool_dir
        self.max_bytes = max_bytes
        self._spawn = spawn
        self._jobs: dict[str, ImportJob] = {}
        self._busy: set[str] = set()

    async def upload(self, user: User, chunks: AsyncIterator[bytes], fmt: str | None = None,
                     length: int | None = None) -> ImportJob:
        """Spool an uploaded history file and start importing it; the job to follow."""
        require_member(user)
        if length is not None and length > self.max_bytes:
            raise ImportTooLarge(f"the file is larger than the {self.max_bytes} bytes an import may have")
        if user.id in self._busy:
            raise ConflictError("an import of yours is already running", code="import_running")
        self._busy.add(user.id)
        path = self.spool_dir / f"{secrets.token_hex(8)}.upload"
        try:
            size = await self._spool(chunks, path)
            if size == 0:
                raise ValidationError("the upload is empty", code="invalid_import_file")
            listen_file = ListenFile(path, fmt)
        except BaseException:
            self._busy.discard(user.id)
            with contextlib.suppress(OSError):
                path.unlink()
            raise
        job = ImportJob(secrets.token_urlsafe(12), user.id, "running", listen_file.format, size, utc_now())
        self._jobs[job.id] = job
        while len(self._jobs) > _KEEP_JOBS:
            del self._jobs[next(iter(self._jobs))]
        self._spawn(f"listens-import-{job.id}", self._run(user, job, listen_file))
        return job

    async def _spool(self, chunks: AsyncIterator[bytes], path: Path) -> int:
        self.spool_dir.mkdir(parents=True, exist_ok=True)
        size = 0
        with path.open("wb") as f:
            async for chunk in chunks:
                size += len(chunk)
                if size > self.max_bytes:
                    raise ImportTooLarge(f"the file is larger than the {self.max_bytes} bytes an import may have")
                if chunk:
                    await asyncio.to_thread(f.write, chunk)
        return size

    async def _run(self, user: User, job: ImportJob, listen_file: ListenFile) -> None:
        def progress(done: int, total: int, summary: ListenSummary) -> None:
            job.progress = round(done / total, 4) if total else 1.0
            job.summary = summary

        try:
            job.summary = await self.listens.import_file(user, listen_file, progress)
            job.status, job.progress = "done", 1.0
        except MusicdError as e:
            job.status, job.error = "failed", e.message
        except Exception as e:  # a bug or a full disk: the job says so, the server keeps serving
            log.error("listens.import_failed", job=job.id, error=repr(e))
            job.status, job.error = "failed", "the import stopped on an internal error"
        finally:
            job.finished_at = utc_now()
            self._busy.discard(user.id)
            with contextlib.suppress(OSError):
                listen_file.path.unlink()

    def job(self, user: User, job_id: str) -> ImportJob:
        """One of the user's import jobs (since the server started)."""
        job = self._jobs.get(job_id)
        if job is None or job.user_id != user.id:
            raise NotFoundError("no such import", code="import_not_found")
        return job

    async def overview(self, user: User) -> ListenOverview:
        """The user's listens (matched or not) and their import jobs since the server started, newest first."""
        counts = await self.listens.counts(user)
        return ListenOverview(counts, [j for j in reversed(self._jobs.values()) if j.user_id == user.id])

    def clear_spool(self) -> None:
        """Remove uploads a stopped server left behind (called at start)."""
        if self.spool_dir.is_dir():
            for p in self.spool_dir.glob("*.upload"):
                with contextlib.suppress(OSError):
                    p.unlink()
