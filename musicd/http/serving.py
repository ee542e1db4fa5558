"""How granian serves the app: connection limits and timeouts from [server], and the open-file limit.

Granian holds one permit of its `backpressure` semaphore for each open connection, idle ones included,
and stops accepting when they run out (its default is the backlog, 1024): a thousand idle sockets used
to stop every listener. Its `auto` HTTP mode never times out a connection that sends nothing (hyper-util
reads the protocol preface without a timer), so musicd serves HTTP/1.1 only, where hyper's header read
timeout closes a silent, slow (slowloris) or idle keep-alive connection. A TLS-terminating reverse proxy
in front speaks HTTP/1.1 to musicd anyway, and WebSocket upgrades are HTTP/1.1.
"""

from __future__ import annotations

import copy
import errno
import logging
import os
import resource
import socket
from pathlib import Path
from typing import Any

from musicd.config import ServerConfig
from musicd.logs import get_logger

__all__ = ["FD_RESERVE", "ClientGoneFilter", "granian_options", "port_busy_message", "raise_open_files_limit",
           "start_problem"]

log = get_logger("musicd.server")

FD_RESERVE = 512  # files kept for the database, the search index, covers, ffmpeg pipes and the tier cache


def raise_open_files_limit() -> int:
    """Raise the soft RLIMIT_NOFILE to the hard limit (systemd and shells often start at 1024); the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
    if soft == resource.RLIM_INFINITY or soft >= want:
        return soft if soft != resource.RLIM_INFINITY else want
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    except (ValueError, OSError) as e:
        log.warning("server.nofile_not_raised", soft=soft, hard=hard, error=str(e))
        return soft
    return want


def granian_options(server: ServerConfig, open_files: int) -> dict[str, Any]:
    """Keyword arguments for `Granian(...)`: HTTP/1.1, backlog, header timeout, keep-alive, connection cap."""
    from granian.constants import HTTPModes
    from granian.http import HTTP1Settings

    connections = min(server.max_connections, max(64, open_files - FD_RESERVE))
    if connections < server.max_connections:
        log.warning("server.connections_capped", max_connections=server.max_connections, open_files=open_files,
                    serving=connections, fix="raise the hard open-file limit (ulimit -Hn, LimitNOFILE=)")
    log.info("server.limits", connections=connections, backlog=server.backlog, open_files=open_files,
             header_timeout_s=server.header_timeout_seconds, keep_alive=server.keep_alive)
    return {
        "http": HTTPModes.http1,
        "backlog": server.backlog,
        "backpressure": connections,  # one worker: the whole cap is its
        "http1_settings": HTTP1Settings(header_read_timeout=server.header_timeout_seconds * 1000,
                                        keep_alive=server.keep_alive),
        "log_dictconfig": _log_config(),
    }


class ClientGoneFilter(logging.Filter):
    """Drops granian's "ASGI transport error: Closed" lines: a player that skips or seeks closes its
    connection mid-stream many times an hour, which is routine, not an error worth a log line."""

    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        return not ("transport error" in msg and "Closed" in msg)


def _log_config() -> dict[str, Any]:
    from granian.log import LOGGING_CONFIG

    cfg = copy.deepcopy(LOGGING_CONFIG)
    # granian replaces these keys whole with ours: its own, with the filter on the server log's handler (the
    # lines come from child loggers such as _granian.asgi.io, and a logger's own filters skip propagated ones).
    cfg["filters"] = {"client_gone": {"()": f"{__name__}.ClientGoneFilter"}}
    cfg["handlers"]["console"]["filters"] = ["client_gone"]
    return {"filters": cfg["filters"], "handlers": cfg["handlers"], "loggers": cfg["loggers"]}


def port_busy_message(host: str, port: int) -> str:
    return f"port {port} on {host} is already in use (another musicd or program?): stop it or pick another with --port"


def start_problem(host: str, port: int, folders: list[Path]) -> str | None:
    """Why the server cannot start, in one line (a library folder missing or unreadable, the port taken), or None.

    Checked before anything else runs, so a mistake costs one line, not a migration and a traceback.
    """
    for f in folders:
        if not f.is_dir():
            return f"library folder {f} does not exist (library.folders or --library)"
        if not os.access(f, os.R_OK | os.X_OK):
            return f"library folder {f} cannot be read by this user (check its permissions)"
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as granian binds: TIME_WAIT is no conflict
        try:
            s.bind((host, port))
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                return port_busy_message(host, port)
            return f"cannot listen on {host}:{port}: {e.strerror} (check server.host or --host)"
    return None
