"""The `musicd` command: serve, scan, user, db, backup, restore, index, transcode, config, demo-library."""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
import msgspec
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from musicd import __version__
from musicd.cli_data import adopt_old_data_dir, backup, db_recover, one_line_errors, require_free_space, restore
from musicd.config import Config, load_config, remember_library
from musicd.errors import MusicdError
from musicd.logs import configure_logging
from musicd.services.data_lock import DataDirLock

if TYPE_CHECKING:
    from musicd.library.read_ahead import ReadAhead
    from musicd.services.registry import Services

__all__ = ["main"]

T = TypeVar("T")
console = Console(stderr=True)


def _run(config: Config, fn: Callable[[Services], Awaitable[T]], ahead: ReadAhead | None = None) -> T:
    """Open the services, run `fn`, close them; a MusicdError (or a storage failure) becomes a one-line
    CLI error. `ahead` is started first and reads while the application is imported (closed at the end)."""

    async def go() -> T:
        try:
            if ahead is not None:
                await ahead.start()
                # Imported here, in a thread, so the event loop keeps the read-ahead's readers fed meanwhile.
                await asyncio.to_thread(importlib.import_module, "musicd.services.registry")
            from musicd.services.registry import open_services

            services = await open_services(config)
            try:
                return await fn(services)
            finally:
                await services.close()
        finally:
            if ahead is not None:
                await ahead.close(failed=True)  # a no-op once the scan used it

    with one_line_errors(config):
        return asyncio.run(go())


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="musicd", message="%(prog)s %(version)s")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), envvar="MUSICD_CONFIG",
              help="TOML config file (default: none; MUSICD_* variables still apply).")
@click.option("--library", "libraries", multiple=True, type=click.Path(file_okay=False),
              help="Music folder (repeatable); remembered in the data dir for the next commands.")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, libraries: tuple[str, ...]) -> None:
    """musicd: a self-hostable personal music server."""
    if config_path:
        # Relative to the folder the user is in; `serve` hands it to the worker process as it is.
        config_path = os.environ["MUSICD_CONFIG"] = str(Path(config_path).resolve())
    adopted = None
    try:
        config = load_config(config_path)
        if ctx.invoked_subcommand != "demo-library" and (adopted := adopt_old_data_dir(config, Path.cwd())):
            os.environ["MUSICD_DATA_DIR"] = str(adopted[0])  # for this command and `serve`'s worker
            config = load_config(config_path)
        if libraries:
            folders = _library_folders(libraries)
            remember_library(config.data_dir, folders)
            os.environ["MUSICD_LIBRARY_FOLDERS"] = os.pathsep.join(map(str, folders))  # above a --config file
            config = load_config(config_path)
    except MusicdError as e:
        raise click.ClickException(e.message) from None
    configure_logging(config.log.level, config.log.format)
    if adopted:
        click.echo(adopted[1], err=True)
    if ctx.invoked_subcommand != "demo-library":
        click.echo(f"musicd: data dir {config.data_dir}", err=True)
    ctx.obj = {"config": config, "config_path": config_path}


def _library_folders(given: tuple[str, ...]) -> list[Path]:
    """`--library` folders, absolute from where the user is; a folder that is not there is refused."""
    folders = [Path(f).expanduser().resolve() for f in given]
    for f in folders:
        if not f.is_dir():
            raise click.ClickException(f"library folder {f} does not exist (check --library)")
    return folders


def _config(ctx: click.Context) -> Config:
    return ctx.obj["config"]


