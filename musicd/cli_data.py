"""The data dir's commands (`musicd backup`, `musicd restore`, `musicd db recover`), the one-line
messages every command gives for a damaged database or a full disk, and the move of an older version's
`./data` to the data dir every command now finds."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from musicd.config import Config
from musicd.errors import (
    ConflictError,
    DatabaseDamagedError,
    MusicdError,
    StorageError,
    StorageFullError,
    storage_error,
)
from musicd.services.backups import BackupService
from musicd.services.data_lock import DataDirLock
from musicd.services.health import free_bytes

__all__ = ["adopt_old_data_dir", "backup", "db_recover", "one_line_errors", "require_free_space", "restore"]

OLD_DEFAULT = "data"  # the data dir's default until the per-user one: ./data in the folder a command ran from
_LOCK = "musicd.lock"


def adopt_old_data_dir(config: Config, cwd: Path) -> tuple[Path, str] | None:
    """An older version's `./data` (with a database) when no data dir is configured and the per-user one
    has none yet: moved there, a link left in its place (paths the database holds, such as downloaded
    podcast episodes, keep working). Returns the data dir to use and the one line that says what happened;
    None when there is nothing to adopt. A copy that cannot be moved (in use, on another disk, or the new
    place already holds some of its files) is used where it is."""
    old, new = cwd / OLD_DEFAULT, config.data_dir
    if config.data.dir or not (old / "musicd.db").is_file() or old.resolve() == new or (new / "musicd.db").exists():
        return None
    old = old.resolve()
    lock = DataDirLock(old)
    try:
        lock.acquire("move to the new data dir")
    except ConflictError:
        return old, (f"musicd: using the data dir of an older version, {old}, which a musicd is using "
                     f"(stop it and run again to move it to {new}, where every command finds it)")
    try:
        new.mkdir(parents=True, exist_ok=True)
        taken = sorted({p.name for p in new.iterdir()} & {p.name for p in old.iterdir()} - {_LOCK})
        if os.stat(old).st_dev != os.stat(new).st_dev or taken:
            why = f"{new} already has {', '.join(taken)}" if taken else f"{new} is on another disk"
            return old, (f"musicd: using the data dir of an older version, {old} ({why}): "
                         f"set MUSICD_DATA_DIR={old} or move it to {new} so every command finds it")
        for entry in old.iterdir():
            if entry.name != _LOCK:
                os.replace(entry, new / entry.name)
    finally:
        lock.release()
    (old / _LOCK).unlink(missing_ok=True)
    linked = ""
    with contextlib.suppress(OSError):  # emptied but not removable (a file appeared meanwhile): left as it is
        old.rmdir()
        old.symlink_to(new, target_is_directory=True)
        linked = f" ({old} now links there)"
    return new, (f"musicd: moved the data dir of an older version from {old} to {new}, where every command "
                 f"finds it{linked}")


@contextmanager
def one_line_errors(config: Config) -> Iterator[None]:
    """A domain error, a full disk or a damaged database ends the command with one line, no traceback."""
    try:
        yield
    except MusicdError as e:
        raise click.ClickException(_explain(e, config)) from None
    except Exception as e:
        err = storage_error(e, config.data_dir)
        if err is None:
            raise
        raise click.ClickException(_explain(err, config)) from None


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError


def _explain(e: MusicdError, config: Config) -> str:
    """The one line a person needs: what is wrong, where, and the way out."""
    if isinstance(e, DatabaseDamagedError):
        path = e.path or config.data_dir / "musicd.db"
        return (f"the database {path} is damaged ({e.detail}): restore a backup with `musicd restore BACKUP`, "
                f"or rebuild what can be read with `musicd db recover`")
    if isinstance(e, StorageFullError):
        data = config.data_dir
        free = free_bytes(data) if e.free_bytes is None else e.free_bytes
        floor = config.data.min_free_bytes
        if free is not None and free >= floor and config.data.max_database_bytes:
            return (f"the database {data / 'musicd.db'} reached its size cap (data.max_database_bytes = "
                    f"{config.data.max_database_bytes}): raise the cap or delete data, then try again")
        need = floor - free if free is not None and free < floor else floor
        return (f"the disk holding the data dir {data} is full ({_size(free or 0)} free): "
                f"free at least {_size(need)} there, then try again")
    if isinstance(e, StorageError):
        return f"storage error in the data dir {config.data_dir}: {e.message}"
    return e.message


def require_free_space(config: Config) -> None:
    """Refuse to start work on a disk that is already (nearly) full: say how much to free instead."""
    with one_line_errors(config):
        config.data_dir.mkdir(parents=True, exist_ok=True)
        free = free_bytes(config.data_dir)
        if free is not None and free < config.data.min_free_bytes:
            raise StorageFullError(config.data_dir, free)


@click.command("recover")
@click.option("--force", is_flag=True, help="Rebuild even a database that passes the integrity check.")
@click.option("--without-sqlite3", is_flag=True,
              help="Copy readable rows table by table instead of using the sqlite3 program's .recover.")
@click.pass_context
def db_recover(ctx: click.Context, force: bool, without_sqlite3: bool) -> None:
    """Rebuild the database from what a damaged file still holds (the server must be stopped)."""
    config = ctx.obj["config"]
    service = BackupService(config)
    with one_line_errors(config):
        r = asyncio.run(service.recover(force=force, use_cli=not without_sqlite3))
    rep = r.report
    got = sum(t.recovered for t in rep.tables)
    lost = sum(t.lost or 0 for t in rep.tables)
    click.echo(f"recovered {got} rows with {rep.method}; {lost} rows lost; the damaged files are in {r.damaged_kept}")
    for t in rep.tables:
        if not (t.recovered or t.before or t.dropped):
            continue
        line = f"  {t.name}: {t.recovered} rows"
        if t.before is None:
            line += " (the damaged file cannot count its rows: some may be lost)"
        elif t.lost:
            line += f" of {t.before} ({t.lost} lost)"
        if t.dropped:
            line += f", {t.dropped} dropped as they referred to lost rows"
        click.echo(line)
    if rep.lost_and_found:
        click.echo(f"  {rep.lost_and_found} row fragments could not be placed in any table (lost)")
    click.echo("next: `musicd scan` re-reads the library (lost tracks come back); the search index is rebuilt "
               "at the next start")


def _config_file(ctx: click.Context) -> Path | None:
    path = ctx.obj["config_path"]
    return Path(path).resolve() if path else None


@click.command()
@click.argument("path", type=click.Path())
@click.pass_context
def backup(ctx: click.Context, path: str) -> None:
    """Write a backup to PATH (a .tar.gz file, or a folder to put a dated one in): the database (a
    consistent copy, safe while the server runs), the keys, the config file and uploaded covers."""
    config = ctx.obj["config"]
    dest = Path(path)
    with one_line_errors(config):
        if path.endswith(os.sep):
            dest.mkdir(parents=True, exist_ok=True)
        r = BackupService(config, config_file=_config_file(ctx)).create(dest)
    counts = ", ".join(f"{v} {k}" for k, v in r.counts.items())
    click.echo(f"backup written: {r.path} ({_size(r.size)}; schema {r.schema_version}; {counts}) in {r.seconds:.1f} s")


@click.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def restore(ctx: click.Context, path: str, yes: bool) -> None:
    """Put the backup PATH in place of the database and keys (the server must be stopped; the replaced
    files are kept in DATA/before-restore-<time>/)."""
    config = ctx.obj["config"]
    if not yes:
        click.confirm(f"Replace the database and keys in {config.data_dir} with {path}?", abort=True)
    with one_line_errors(config):
        r = BackupService(config).restore(Path(path))
    counts = ", ".join(f"{v} {k}" for k, v in r.counts.items())
    click.echo(f"restored {r.archive} (schema {r.schema_version}; {counts})")
    if r.set_aside is not None:
        click.echo(f"the replaced files are in {r.set_aside}")
    if r.config is not None:
        click.echo(f"the backup's config file is {r.config} (use it with --config)")
