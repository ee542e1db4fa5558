"""Health and Prometheus metrics: the only endpoints besides login and share links that need no auth."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Response, get
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from musicd import __version__
from musicd.services.registry import Services

__all__ = ["SystemController"]


class SystemController(Controller):
    path = "/"
    include_in_schema = False

    @get("/health")
    async def health(self, services: Services) -> Response[dict[str, Any]]:
        h = await services.health.report()
        body = {"status": "ok" if h.ok else "degraded", "version": __version__,
                "scan": services.library.state.phase, "database": h.database,
                "disk": msgspec.to_builtins(h.disk)}
        return Response(body, status_code=200 if h.ok else 503)

    @get("/metrics")
    async def metrics(self, services: Services) -> Response[bytes]:
        await services.refresh_metrics()
        return Response(generate_latest(services.metrics.registry), media_type=CONTENT_TYPE_LATEST)