@cli.command()
@click.option("--host", help="Address to listen on (server.host).")
@click.option("--port", type=int, help="Port to listen on (server.port).")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Run the HTTP server (migrates the database; scans at start if the catalogue is empty)."""
    from musicd.services.memory import limit_malloc_arenas

    limit_malloc_arenas()  # first, before any thread (the start-up's database check starts some)
    from musicd.app import create_app
    from musicd.http.serving import port_busy_message, serve_in_process, start_problem

    config = _config(ctx)
    address, port = host or config.server.host, port or config.server.port
    if (problem := start_problem(address, port, config.library_folders)) is not None:
        raise click.ClickException(problem)
    if ctx.obj["config_path"]:  # the daily backup copies the config file in use (Services reads it from here)
        os.environ["MUSICD_CONFIG"] = str(Path(ctx.obj["config_path"]).resolve())
    require_free_space(config)
    if (holder := DataDirLock(config.data_dir).holder()) is not None:
        raise click.ClickException(f"the data dir {config.data_dir} is in use by a musicd {holder}")
    # Open (and migrate) once before serving: a damaged or full database is refused with one line here,
    # not with a traceback from the app's lifespan.
    _run(config, _first_start_hint)
    server = msgspec.structs.replace(config.server, host=address, port=port)
    config = msgspec.structs.replace(config, server=server)
    level = config.log.level if config.log.level != "warning" else "warn"
    try:
        serve_in_process(create_app(config), config.server, server.host, server.port, level,
                         on_start=lambda: configure_logging(config.log.level, config.log.format))
    except RuntimeError as e:  # granian's bind error (taken since the check above): one line, not its backtrace
        if "Address already in use" not in str(e):
            raise
        raise click.ClickException(port_busy_message(address, port)) from None


async def _first_start_hint(services: Services) -> None:
    if await services.accounts.count() == 0:
        console.print("[yellow]No users yet.[/] Create the admin with:\n"
                      "  [bold]musicd user add admin --role admin[/]  (it asks for a password)")


def _print_summary(s: Any) -> None:
    console.print(
        f"[bold]scan done[/] in {s.wall_s:.2f} s: added {s.added}, updated {s.updated}, moved {s.moved}, "
        f"removed {s.removed}, failed {s.failed}, unchanged {s.unchanged}"
    )
    if s.healed_albums:
        console.print(f"  [yellow]healed[/] {s.healed_albums} albums left unfinished by an interrupted scan "
                      "(counts, durations, covers and genres recomputed)")
    for gone in s.report.get("unconfigured_folders", []):
        console.print(f"  [yellow]removed[/] {gone['removed']} tracks of {gone['folder']} (no longer a library folder)")
    for path, reason in s.failures[:50]:
        console.print(f"  [red]failed[/] {path}: {reason}")
    if len(s.failures) > 50:
        console.print(f"  ... and {len(s.failures) - 50} more failures")
    for ref in s.report.get("removed_references", []):
        for pl in ref["playlist_entries"]:
            console.print(f"  [yellow]removed tracks were in playlist[/] {pl['playlist']!r} ({pl['owner']}): "
                          f"{pl['entries']} entries")
        for user, n in ref["saved_by"].items():
            console.print(f"  [yellow]removed tracks were saved by[/] {user}: {n}")


@cli.command()
@click.option("--allow-empty", is_flag=True, help="Allow an empty library folder to remove all its tracks.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON on stdout.")
@click.pass_context
def scan(ctx: click.Context, allow_empty: bool, as_json: bool) -> None:
    """Scan the library folders into the catalogue (incremental: unchanged files are not re-read)."""
    config = _config(ctx)
    require_free_space(config)

    async def go(services: Services) -> Any:
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=console, transient=True, disable=as_json) as bar:
            task = bar.add_task("walking", total=None)

            def progress(phase: str, done: int, total: int) -> None:
                bar.update(task, description=phase, completed=done, total=total or None)

            return await services.library.scan(progress, allow_empty=allow_empty, ahead=ahead)

    ahead = None
    if len(config.library_folders) == 1 and not (config.data_dir / "musicd.db").exists():
        # A first scan reads every file: start on them before the application is even imported.
        from musicd.library.read_ahead import ReadAhead

        ahead = ReadAhead(config.library_folders[0], config.data_dir / "covers",
                          config.library.scan_workers or os.cpu_count() or 1)
    summary = _run(config, go, ahead)
    if as_json:
        out = msgspec.to_builtins(summary)
        out.pop("changed_track_ids", None)
        out.pop("removed_track_ids", None)
        click.echo(json.dumps(out, ensure_ascii=False))
    else:
        _print_summary(summary)


@cli.group(invoke_without_command=True)
@click.option("--server", help="The server's URL, e.g. http://musicbox:4747 (default: found by zeroconf).")
@click.option("--interface", "interfaces", multiple=True, help="Browse for servers on this IPv4 address only.")
@click.option("--name", help="The device name shown in players (default: the host name).")
@click.option("--sink", type=click.Choice(["default", "pulse", "alsa", "null"]), default="default",
              show_default=True, help="Sound output; null decodes in real time to nowhere.")
@click.option("--state-dir", type=click.Path(file_okay=False), default="~/.local/state/musicd-speaker",
              show_default=True, help="Where the speaker keeps its device id and login.")
@click.option("--api-key", envvar="MUSICD_SPEAKER_API_KEY", help="Sign in with an API key instead of pairing.")
@click.pass_context
def speaker(ctx: click.Context, server: str | None, interfaces: tuple[str, ...], name: str | None, sink: str,
            state_dir: str, api_key: str | None) -> None:
    """Run a headless speaker (a device of the server); `approve CODE --user NAME` pairs one."""
    if ctx.invoked_subcommand is not None:
        return
    from musicd.speaker import run_speaker

    run_speaker(server, name, sink, Path(state_dir).expanduser(), api_key, _config(ctx).transcode.ffmpeg,
                interfaces)


@speaker.command("approve")
@click.argument("code")
@click.option("--user", "username", required=True, help="The user the speaker will play for.")
@click.pass_context
def speaker_approve(ctx: click.Context, code: str, username: str) -> None:
    """Approve the pairing code a speaker shows."""

    async def go(s: Services) -> str:
        u = await s.accounts.find(username)
        if u is None:
            raise click.ClickException(f"no user {username!r}")
        return await s.speakers.approve(u, code)

    console.print(f"paired: {_run(_config(ctx), go)}")


@cli.group()
def user() -> None:
    """Manage accounts."""


def _read_password(password_stdin: bool, confirm: bool = True) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=confirm)


@user.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(["admin", "user", "guest"]), default="user", show_default=True)
@click.option("--email")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.pass_context
def user_add(ctx: click.Context, username: str, role: str, email: str | None, password_stdin: bool) -> None:
    """Create a user."""
    password = _read_password(password_stdin)
    u = _run(_config(ctx), lambda s: s.accounts.create(username, password, role=role, email=email))
    click.echo(f"created {u.role} {u.username} ({u.id})")


@user.command("list")
@click.pass_context
def user_list(ctx: click.Context) -> None:
    """List users."""
    for u in _run(_config(ctx), lambda s: s.accounts.list()):
        click.echo(f"{u.username}\t{u.role}\t{'disabled' if u.disabled else 'active'}\t{u.email or ''}\t{u.id}")


@user.command("passwd")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.pass_context
def user_passwd(ctx: click.Context, username: str, password_stdin: bool) -> None:
    """Change a user's password."""
    password = _read_password(password_stdin)
    _run(_config(ctx), lambda s: s.accounts.change_password(username, password))
    click.echo(f"password of {username} changed")


