"""granian options from [server]: HTTP/1.1 with a header timeout, the connection cap, the open-file limit."""

from __future__ import annotations

import resource
import subprocess
import sys

from granian.constants import HTTPModes

from musicd.config import ServerConfig
from musicd.http.serving import FD_RESERVE, granian_options


def test_options_follow_the_config() -> None:
    opts = granian_options(ServerConfig(max_connections=6000, backlog=512, header_timeout_seconds=7,
                                        keep_alive=False), open_files=20000)
    assert opts["http"] == HTTPModes.http1  # the auto mode never times out a silent connection
    assert opts["backpressure"] == 6000
    assert opts["backlog"] == 512
    assert opts["http1_settings"].header_read_timeout == 7000
    assert opts["http1_settings"].keep_alive is False


def test_connections_are_capped_by_the_open_file_limit() -> None:
    assert granian_options(ServerConfig(max_connections=10000), open_files=4096)["backpressure"] == 4096 - FD_RESERVE
    assert granian_options(ServerConfig(max_connections=10000), open_files=100)["backpressure"] == 64


def test_the_soft_open_file_limit_is_raised_to_the_hard_one() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    code = ("import resource; from musicd.http.serving import raise_open_files_limit as r; n = r();"
            " print(n, resource.getrlimit(resource.RLIMIT_NOFILE)[0])")
    low = min(256, hard)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (low, hard)),
    ).stdout.split()
    want = hard if hard != resource.RLIM_INFINITY else 1 << 20
    assert [int(x) for x in out] == [want, want]
