"""The OpenAPI 3.1 schema of /v1, served at /v1/openapi.json with interactive docs at /v1/docs.

The schema is built on the first request for it, not at start: building it takes about 8 MiB and a
quarter of a CPU-second (Litestar's example factories pull in polyfactory and faker), which a server
nobody reads the docs of should not pay.
"""

from __future__ import annotations

from typing import Any

import swagger_ui_bundle
from litestar import Litestar, Request, Response, get
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

__all__ = ["DOCS_ASSETS", "docs_asset", "document_errors", "openapi_config"]

# Swagger UI comes from the swagger-ui-bundle-v2 package and is served from here, so /v1/docs works
# without internet (Litestar's default loads it from a CDN).
DOCS_ASSETS = "/v1/docs/assets"
_ASSET_TYPES = {"swagger-ui-bundle.js": "text/javascript", "swagger-ui-standalone-preset.js": "text/javascript",
                "swagger-ui.css": "text/css", "favicon-32x32.png": "image/png", "favicon-16x16.png": "image/png"}
_asset_cache: dict[str, bytes] = {}


@get(f"{DOCS_ASSETS}/{{name:str}}", opt={"exclude_from_auth": True}, include_in_schema=False, sync_to_thread=False)
def docs_asset(name: str) -> Response[Any]:
    """One file of Swagger UI (only the few the docs page loads)."""
    media_type = _ASSET_TYPES.get(name)
    if media_type is None:
        return Response({"error": {"status": 404, "code": "not_found", "message": f"no docs asset {name}"}},
                        status_code=404)
    body = _asset_cache.get(name)
    if body is None:
        body = _asset_cache[name] = (swagger_ui_bundle.swagger_ui_path / name).read_bytes()
    return Response(body, media_type=media_type, headers={"Cache-Control": "public, max-age=86400"})


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
    render_plugins=[_Json(path="/openapi.json"), _Swagger(
        path="/docs", js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js", css_url=f"{DOCS_ASSETS}/swagger-ui.css",
        standalone_preset_js_url=f"{DOCS_ASSETS}/swagger-ui-standalone-preset.js",
        favicon=f"<link rel='icon' type='image/png' href='{DOCS_ASSETS}/favicon-32x32.png'>")],
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
