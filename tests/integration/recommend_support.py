"""Waiting for a live server's recommendation model: on what /metrics says, failing at once on a failed build."""

from __future__ import annotations

import time

import httpx

from tests.live import LiveServer

__all__ = ["metric", "wait_for_model"]


def metric(server: LiveServer, name: str) -> float:
    """One sample of the server's /metrics (0 when absent), `name` with its labels as exposed."""
    for line in httpx.get(f"{server.base}/metrics", timeout=10).text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return 0.0


def wait_for_model(server: LiveServer, listens: int, seconds: float = 180) -> None:
    """Until the model in use was trained on `listens` listens. A failed build fails the test at once with the
    server's log (a venv without `implicit` once made this wait until it timed out)."""
    deadline = time.monotonic() + seconds
    while (got := metric(server, "musicd_recommend_model_listens")) != listens:
        failed = metric(server, 'musicd_recommend_builds_total{outcome="failed"}')
        assert failed == 0, "a model build failed:\n" + server.log()[-4000:]
        assert time.monotonic() < deadline, f"the model has {got:.0f} of {listens} listens after {seconds:.0f} s"
        time.sleep(0.2)
