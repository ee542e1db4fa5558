"""How granian serves the app: in this process, with connection limits and timeouts from [server].

Granian runs embedded in musicd's own event loop: one interpreter instead of a supervisor process
plus a worker (the supervisor alone held about 40 MiB PSS), and the app's lifespan runs right here.

Granian holds one permit of its `backpressure` semaphore for each open connection, idle ones included,
and stops accepting when they run out (its default is the backlog, 1024): a thousand idle sockets used
to stop every listener. Its `auto` HTTP mode never times out a connection that sends nothing (hyper-util
reads the protocol preface without a timer), so a plain-text listener serves HTTP/1.1 only, where
hyper's header read timeout closes a silent, slow (slowloris) or idle keep-alive connection; cleartext
HTTP/2 (h2c, prior knowledge) is opt-in (`server.h2c`). With a certificate (`server.tls_cert`,
`server.tls_key`) the listener speaks HTTPS and picks HTTP/2 or HTTP/1.1 by ALPN; the TLS handshake
itself is bounded by granian's TLS layer, not the protocol detection after it (see README).
"""

from __future__ import annotations

import asyncio
import copy
import errno
import logging
import os
import resource
import signal
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

from musicd.config import ServerConfig
from musicd.logs import get_logger

__all__ = ["FD_RESERVE", "ClientGoneFilter", "granian_options", "port_busy_message", "raise_open_files_limit",
           "serve_in_process", "start_problem"]

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
    """Keyword arguments for granian's server: HTTP version, TLS, backlog, header timeout, keep-alive, cap."""
    from granian.constants import HTTPModes, SSLProtocols
    from granian.http import HTTP1Settings, HTTP2Settings

    connections = min(server.max_connections, max(64, open_files - FD_RESERVE))
    if connections < server.max_connections:
        log.warning("server.connections_capped", max_connections=server.max_connections, open_files=open_files,
                    serving=connections, fix="raise the hard open-file limit (ulimit -Hn, LimitNOFILE=)")
    tls = bool(server.tls_cert)
    http2 = tls or server.h2c
    log.info("server.limits", connections=connections, backlog=server.backlog, open_files=open_files,
             header_timeout_s=server.header_timeout_seconds, keep_alive=server.keep_alive,
             protocols="h2,http/1.1" if http2 else "http/1.1", tls=tls)
    opts: dict[str, Any] = {
        "http": HTTPModes.auto if http2 else HTTPModes.http1,
        "backlog": server.backlog,
        "backpressure": connections,  # one worker: the whole cap is its
        "http1_settings": HTTP1Settings(header_read_timeout=server.header_timeout_seconds * 1000,
                                        keep_alive=server.keep_alive),
        "log_dictconfig": _log_config(),
    }
    if http2:
        # Ping an HTTP/2 connection that has been quiet for the header timeout, and close it when the
        # ping goes unanswered: a vanished peer does not keep its permit.
        opts["http2_settings"] = HTTP2Settings(keep_alive_interval=server.header_timeout_seconds * 1000,
                                               keep_alive_timeout=server.header_timeout_seconds)
    if tls:
        opts.update(ssl_cert=Path(server.tls_cert).expanduser(), ssl_key=Path(server.tls_key).expanduser(),
                    ssl_protocol_min=SSLProtocols.tls12)  # TLS 1.2: older phones and car stereos
    return opts


def serve_in_process(app: Any, server: ServerConfig, host: str, port: int, log_level: str,
                     on_start: Callable[[], None] = lambda: None) -> None:
    """Serve the ASGI `app` with granian embedded in this process until SIGINT or SIGTERM.

    The lifespan (services, background tasks) starts before the first request and is shut down cleanly.
    `on_start` runs once granian has set up its own logging (musicd's log configuration goes there).
    """
    from granian.constants import Interfaces
    from granian.server.embed import Server

    options = granian_options(server, raise_open_files_limit())

    async def run() -> None:
        srv = Server(app, address=host, port=port, interface=Interfaces.ASGI, websockets=True,
                     log_level=log_level, **options)  # type: ignore[arg-type]
        on_start()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, srv.stop)
        await srv.serve()

    asyncio.run(run())


class ClientGoneFilter(logging.Filter):
    """Drops granian's "ASGI transport error: Closed" lines: a player that skips or seeks closes its
    connection mid-stream many times an hour, which is routine, not an error worth a log line. Granian says
    "SendError" instead when the connection went while a body chunk was being handed over: the same event."""

    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        return not ("transport error" in msg and ("Closed" in msg or "SendError" in msg))


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