@user.command("delete")
@click.argument("username")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def user_delete(ctx: click.Context, username: str, yes: bool) -> None:
    """Delete a user and everything they own (playlists, history)."""
    if not yes:
        click.confirm(f"Delete user {username} and their playlists?", abort=True)
    _run(_config(ctx), lambda s: s.accounts.delete(username))
    click.echo(f"deleted {username}")


@cli.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Apply pending schema migrations."""
    from musicd.store.migrations import applied_versions

    versions = _run(_config(ctx), lambda s: applied_versions(s.db))
    click.echo(f"database at version {max(versions) if versions else 0}")


db.add_command(db_recover)
cli.add_command(backup)
cli.add_command(restore)


@cli.group()
def index() -> None:
    """Search index maintenance."""


@index.command("rebuild")
@click.pass_context
def index_rebuild(ctx: click.Context) -> None:
    """Rebuild the search index from the database."""
    n = _run(_config(ctx), lambda s: s.search.rebuild())
    click.echo(f"search index rebuilt: {n} documents")


@cli.group("config")
def config_group() -> None:
    """Configuration."""


@config_group.command("check")
@click.pass_context
def config_check(ctx: click.Context) -> None:
    """Validate the configuration and print the effective settings as TOML-like lines."""
    config = _config(ctx)
    for section, values in msgspec.to_builtins(config).items():
        click.echo(f"[{section}]")
        for k, v in values.items():
            click.echo(f"{k} = {json.dumps(v)}")
    for f in config.library_folders:
        if not f.is_dir():
            console.print(f"[yellow]warning:[/] library folder {f} does not exist")
    click.echo("config ok", err=True)


@config_group.command("folders")
@click.pass_context
def config_folders(ctx: click.Context) -> None:
    """Print the library folders in use, one a line (nothing when none is configured)."""
    for f in _config(ctx).library_folders:
        click.echo(str(f))


async def _progress_pass(label: str, quiet: bool, run: Callable[[Callable[[int, int], None]], Awaitable[T]]) -> T:
    """Run a background pass in the foreground behind a rich progress bar (none with `quiet`)."""
    with Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console,
                  transient=True, disable=quiet) as bar:
        task = bar.add_task(label, total=None)
        return await run(lambda done, total: bar.update(task, completed=done, total=total))


@cli.group()
def transcode() -> None:
    """Tiers of the library (Ogg Vorbis low/normal/high) made ahead of time."""


@transcode.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON on stdout.")
@click.pass_context
def transcode_status(ctx: click.Context, as_json: bool) -> None:
    """How many tiers are made, failed and left, and how full the cache is."""

    async def go(services: Services) -> Any:
        await services.transcoder.load()
        return await services.transcoding.status()

    st = _run(_config(ctx), go)
    if as_json:
        click.echo(json.dumps(msgspec.to_builtins(st.__dict__)))
        return
    pct = 100.0 * st.done / st.wanted if st.wanted else 100.0
    limit = f"{st.cache_max_bytes / 1e9:.1f} GB" if st.cache_max_bytes else "no limit"
    click.echo(f"tiers: {st.done}/{st.wanted} made ({pct:.1f} %), {st.failed} failed, {st.pending} to do")
    for name, t in st.by_tier.items():
        click.echo(f"  {name:7} {t['done']}/{t['wanted']} made, {t['failed']} failed")
    click.echo(f"cache: {st.cache_files} files, {st.cache_bytes / 1e6:.1f} MB of {limit}")


@transcode.command("run")
@click.option("--workers", type=int, help="ffmpeg processes at once (default: transcode.workers).")
@click.option("--retry-failed", is_flag=True, help="Try again the sources that failed before.")
@click.option("--limit", type=int, help="Make at most this many tiers, then stop.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON on stdout.")
@click.pass_context
def transcode_run(ctx: click.Context, workers: int | None, retry_failed: bool, limit: int | None,
                  as_json: bool) -> None:
    """Make the missing tiers now, in the foreground (stops and resumes safely; Ctrl-C to stop)."""

    async def go(services: Services) -> Any:
        await services.transcoder.load()
        if workers:
            services.transcoding.workers = workers
        return await _progress_pass("transcoding", as_json, lambda progress: services.transcoding.run_pass(
            progress, retry_failed=retry_failed, limit=limit))

    s = _run(_config(ctx), go)
    if as_json:
        click.echo(json.dumps(s.__dict__))
        return
    speed = f", {s.audio_s / s.wall_s:.0f}x realtime" if s.wall_s and s.audio_s else ""
    click.echo(f"made {s.made} tiers, {s.failed} failed, {s.skipped} skipped (failed before), "
               f"{s.removed_stale} stale removed in {s.wall_s:.1f} s{speed}"
               + (f"; stopped: {s.stopped}" if s.stopped else ""))


@cli.group()
def analyze() -> None:
    """Audio analysis of the library (tempo, loudness, key, timbre, ...) for /v1/audio-features."""


@analyze.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON on stdout.")
@click.pass_context
def analyze_status(ctx: click.Context, as_json: bool) -> None:
    """How many tracks are analysed, silent, failed and left."""
    st = _run(_config(ctx), lambda services: services.analysis.status())
    if as_json:
        click.echo(json.dumps(st.__dict__))
        return
    pct = 100.0 * (st.tracks - st.pending) / st.tracks if st.tracks else 100.0
    click.echo(f"tracks: {st.tracks - st.pending}/{st.tracks} analysed ({pct:.1f} %): {st.ok} ok, {st.silent} silent,"
               f" {st.failed} failed; {st.pending} to do")


@analyze.command("run")
@click.option("--workers", type=int, help="Processes at once (default: analysis.workers).")
@click.option("--retry-failed", is_flag=True, help="Try again the tracks that failed before.")
@click.option("--limit", type=int, help="Analyse at most this many tracks, then stop.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON on stdout.")
@click.pass_context
def analyze_run(ctx: click.Context, workers: int | None, retry_failed: bool, limit: int | None,
                as_json: bool) -> None:
    """Analyse the tracks not analysed yet, now, in the foreground (stops and resumes safely; Ctrl-C to stop)."""

    async def go(services: Services) -> Any:
        if workers:
            services.analysis.workers = workers
        return await _progress_pass("analysing", as_json, lambda progress: services.analysis.run_pass(
            progress, retry_failed=retry_failed, limit=limit))

    s = _run(_config(ctx), go)
    if as_json:
        click.echo(json.dumps(s.__dict__))
        return
    speed = f", {s.audio_s / s.cpu_s:.0f} s of audio per CPU-second" if s.cpu_s and s.audio_s else ""
    click.echo(f"analysed {s.analysed} tracks, {s.silent} silent, {s.failed} failed, {s.skipped} skipped"
               f" (failed before) in {s.wall_s:.1f} s{speed}")


@cli.group()
def listens() -> None:
    """Listen history from scrobblers: imports of a ListenBrainz export or a Last.fm CSV."""


@listens.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--user", "username", required=True, help="The account the listens are theirs.")
@click.option("--format", "fmt", type=click.Choice(["listenbrainz", "lastfm"]), help="Default: from the content.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON on stdout.")
@click.pass_context
def listens_import(ctx: click.Context, file: Path, username: str, fmt: str | None, as_json: bool) -> None:
    """Import FILE as the user's listens (streamed; importing the same file again adds nothing)."""
    from musicd.services.listen_files import ListenFile

    async def go(services: Services) -> Any:
        user = await services.accounts.find(username)
        if user is None:
            raise click.ClickException(f"no such user: {username}")
        listen_file = ListenFile(file, fmt)
        with Progress(TextColumn("importing"), BarColumn(), TextColumn("{task.fields[info]}"), TimeElapsedColumn(),
                      console=console, transient=True, disable=as_json) as bar:
            task = bar.add_task("import", total=listen_file.total, info="")
            return await services.listens.import_file(user, listen_file, lambda done, total, s: bar.update(
                task, completed=done, info=f"{s.read} read, {s.matched} matched"))

    s = _run(_config(ctx), go)
    if as_json:
        click.echo(msgspec.json.encode(s).decode())
        return
    click.echo(f"read {s.read} listens: {s.matched} matched, {s.unmatched} unmatched (kept, matched after a scan),"
               f" {s.duplicates} duplicates, {s.rejected} rejected")
    for reason in s.errors[:5]:
        click.echo(f"  rejected: {reason}")


@cli.command("demo-library")
@click.argument("path", type=click.Path(file_okay=False))
def demo_library(path: str) -> None:
    """Write a small demo library (real audio, tags, covers, lyrics) into PATH."""
    from musicd.devtools.library_builder import build_demo_library

    with Progress(TextColumn("demo library"), BarColumn(), MofNCompleteColumn(), console=console,
                  transient=True) as bar:
        task = bar.add_task("demo", total=None)
        lib = build_demo_library(Path(path), progress=lambda d, t: bar.update(task, completed=d, total=t))
    click.echo(f"wrote {len(lib.tracks)} tracks to {path}")


def _add_peer_commands() -> None:
    from musicd.cli_peer import peer

    cli.add_command(peer)


_add_peer_commands()


def main() -> None:
    """Entry point of the `musicd` command."""
    cli(prog_name="musicd")
