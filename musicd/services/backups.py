"""Backups (one .tar.gz: the database, the keys, the config file, uploaded covers), restores, the daily
backup task with its retention, and `musicd db recover`."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec

from musicd import __version__
from musicd.config import Config
from musicd.errors import DatabaseDamagedError, MusicdError, ValidationError, storage_error
from musicd.library.artwork import cover_path
from musicd.logs import get_logger
from musicd.services.data_lock import DataDirLock
from musicd.services.metrics import Metrics
from musicd.store.integrity import quick_check
from musicd.store.migrations import available_migrations
from musicd.store.recover import RecoveryReport, recover_database
from musicd.store.snapshot import DB_FILES, copy_database, describe, upload_covers

__all__ = ["BackupResult", "BackupService", "RecoverResult", "RestoreResult"]

log = get_logger("musicd.backup")

_PREFIX, _SUFFIX = "musicd-backup-", ".tar.gz"
_KEYS = ("keys/server.key", "keys/token.key")
# This server's identity to its friends' servers (federation): restored with the rest so the pairings keep
# working; a backup made before federation has none, and the server then makes a new one at start.
_OPTIONAL_KEYS = ("keys/federation.key",)
_FORMAT = 1
# After a failed automatic backup, try again this soon (or at the next interval, if that comes first).
_RETRY_S = 3600.0
# With no backup yet, the first one waits this long (or one interval, if shorter) after the start, so
# it does not compete with the start itself and a first scan.
_FIRST_DELAY_S = 300.0


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size: int
    seconds: float
    schema_version: int
    counts: dict[str, int]


@dataclass(frozen=True)
class RestoreResult:
    archive: Path
    schema_version: int
    counts: dict[str, int]
    set_aside: Path | None  # where the replaced files went
    config: Path | None  # the backup's config file, written beside the data


@dataclass(frozen=True)
class RecoverResult:
    report: RecoveryReport
    damaged_kept: Path


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


class BackupService:
    """Makes and restores backups of one data dir. `config_file` is the TOML file in use, if any."""

    def __init__(self, config: Config, metrics: Metrics | None = None, config_file: Path | None = None) -> None:
        self.config = config
        self.data_dir = config.data_dir
        self.db_path = self.data_dir / "musicd.db"
        self.metrics = metrics
        self.config_file = config_file

    # -- backup -----------------------------------------------------------------------------------------

    def create(self, dest: Path | None = None) -> BackupResult:
        """Write a backup archive to `dest` (a file, or a folder to put a dated archive in; default: the
        backup folder). Safe while the server runs and writes. Blocking: run it in a thread."""
        started = time.monotonic()
        if not self.db_path.exists():
            raise ValidationError(f"no database at {self.db_path}: nothing to back up")
        if dest is None:
            dest = self.config.backup_dir
            dest.mkdir(parents=True, exist_ok=True)
        if dest.is_dir():
            dest = dest / f"{_PREFIX}{_stamp()}{_SUFFIX}"
        dest.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=dest.parent, prefix=".musicd-backup-") as tmp:
            db_copy = Path(tmp) / "musicd.db"
            copy_database(self.db_path, db_copy)
            if (problem := quick_check(db_copy)) is not None:
                raise DatabaseDamagedError(self.db_path, problem)
            info = describe(db_copy)
            files: dict[str, Path] = {"musicd.db": db_copy}
            for key in _KEYS:
                files[key] = self.data_dir / key
            for key in _OPTIONAL_KEYS:
                if (self.data_dir / key).is_file():
                    files[key] = self.data_dir / key
            if self.config_file is not None and self.config_file.is_file():
                files["config.toml"] = self.config_file
            covers = self.data_dir / "covers"
            for cid, mime in upload_covers(db_copy):
                p = cover_path(covers, cid, mime)
                if p.is_file():
                    files[str(p.relative_to(self.data_dir))] = p
            manifest = {
                "format": _FORMAT, "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "musicd_version": __version__, "data_dir": str(self.data_dir), **info,
                "files": {arc: _sha256(p) for arc, p in files.items()},
                "settings": msgspec.to_builtins(self.config),
            }
            part = Path(tmp) / "archive.tar.gz"
            # gzip level 1: a 86 MB database packs to 27 MB in about 1 s; level 6 saves 1 MB more for 2 s.
            with tarfile.open(part, "w:gz", compresslevel=1) as tar:
                blob = json.dumps(manifest, indent=1).encode()
                ti = tarfile.TarInfo("manifest.json")
                ti.size, ti.mtime, ti.mode = len(blob), int(time.time()), 0o600
                tar.addfile(ti, io.BytesIO(blob))
                for arc, p in files.items():
                    tar.add(p, arcname=arc, recursive=False)
            os.chmod(part, 0o600)  # the keys are inside
            os.replace(part, dest)
        size = dest.stat().st_size
        return BackupResult(dest, size, time.monotonic() - started, info["schema_version"], info["counts"])

    # -- restore ----------------------------------------------------------------------------------------

    def restore(self, archive: Path) -> RestoreResult:
        """Put the backup `archive` in place of the data dir's database and keys; the replaced files are
        kept in DATA/before-restore-<time>/. Refused while a server (or anything else) holds the data dir."""
        lock = DataDirLock(self.data_dir)
        lock.acquire("restore")
        try:
            with tempfile.TemporaryDirectory(dir=self.data_dir, prefix=".musicd-restore-") as tmp:
                staged = Path(tmp)
                manifest = self._unpack(archive, staged)
                aside = self._set_aside("before-restore", (*DB_FILES, "keys"))
                for name in ("musicd.db", *_KEYS, *(k for k in _OPTIONAL_KEYS if (staged / k).is_file())):
                    target = self.data_dir / name
                    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                    os.replace(staged / name, target)
                covers = staged / "covers"
                if covers.is_dir():
                    for p in covers.rglob("*"):
                        target = self.data_dir / p.relative_to(staged)
                        if p.is_file() and not target.exists():
                            target.parent.mkdir(parents=True, exist_ok=True)
                            os.replace(p, target)
                config = None
                if (staged / "config.toml").is_file():
                    config = self.data_dir / "restored-config.toml"
                    os.replace(staged / "config.toml", config)
        finally:
            lock.release()
        return RestoreResult(archive, manifest["schema_version"], manifest["counts"], aside, config)

    def _unpack(self, archive: Path, staged: Path) -> dict[str, Any]:
        """Extract and verify a backup archive into `staged`: its manifest, checksums, keys and database."""
        try:
            tar = tarfile.open(archive, "r:*")  # noqa: SIM115 (closed by `with tar` below; only opening is guarded)
        except (OSError, tarfile.TarError) as e:
            raise ValidationError(f"{archive} is not a musicd backup ({e})") from None
        with tar:
            try:
                manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
                files: dict[str, str] = manifest["files"]
            except (KeyError, ValueError, AttributeError, tarfile.TarError):
                raise ValidationError(f"{archive} is not a musicd backup (no manifest)") from None
            for name, digest in files.items():
                # Only the members the manifest lists, only as plain files under the staging folder.
                target = (staged / name).resolve()
                if not target.is_relative_to(staged.resolve()):
                    raise ValidationError(f"{archive}: unsafe member name {name!r}")
                try:
                    member = tar.extractfile(name)
                except (KeyError, tarfile.TarError):
                    member = None
                if member is None:
                    raise ValidationError(f"{archive} is incomplete: {name} is missing")
                target.parent.mkdir(parents=True, exist_ok=True)
                with member, target.open("wb") as out:
                    shutil.copyfileobj(member, out)
                if _sha256(target) != digest:
                    raise ValidationError(f"{archive} is damaged: {name} does not match its checksum")
        for name in ("musicd.db", *_KEYS):
            if not (staged / name).is_file():
                raise ValidationError(f"{archive} is incomplete: {name} is missing")
        if (problem := quick_check(staged / "musicd.db")) is not None:
            raise ValidationError(f"{archive}: its database is damaged ({problem})")
        latest = max((m.version for m in available_migrations()), default=0)
        if manifest.get("schema_version", 0) > latest:
            raise ValidationError(f"{archive} comes from a newer musicd (schema {manifest['schema_version']}, "
                                  f"this one knows {latest}): upgrade musicd first")
        return manifest

    def _set_aside(self, prefix: str, names: tuple[str, ...]) -> Path | None:
        """Move `names` (the database with its -wal/-shm, the keys) into DATA/<prefix>-<time>/; drop the
        search index, which is rebuilt from the database at the next start."""
        aside = self.data_dir / f"{prefix}-{_stamp()}"
        moved = False
        for name in names:
            p = self.data_dir / name
            if p.exists():
                aside.mkdir(mode=0o700, exist_ok=True)
                os.replace(p, aside / name)
                moved = True
        shutil.rmtree(self.data_dir / "index", ignore_errors=True)
        return aside if moved else None

    # -- recover ----------------------------------------------------------------------------------------

    async def recover(self, *, force: bool = False, use_cli: bool = True) -> RecoverResult:
        """Rebuild the database from what its damaged file still holds; the damaged files are kept in
        DATA/damaged-<time>/. Refused while a server holds the data dir, and for a sound database
        unless `force`."""
        if not self.db_path.exists():
            raise ValidationError(f"no database at {self.db_path}: nothing to recover")
        lock = DataDirLock(self.data_dir)
        lock.acquire("recovery")
        try:
            if not force and await asyncio.to_thread(quick_check, self.db_path) is None:
                raise ValidationError(f"{self.db_path} passes the integrity check: nothing to recover "
                                      "(--force rebuilds it anyway)")
            with tempfile.TemporaryDirectory(dir=self.data_dir, prefix=".musicd-recover-") as tmp:
                work = Path(tmp)
                out = work / "recovered.db"
                report = await recover_database(self.db_path, out, work, use_cli=use_cli)
                if (problem := quick_check(out)) is not None:  # never put an unsound file in place
                    raise DatabaseDamagedError(out, problem)
                aside = self._set_aside("damaged", DB_FILES)
                os.replace(out, self.db_path)
        finally:
            lock.release()
        return RecoverResult(report, aside or self.data_dir)

    # -- the automatic backups --------------------------------------------------------------------------

    def archives(self) -> list[Path]:
        """The automatic backups in the backup folder, oldest first."""
        folder = self.config.backup_dir
        if not folder.is_dir():
            return []
        return sorted(p for p in folder.glob(f"{_PREFIX}*{_SUFFIX}") if p.is_file())

    def prune(self) -> list[Path]:
        """Remove the oldest automatic backups beyond `backup.keep`; what was removed."""
        old = self.archives()[: -self.config.backup.keep]
        for p in old:
            p.unlink(missing_ok=True)
        return old

    async def run_once(self) -> BackupResult | None:
        """One automatic backup and its retention; a failure is logged and counted, never raised."""
        m = self.metrics
        try:
            result = await asyncio.to_thread(self.create)
            removed = await asyncio.to_thread(self.prune)
        except Exception as e:
            mapped = storage_error(e, self.config.backup_dir) or e
            reason = mapped.message if isinstance(mapped, MusicdError) else repr(e)
            log.error("backup.failed", error=reason, folder=str(self.config.backup_dir))
            if m is not None:
                m.backups.labels("failed").inc()
            return None
        log.info("backup.done", path=str(result.path), bytes=result.size, seconds=round(result.seconds, 2),
                 removed=[p.name for p in removed])
        if m is not None:
            m.backups.labels("ok").inc()
            m.backup_last_success.set(time.time())
            m.backup_last_bytes.set(result.size)
            m.backup_last_seconds.set(result.seconds)
            m.backups_kept.set(len(self.archives()))
        return result

    def _next_due(self) -> float:
        interval = self.config.backup.interval_hours * 3600
        archives = self.archives()
        if not archives:
            return time.time() + min(interval, _FIRST_DELAY_S)
        return archives[-1].stat().st_mtime + interval

    async def loop(self) -> None:
        """The daily backup: a task owned by the server's lifespan (see `backup` in config)."""
        interval = self.config.backup.interval_hours * 3600
        due = await asyncio.to_thread(self._next_due)
        while True:
            await asyncio.sleep(max(0.0, due - time.time()))
            ok = await self.run_once() is not None
            due = time.time() + (interval if ok else min(interval, _RETRY_S))
