"""The OpenAPI 3.1 schema of /v1, served at /v1/openapi.json with interactive docs at /v1/docs.

The schema is built on the first request for it, not at start: building it takes about 8 MiB and a
quarter of a CPU-second (Litestar's example factories pull in polyfactory and faker), which a server
nobody reads the docs of should not pay.
"""

from __future__ import annotations

from typing import Any

from litestar import Litestar, Request
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import (
    Components,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Reference,
    Schema,
    SecurityScheme,
)

from musicd import __version__

__all__ = ["document_errors", "openapi_config"]


def _documented(app: Litestar) -> dict[str, Any]:
    """The schema with `document_errors` applied, built once per app on first use."""
    schema: dict[str, Any] | None = app.state.get("openapi_documented")
    if schema is None:
        document_errors(app)
        schema = app.state["openapi_documented"] = app.openapi_schema.to_schema()
    return schema


class _Json(JsonRenderPlugin):
    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        return self.render_json(request, _documented(request.app))


class _Swagger(SwaggerRenderPlugin):
    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        return super().render(request, _documented(request.app))


openapi_config = OpenAPIConfig(
    title="musicd /v1",
    version=__version__,
    description=(
        "The Spotify-Web-API-shaped API of musicd. Log in with POST /v1/auth/login and send the access "
        "token as `Authorization: Bearer <token>`. Ids are opaque base62 strings; URIs are "
        "emitted as `spotify:<type>:<id>` (so Spotify client libraries accept them) and `musicd:<type>:<id>` "
        "is accepted too wherever URIs are."
    ),
    path="/v1",
    render_plugins=[_Json(path="/openapi.json"), _Swagger(path="/docs")],
    components=Components(security_schemes={
        "bearer": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT"),
    }),
    security=[{"bearer": []}],
    use_handler_docstrings=True,
)


_ERROR_SCHEMA = Schema(
    type=OpenAPIType.OBJECT,
    required=["error"],
    properties={"error": Schema(
        type=OpenAPIType.OBJECT,
        required=["status", "code", "message"],
        properties={"status": Schema(type=OpenAPIType.INTEGER), "code": Schema(type=OpenAPIType.STRING),
                    "message": Schema(type=OpenAPIType.STRING)},
    )},
    description="Every /v1 error: the HTTP status, a stable code and a message for people.",
)
_COMMON_ERRORS = {"400": "Bad request", "401": "No, expired or revoked access token", "403": "Not allowed",
                  "404": "No such resource (or not visible to this user)", "429": "Rate limited (see Retry-After)"}


def document_errors(app: Litestar) -> None:
    """Make the schema say what the handlers do: errors are `{"error": {...}}` (Litestar documents its own
    `{status_code, detail}` shape otherwise), and any operation may answer 400, 401, 403, 404 or 429."""
    schema = app.openapi_schema
    if schema.components.schemas is None:
        schema.components.schemas = {}
    schema.components.schemas["Error"] = _ERROR_SCHEMA
    ref = Reference(ref="#/components/schemas/Error")
    for item in (schema.paths or {}).values():
        if isinstance(item, Reference):
            continue
        for method in ("get", "put", "post", "delete", "patch", "head"):
            op = getattr(item, method, None)
            if op is None:
                continue
            responses = op.responses if op.responses is not None else {}
            for status, description in _COMMON_ERRORS.items():
                existing = responses.get(status)
                text = existing.description if isinstance(existing, OpenAPIResponse) else description
                responses[status] = OpenAPIResponse(description=text or description,
                                                    content={"application/json": OpenAPIMediaType(schema=ref)})
            for status, resp in list(responses.items()):
                if status.startswith(("4", "5")) and isinstance(resp, OpenAPIResponse):
                    resp.content = {"application/json": OpenAPIMediaType(schema=ref)}
            op.responses = responses
