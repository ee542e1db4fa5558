"""ASGI middleware that counts requests and their latency by route template (not raw path)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from musicd.services.metrics import Metrics

__all__ = ["metrics_middleware"]


def metrics_middleware(get_metrics: Callable[[], Metrics | None]) -> Any:
    """Middleware factory; `get_metrics` returns None until the app's services exist."""

    def factory(app: Any) -> Any:
        async def middleware(scope: Any, receive: Any, send: Any) -> None:
            metrics = get_metrics()
            if scope["type"] != "http" or metrics is None:
                await app(scope, receive, send)
                return
            t0 = time.perf_counter()
            status = {"code": 500}

            async def send_wrapper(message: Any) -> None:
                if message["type"] == "http.response.start":
                    status["code"] = message["status"]
                    route = scope.get("path_template") or "unmatched"
                    metrics.http_latency.labels(route).observe(time.perf_counter() - t0)
                await send(message)

            try:
                await app(scope, receive, send_wrapper)
            finally:
                route = scope.get("path_template") or "unmatched"
                metrics.http_requests.labels(scope["method"], route, str(status["code"])).inc()

        return middleware

    return factory
