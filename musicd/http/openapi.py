"""The OpenAPI 3.1 schema of /v1, served at /v1/openapi.json with interactive docs at /v1/docs."""

from __future__ import annotations

from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme

from musicd import __version__

__all__ = ["openapi_config"]

openapi_config = OpenAPIConfig(
    title="musicd /v1",
    version=__version__,
    description=(
        "The Spotify-Web-API-shaped API of musicd. Log in with POST /v1/auth/login and send the access "
        "token as `Authorization: Bearer <token>`. Ids are opaque; `musicd:track:<id>` and "
        "`spotify:track:<id>` URIs are accepted wherever URIs are."
    ),
    path="/v1",
    render_plugins=[JsonRenderPlugin(path="/openapi.json"), SwaggerRenderPlugin(path="/docs")],
    components=Components(security_schemes={
        "bearer": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT"),
    }),
    security=[{"bearer": []}],
    use_handler_docstrings=True,
)
