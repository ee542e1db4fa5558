"""Typed settings: TOML file, then `MUSICD_<SECTION>_<KEY>` environment overrides, validated once.

Unknown keys and bad values fail at start with a message that names the key. Beneath both lie the
settings a command was given once and remembers, in the data dir's own `config.toml` (`--library`):
so every command, from any folder, finds the same data dir and the same library.
`config.example.toml` mirrors the defaults here one to one (a test checks it).
"""

from __future__ import annotations

import difflib
import json
import os
import tomllib
from pathlib import Path
from typing import Any, Literal

import msgspec

from musicd.errors import ConfigError

__all__ = [
    "AnalysisConfig",
    "AuthConfig",
    "BackupConfig",
    "Config",
    "DataConfig",
    "DiscoveryConfig",
    "FederationConfig",
    "LibraryConfig",
    "ListensConfig",
    "LogConfig",
    "OfflineConfig",
    "PodcastsConfig",
    "RealtimeConfig",
    "RecommendConfig",
    "ServerConfig",
    "TranscodeConfig",
    "default_data_dir",
    "load_config",
    "remember_library",
]

ENV_PREFIX = "MUSICD_"


class ServerConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    host: str = "127.0.0.1"
    port: int = 4747
    # Public base URL used in links the server hands out (share pages, Subsonic apps); empty = from request.
    public_url: str = ""
    # Largest request body accepted, in bytes (uploads of playlist covers and imports included).
    max_body_bytes: int = 10 * 1024 * 1024
    # Connections served at once, idle ones included (more wait in the backlog until one closes); capped by
    # the open-file limit, which musicd raises to its hard limit at start.
    max_connections: int = 10000
    # Connections the kernel queues before musicd accepts them (the kernel caps it at net.core.somaxconn).
    backlog: int = 4096
    # Seconds a client has to send a request's headers; also how long an idle keep-alive connection stays.
    header_timeout_seconds: int = 15
    # Keep connections open between requests (HTTP/1.1 keep-alive).
    keep_alive: bool = True
    # HTTPS: a PEM certificate (chain) and its private key; both or neither. With them the listener
    # speaks HTTP/2 and HTTP/1.1 (chosen by ALPN).
    tls_cert: str = ""
    tls_key: str = ""
    # Also accept cleartext HTTP/2 (h2c, prior knowledge) on a plain-text listener. Off by default: the
    # server cannot then time out a connection that sends nothing at all (see "Connections" in README).
    h2c: bool = False

    def __post_init__(self) -> None:
        if not 0 < self.port < 65536:
            raise ValueError("port must be between 1 and 65535")
        for name in ("max_connections", "backlog", "header_timeout_seconds"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0")
        if bool(self.tls_cert) != bool(self.tls_key):
            raise ValueError("tls_cert and tls_key go together: set both or neither")
        for name in ("tls_cert", "tls_key"):
            path = getattr(self, name)
            if path and not Path(path).expanduser().is_file():
                raise ValueError(f"{name}: no such file: {path}")


class LibraryConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    # Folders scanned for music; several may be given.
    folders: list[str] = msgspec.field(default_factory=list)
    # When the server scans at start: "if_empty" (no tracks yet, or the last scan was interrupted),
    # "always" or "never".
    scan_on_start: Literal["if_empty", "always", "never"] = "if_empty"
    # Processes that read tags; 0 = one per core.
    scan_workers: int = 0

    def __post_init__(self) -> None:
        if self.scan_workers < 0:
            raise ValueError("scan_workers must be >= 0")


class DataConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    # Where the database, search index, caches and generated keys live; "" = $XDG_DATA_HOME/musicd
    # (~/.local/share/musicd), the same whatever folder a command runs from.
    dir: str = ""
    # Below this much free space on the data dir's disk, /health answers 503 and `serve`/`scan` refuse to start.
    min_free_bytes: int = 16 * 1024 * 1024
    # Cap on the database file's size in bytes (writes past it answer 507 like a full disk); 0 = no cap.
    max_database_bytes: int = 0
    # SQLite's page cache per database connection (the server has three), in MiB, and how much of the file
    # each maps into memory (0 = none: pages are read into the bounded cache, the kernel caches the file).
    sqlite_cache_mib: int = 4
    sqlite_mmap_mib: int = 0

    def __post_init__(self) -> None:
        for name in ("min_free_bytes", "max_database_bytes", "sqlite_cache_mib", "sqlite_mmap_mib"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")


class BackupConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    # Automatic backups (database, keys, config, uploaded covers) made by the running server.
    enabled: bool = True
    # Folder of the automatic backups; empty = DATA/backups. Another disk is safer.
    dir: str = ""
    # Hours between two automatic backups (with none yet, the first is made 5 minutes after start).
    interval_hours: float = 24.0
    # Automatic backups kept (the oldest are removed).
    keep: int = 7

    def __post_init__(self) -> None:
        if self.interval_hours <= 0:
            raise ValueError("interval_hours must be > 0")
        if self.keep < 1:
            raise ValueError("keep must be >= 1")


class AuthConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    # Lifetime of a /v1 access token (a JWT) and of a refresh token (rotated on every use).
    access_token_minutes: int = 15
    refresh_token_days: int = 30
    # Token-bucket rate limits per user (or per client address before login): failed and
    # successful logins per minute, reads and writes per second (a burst of twice that is allowed).
    login_per_minute: int = 10
    reads_per_second: int = 500
    writes_per_second: int = 50

    def __post_init__(self) -> None:
        for name in ("access_token_minutes", "refresh_token_days", "login_per_minute", "reads_per_second",
                     "writes_per_second"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0")


class TranscodeConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    # Ogg Vorbis tiers offered: "low" (96 kbps), "normal" (160), "high" (320). A disabled tier is
    # served as the nearest enabled one below it.
    tiers: list[Literal["low", "normal", "high"]] = msgspec.field(default_factory=lambda: ["low", "normal", "high"])
    # Source formats whose tiers the background transcoder makes ahead of time (any format is still
    # transcoded on the fly when asked).
    source_formats: list[str] = msgspec.field(
        default_factory=lambda: ["flac", "mp3", "m4a", "ogg", "opus", "wav", "aiff"]
    )
    # Make the tiers of the whole library in the background, at low priority, resuming after a restart.
    pre_transcode: bool = True
    # The background transcoder starts a track only after this many seconds without a stream: while the
    # household listens its encoders are not running (memory, CPU), and they stop when the tiers are made.
    pre_transcode_quiet_seconds: float = 60.0
    # ffmpeg processes the background transcoder runs at once; 0 = one per core.
    workers: int = 1
    # Size limit of the tier cache in bytes (least recently used files are removed first); 0 = no limit.
    cache_max_bytes: int = 20 * 1024**3
    # Encoders kept started (one per tier, for the pool_size tiers used last) so an on-the-fly transcode
    # begins in milliseconds; 0 = none. A tier's encoder starts after its first on-the-fly transcode and
    # stops after pool_idle_seconds without one.
    pool_size: int = 1
    pool_idle_seconds: int = 300
    # On-the-fly transcodes running at once (more wait their turn; each ffmpeg holds ~10 MiB of its own);
    # 0 = one per core, at least 2.
    live_limit: int = 0
    # The ffmpeg program (a name looked up on PATH, or a path).
    ffmpeg: str = "ffmpeg"

    def __post_init__(self) -> None:
        for name in ("workers", "cache_max_bytes", "pool_size", "pool_idle_seconds", "live_limit",
                     "pre_transcode_quiet_seconds"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")


class FederationConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    # This server's name as its peers show it ("from Alice's server"); empty = the host name.
    name: str = ""
    # The address peers reach this server at (written into invites); empty = server.public_url, else
    # http://host:port.
    public_url: str = ""
    # Minutes between two syncs of a peer's catalogue (a "changed" notice from the peer syncs sooner).
    sync_minutes: float = 15.0
    # Seconds to wait for a peer to accept a connection, and for each read from it.
    connect_timeout_seconds: float = 3.0
    read_timeout_seconds: float = 10.0
    # Failed requests in a row after which a peer is left alone for `breaker_seconds` (circuit breaker).
    breaker_failures: int = 3
    breaker_seconds: float = 30.0
    # Most tracks mirrored from one peer; a catalogue claiming more is cut at this many.
    max_peer_tracks: int = 200_000
    # Requests one peer may make per second (a burst of twice that is allowed).
    peer_requests_per_second: float = 50.0
    # Size limit of the cache of friends' tracks streamed through this server, in bytes; 0 = no cache.
    stream_cache_max_bytes: int = 2 * 1024**3
    # Hours an invite stays valid.
    invite_hours: float = 24.0

    def __post_init__(self) -> None:
        for name in ("sync_minutes", "connect_timeout_seconds", "read_timeout_seconds", "breaker_seconds",
                     "peer_requests_per_second", "invite_hours"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0")
        for name in ("breaker_failures", "max_peer_tracks"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0")
        if self.stream_cache_max_bytes < 0:
            raise ValueError("stream_cache_max_bytes must be >= 0")

class RealtimeConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    # The WebSocket channel GET /v1/realtime (docs/realtime.md) and the event bus under it.
    # Seconds a new connection has to send its auth message.
    auth_timeout_seconds: float = 5.0
    # Seconds between the server's keep-alive pings; a connection that sends nothing for
    # idle_timeout_seconds is closed.
    ping_interval_seconds: float = 25.0
    idle_timeout_seconds: float = 75.0
    # Seconds between checks of every open connection's token against the database (a revocation made
    # by another process, such as `musicd user passwd`, closes the connection within this).
    recheck_seconds: float = 2.0
    # Largest client message, in bytes.
    max_message_bytes: int = 16384
    # Client messages per second per connection, with bursts of message_burst.
    messages_per_second: float = 20.0
    message_burst: int = 60
    # Bounds of each connection's send queue; a client further behind is told to resync, then closed.
    send_queue_messages: int = 512
    send_queue_bytes: int = 1024 * 1024
    # Per-user history that `resume` replays: at least the last history_events events or history_seconds
    # seconds, never more than history_max_events nor history_max_bytes.
    history_events: int = 1000
    history_seconds: float = 600.0
    history_max_events: int = 10000
    history_max_bytes: int = 4 * 1024 * 1024
    # Open connections per user.
    connections_per_user: int = 64
    # Bound of each event-bus subscriber's queue; a consumer further behind rebuilds from the database.
    bus_queue_events: int = 10000

    def __post_init__(self) -> None:
        for name in msgspec.structs.fields(self):
            if getattr(self, name.name) <= 0:
                raise ValueError(f"{name.name} must be > 0")
        if self.history_max_events < self.history_events:
            raise ValueError("history_max_events must be >= history_events")
class PodcastsConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    # Hosts ("host:port") fetched even when they resolve to a loopback, private or link-local address
    # (a feed server on the LAN); every other feed and enclosure must be on a public address.
    allow_hosts: list[str] = msgspec.field(default_factory=list)
    # Minutes between scheduled refreshes of a feed; after failures the wait doubles, up to a day.
    refresh_minutes: int = 60
    # Newest episodes of each feed downloaded ahead of time; 0 = none (an episode is fetched when played).
    auto_download: int = 3
    # Downloaded episodes kept per feed (older downloads are removed, the episodes stay listed); 0 = all.
    keep_downloads: int = 10
    # Largest feed page and episode file accepted, in bytes.
    max_feed_bytes: int = 10 * 1024 * 1024
    max_episode_bytes: int = 1024**3
    # Pages of a paged feed (RFC 5005 rel="next") read per refresh.
    max_pages: int = 10
    # Seconds to connect to a feed's server and to wait for its next bytes.
    connect_timeout_seconds: int = 10
    read_timeout_seconds: int = 30

    def __post_init__(self) -> None:
        from musicd.net.fetch import parse_allow_hosts

        parse_allow_hosts(self.allow_hosts)
        for name in ("refresh_minutes", "max_feed_bytes", "max_episode_bytes", "max_pages",
                     "connect_timeout_seconds", "read_timeout_seconds"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0")
        for name in ("auto_download", "keep_downloads"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")


class AnalysisConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    # Analyse the library's audio (tempo, loudness, key, timbre, ...) in the background at low priority,
    # at start and after every scan; it resumes where it stopped after a restart.
    background: bool = True
    # Processes analysing at once; 0 = one per core.
    workers: int = 0
    # Longest stretch of a file analysed, in seconds: a longer file is analysed in its middle.
    max_seconds: float = 600.0
    # An analysis taking longer than this (wall seconds) is given up and the track marked failed.
    timeout_seconds: float = 300.0

    def __post_init__(self) -> None:
        if self.workers < 0:
            raise ValueError("workers must be >= 0")
        if not 10 <= self.max_seconds <= 7200:
            raise ValueError("max_seconds must be between 10 and 7200")
        if self.timeout_seconds <= 0:
            raise ValueError("timeout_seconds must be > 0")


class RecommendConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    # Train the recommendation models (co-listening, matrix factorisation, popularity) in the background:
    # at start, every `rebuild_hours`, and once `rebuild_after_plays` new plays were recorded.
    background: bool = True
    rebuild_hours: float = 24.0
    rebuild_after_plays: int = 50
    # How often (seconds) the trainer looks for new plays.
    check_seconds: float = 60.0

    def __post_init__(self) -> None:
        if self.rebuild_hours <= 0:
            raise ValueError("rebuild_hours must be > 0")
        if self.rebuild_after_plays < 1:
            raise ValueError("rebuild_after_plays must be >= 1")
        if not 0.1 <= self.check_seconds <= 86400:
            raise ValueError("check_seconds must be between 0.1 and 86400")
class ListensConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    # Largest listen-history file (ListenBrainz export, Last.fm CSV) an upload to /v1/me/listens/imports may
    # be; it is spooled to the data dir as it arrives, never held in memory.
    import_max_bytes: int = 2 * 1024 * 1024 * 1024
    # Seconds the play writer gathers acknowledged plays (journaled at once: a crash loses none) before it
    # folds them into the history in one transaction; a shorter window shows plays sooner, in more writes.
    write_window_s: float = 10.0

    def __post_init__(self) -> None:
        if self.import_max_bytes < 1024:
            raise ValueError("import_max_bytes must be at least 1024")
        if not 0.1 <= self.write_window_s <= 3600:
            raise ValueError("write_window_s must be between 0.1 and 3600")


class DiscoveryConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    # Advertise the server on the LAN as `_musicd._tcp` (mDNS), for speakers and apps to find: "auto" when
    # server.host is a LAN address (not loopback), "always", or "never".
    advertise: Literal["auto", "always", "never"] = "auto"
    # The name shown to those who browse (empty: "musicd on <host name>").
    name: str = ""
    # IPv4 addresses to advertise on (empty: every LAN address of the host).
    interfaces: list[str] = msgspec.field(default_factory=list)


class OfflineConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    # Devices a user may register for offline listening at once (revoked ones don't count).
    max_devices: int = 5
    # Tracks one device may keep offline.
    max_tracks_per_device: int = 10000
    # Days a device may play its downloads without going online; every heartbeat renews the licence.
    licence_days: float = 30.0
    # Episodes of a podcast show kept offline when it is marked, the newest first (a mark may ask for 1-100).
    show_episodes: int = 10

    def __post_init__(self) -> None:
        if self.max_devices < 1 or self.max_tracks_per_device < 1:
            raise ValueError("max_devices and max_tracks_per_device must be >= 1")
        if not 0 < self.licence_days <= 3650:
            raise ValueError("licence_days must be between 0 and 3650")
        if not 1 <= self.show_episodes <= 100:
            raise ValueError("show_episodes must be between 1 and 100")


class LogConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    level: Literal["debug", "info", "warning", "error"] = "info"
    # "json": one JSON object a line (for log collectors); "text": key=value lines for people.
    format: Literal["json", "text"] = "text"


class Config(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    server: ServerConfig = msgspec.field(default_factory=ServerConfig)
    library: LibraryConfig = msgspec.field(default_factory=LibraryConfig)
    data: DataConfig = msgspec.field(default_factory=DataConfig)
    auth: AuthConfig = msgspec.field(default_factory=AuthConfig)
    transcode: TranscodeConfig = msgspec.field(default_factory=TranscodeConfig)
    realtime: RealtimeConfig = msgspec.field(default_factory=RealtimeConfig)
    podcasts: PodcastsConfig = msgspec.field(default_factory=PodcastsConfig)
    analysis: AnalysisConfig = msgspec.field(default_factory=AnalysisConfig)
    recommend: RecommendConfig = msgspec.field(default_factory=RecommendConfig)
    listens: ListensConfig = msgspec.field(default_factory=ListensConfig)
    discovery: DiscoveryConfig = msgspec.field(default_factory=DiscoveryConfig)
    offline: OfflineConfig = msgspec.field(default_factory=OfflineConfig)
    log: LogConfig = msgspec.field(default_factory=LogConfig)
    federation: FederationConfig = msgspec.field(default_factory=FederationConfig)

    backup: BackupConfig = msgspec.field(default_factory=BackupConfig)

    @property
    def data_dir(self) -> Path:
        return Path(self.data.dir).expanduser().resolve() if self.data.dir else default_data_dir()

    @property
    def backup_dir(self) -> Path:
        return Path(self.backup.dir).expanduser().resolve() if self.backup.dir else self.data_dir / "backups"

    @property
    def library_folders(self) -> list[Path]:
        return [Path(f).expanduser().resolve() for f in self.library.folders]


_SECTIONS: dict[str, type[msgspec.Struct]] = {
    "server": ServerConfig,
    "library": LibraryConfig,
    "data": DataConfig,
    "auth": AuthConfig,
    "transcode": TranscodeConfig,
    "realtime": RealtimeConfig,
    "podcasts": PodcastsConfig,
    "analysis": AnalysisConfig,
    "recommend": RecommendConfig,
    "listens": ListensConfig,
    "discovery": DiscoveryConfig,
    "offline": OfflineConfig,
    "log": LogConfig,
    "federation": FederationConfig,

    "backup": BackupConfig,
}


def _nearest(word: str, choices: list[str], fmt: str = "{}") -> str:
    """" (did you mean X?)" for the closest of `choices` to a mistyped `word`, or ""."""
    match = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean {fmt.format(match[0])}?)" if match else ""


# MUSICD_* variables that are not settings: the config file's path, scripts/run's and scripts/test's own
# (venv, extras, browser), `musicd speaker --api-key`, the benchmarks' and the browser tests'. A shell that
# sets them runs every musicd command as well.
NOT_SETTINGS = frozenset({"MUSICD_CONFIG", "MUSICD_VENV", "MUSICD_EXTRAS", "MUSICD_WITH_BROWSER",
                          "MUSICD_SPEAKER_API_KEY", "MUSICD_BENCH_PASSWORD", "MUSICD_CHROMIUM"})


def _env_overrides(environ: dict[str, str], raw: dict[str, Any]) -> list[str]:
    """Apply `MUSICD_<SECTION>_<KEY>` variables to `raw`; returns an error per variable naming no setting."""
    errors = []
    every = [f"{sec}_{f.name}".upper() for sec, cls in _SECTIONS.items() for f in msgspec.structs.fields(cls)]
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or name in NOT_SETTINGS:
            continue
        rest = name[len(ENV_PREFIX) :].lower()
        section, _, key = rest.partition("_")
        fields = {f.name: f for f in msgspec.structs.fields(_SECTIONS[section])} if section in _SECTIONS else {}
        if key not in fields:
            errors.append(f"environment variable {name}: no such setting ({section}.{key or '?'})"
                          + _nearest(name[len(ENV_PREFIX):], every, ENV_PREFIX + "{}"))
            continue
        parsed: Any = value
        if key == "folders":
            parsed = [p for p in value.split(os.pathsep) if p]
        elif key in ("tiers", "source_formats", "allow_hosts", "interfaces"):
            parsed = [p.strip() for p in value.split(",") if p.strip()]
        raw.setdefault(section, {})[key] = parsed
    return errors


def _file_errors(raw: dict[str, Any]) -> list[str]:
    """Every unknown section or key (with the nearest real one) and every bad value, not just the first."""
    errors = []
    for section, values in raw.items():
        if section not in _SECTIONS:
            errors.append(f"unknown section [{section}]" + _nearest(section, list(_SECTIONS), "[{}]"))
            continue
        if not isinstance(values, dict):
            errors.append(f"{section}: expected a table ([{section}])")
            continue
        fields = {f.name: f for f in msgspec.structs.fields(_SECTIONS[section])}
        errors += [f"unknown key {section}.{k}" + _nearest(k, list(fields), f"{section}.{{}}")
                   for k in values if k not in fields]
        # One value at a time against its own type, so one bad value does not hide the next; the checks
        # between keys (history_max_events >= history_events) run on the whole section afterwards.
        for key, value in values.items():
            if key in fields:
                try:
                    msgspec.convert(value, fields[key].type, strict=False)
                except msgspec.ValidationError as e:
                    errors.append(_explain(e, f"{section}.{key}"))
    return errors


def _explain(err: msgspec.ValidationError, section: str = "") -> str:
    # msgspec says "Object contains unknown field `x` - at `$.server`"; name the dotted key instead.
    msg = str(err)
    text, _, where = msg.partition(" - at `$")
    where = ".".join(p for p in (section, where.rstrip("`").lstrip(".")) if p)
    if "unknown field" in text:
        field = text.split("`")[1]
        key = f"{where}.{field}" if where else field
        return f"unknown key {key}"
    return f"{where or 'config'}: {text}"


REMEMBERED = "config.toml"  # in the data dir: what a command was given once (`--library`)


def default_data_dir(environ: dict[str, str] | os._Environ[str] | None = None) -> Path:
    """The data dir when none is configured: musicd under the user's data home (XDG), not the working dir."""
    env = os.environ if environ is None else environ
    home = env.get("XDG_DATA_HOME") or str(Path("~/.local/share").expanduser())
    return (Path(home) / "musicd").resolve()


def _remembered(raw: dict[str, Any], environ: dict[str, str]) -> None:
    """Lay the data dir's remembered settings beneath what the file and the environment say."""
    data = raw.setdefault("data", {})
    if isinstance(data, dict) and data.get("dir"):
        data["dir"] = str(Path(str(data["dir"])).expanduser().resolve())  # one place, whatever the cwd later
    path = Path(data["dir"]) if isinstance(data, dict) and data.get("dir") else default_data_dir(environ)
    path = path / REMEMBERED
    try:
        mem = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise ConfigError(f"the remembered settings in {path} cannot be read: {e}") from None
    for section, values in mem.items():
        if isinstance(values, dict) and isinstance(raw.get(section, {}), dict):
            for key, value in values.items():
                raw.setdefault(section, {}).setdefault(key, value)


def remember_library(data_dir: Path, folders: list[Path]) -> Path:
    """Write the library folders into the data dir's remembered settings; returns that file."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / REMEMBERED
    # JSON strings are TOML basic strings; a hand-written line spares a TOML writer dependency.
    text = ("# Written by musicd when given --library: the folders every command uses unless told otherwise.\n"
            f"[library]\nfolders = [{', '.join(json.dumps(str(f), ensure_ascii=False) for f in folders)}]\n")
    tmp = path.with_name(f".{REMEMBERED}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path


def load_config(path: str | os.PathLike[str] | None = None, environ: dict[str, str] | None = None) -> Config:
    """Read the TOML file (if any), apply environment overrides, validate; raise ConfigError naming the key."""
    environ = dict(os.environ if environ is None else environ)
    raw: dict[str, Any] = {}
    path = path or environ.get("MUSICD_CONFIG")
    if path:
        p = Path(path)
        try:
            raw = tomllib.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"config file not found: {p}") from None
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"config file {p} is not valid TOML: {e}") from None
    errors = _env_overrides(environ, raw)
    errors += _file_errors(raw)
    if not errors:
        _remembered(raw, environ)
        try:
            return msgspec.convert(raw, Config, strict=False)
        except msgspec.ValidationError as e:
            errors.append(_explain(e))
    where = f" in {path}" if path else ""
    if len(errors) == 1:
        raise ConfigError(f"invalid configuration{where}: {errors[0]}")
    raise ConfigError(f"invalid configuration{where} ({len(errors)} errors): " + "; ".join(errors))
