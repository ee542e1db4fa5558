"""The absolute base URL links are built from: the configured public URL, else the request's own."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection

__all__ = ["base_url"]


def base_url(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """`https://host[:port]` without a trailing slash, for hrefs, `next` links and share URLs."""
    configured = connection.app.state.services.config.server.public_url
    if configured:
        return str(configured).rstrip("/")
    return str(connection.base_url).rstrip("/")
