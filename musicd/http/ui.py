"""The web player: Jinja2 shells from `web/templates` and the static files from `web/static`.

The pages are outside /v1 and need no token: the JavaScript holds the tokens (localStorage) and talks to
/v1 like any other client. Static files are served under a content version (`/static/<version>/...`) so
they can be cached for a year; ES modules import each other by relative paths and so stay on one
version. The shells themselves are never cached, so a new version shows on the next page load.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import mimetypes
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
from litestar import Controller, Request, Response, get
from litestar.status_codes import HTTP_304_NOT_MODIFIED

from musicd import __version__
from musicd.errors import NotFoundError
from musicd.http.urls import base_url

__all__ = ["WebController", "not_found_page", "render_page", "web_root"]

_IMMUTABLE = "public, max-age=31536000, immutable"
_NO_CACHE = "no-cache"
# Pages may only run our own scripts and load media and images from this server.
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'; "
    "form-action 'self'"
)
_PAGE_HEADERS = {
    "Cache-Control": _NO_CACHE, "Content-Security-Policy": _CSP, "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin", "X-Frame-Options": "DENY",
}
_TYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml",
          ".json": "application/json", ".webmanifest": "application/manifest+json", ".woff2": "font/woff2",
          ".png": "image/png", ".ico": "image/x-icon", ".txt": "text/plain"}
_COMPRESSIBLE = {".js", ".mjs", ".css", ".svg", ".json", ".webmanifest", ".txt"}
_VERSION_TTL_S = 2.0


def web_root() -> Path:
    """The `web/` folder: shipped as the `musicd.web` package data, or the checkout's top-level folder."""
    packaged = Path(str(resources.files("musicd"))) / "web"
    if (packaged / "templates").is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "web"


@dataclass(frozen=True)
class _Asset:
    body: bytes
    gzipped: bytes | None
    media_type: str
    etag: str
    stamp: tuple[int, int]


class _Assets:
    """Static files read once into memory (they are small), re-read when a file changes on disk."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._cache: dict[str, _Asset] = {}
        self._version = ""
        self._version_at = -_VERSION_TTL_S

    def version(self) -> str:
        """A short hash of every file's name, size and mtime: it changes whenever a file does."""
        now = time.monotonic()
        if now - self._version_at > _VERSION_TTL_S:
            h = hashlib.sha256(__version__.encode())
            for p in sorted(self.root.rglob("*")):
                if p.is_file():
                    st = p.stat()
                    h.update(f"{p.relative_to(self.root)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
            self._version, self._version_at = h.hexdigest()[:12], now
        return self._version

    def files(self) -> list[str]:
        """Every static file, relative to the static folder (what the service worker keeps for offline use)."""
        return sorted(str(p.relative_to(self.root)) for p in self.root.rglob("*") if p.is_file())

    def get(self, rel: str) -> _Asset:
        path = (self.root / rel.lstrip("/")).resolve()
        if not path.is_relative_to(self.root) or not path.is_file():
            raise NotFoundError("no such file", code="not_found")
        st = path.stat()
        stamp = (st.st_size, st.st_mtime_ns)
        cached = self._cache.get(rel)
        if cached is not None and cached.stamp == stamp:
            return cached
        body = path.read_bytes()
        media_type = _TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if media_type.endswith(("javascript", "json")) and not media_type.startswith("text/"):
            media_type += "; charset=utf-8"  # Litestar adds the charset to text/* types itself
        gz = gzip.compress(body, 6, mtime=0) if path.suffix in _COMPRESSIBLE and len(body) > 1024 else None
        asset = _Asset(body, gz, media_type, '"' + hashlib.sha256(body).hexdigest()[:20] + '"', stamp)
        self._cache[rel] = asset
        return asset


class _Site:
    """Templates and assets of one `web/` folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.assets = _Assets(root / "static")
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(root / "templates"), autoescape=True, auto_reload=True,
            trim_blocks=True, lstrip_blocks=True,
        )

    def render(self, request: Request[Any, Any, Any], template: str, headers: dict[str, str] | None = None,
               **context: Any) -> Response[str]:
        version = self.assets.version()
        static = f"/static/{version}"
        services = request.app.state.services
        client = {
            "static": static, "version": __version__, "serverUrl": base_url(request),
            "serverName": services.config.server.public_url or "musicd",
        }
        html = self.env.get_template(template).render(
            static=static, version=__version__, client_json=json.dumps(client), **context,
        )
        return Response(html, media_type="text/html", headers={**_PAGE_HEADERS, **(headers or {})})


_site: _Site | None = None
# First path segments of the APIs and files: a miss there stays a JSON error, whoever asks.
_API_ROOTS = frozenset({"v1", "1", "rest", "fed", "static", "health", "metrics", "ws"})


def not_found_page(request: Request[Any, Any, Any]) -> Response[str] | None:
    """A browser's miss outside the APIs: the player's shell with status 404 (its router draws its own
    "Page not found"), or None for an API client (JSON error)."""
    first = request.url.path.lstrip("/").split("/", 1)[0]
    if first in _API_ROOTS or request.method != "GET" or "text/html" not in request.headers.get("accept", ""):
        return None
    page = _the_site().render(request, "app.html.j2")
    page.status_code = 404
    return page


def _the_site() -> _Site:
    global _site
    if _site is None:
        _site = _Site(web_root())
    return _site


def render_page(request: Request[Any, Any, Any], template: str, headers: dict[str, str] | None = None,
                **context: Any) -> Response[str]:
    """A page of `web/templates` with the web player's assets and security headers (plus `headers`)."""
    return _the_site().render(request, template, headers, **context)


# Client-side routes of the single-page player; each answers with the same shell.
_APP_PATHS = [
    "/", "/search", "/library", "/library/{section:str}", "/queue", "/lyrics", "/settings", "/admin",
    "/offline", "/album/{item_id:str}", "/artist/{item_id:str}", "/playlist/{item_id:str}", "/genre/{item_id:str}",
    "/podcasts", "/show/{item_id:str}", "/jam/{item_id:str}",
]


class WebController(Controller):
    path = "/"
    include_in_schema = False

    @get(_APP_PATHS)
    async def app_shell(self, request: Request[Any, Any, Any]) -> Response[str]:
        """The player's shell; the JavaScript router draws the page the path names."""
        return _the_site().render(request, "app.html.j2")

    @get("/sw.js")
    async def service_worker(self) -> Response[str]:
        """The service worker (scope /) that keeps the player's shell of this version for offline use."""
        site = _the_site()
        version = site.assets.version()
        shell = ["/", *(f"/static/{version}/{rel}" for rel in site.assets.files())]
        head = f"const VERSION = {json.dumps(version)};\nconst SHELL = {json.dumps(shell)};\n"
        return Response(head + site.assets.get("js/offline/sw.js").body.decode(), media_type="text/javascript",
                        headers={"Cache-Control": _NO_CACHE, "X-Content-Type-Options": "nosniff"})

    @get("/login")
    async def login_page(self, request: Request[Any, Any, Any]) -> Response[str]:
        return _the_site().render(request, "login.html.j2")

    @get("/setup")
    async def setup_page(self, request: Request[Any, Any, Any]) -> Response[str]:
        """First run: create the admin account (the page sends people to /login once one exists)."""
        return _the_site().render(request, "setup.html.j2")

    @get("/join/{token:str}")
    async def join_page(self, request: Request[Any, Any, Any], token: str) -> Response[str]:
        """An invite link: the invited member picks a username and a password (musicd.services.invites)."""
        return _the_site().render(request, "join.html.j2", {"Referrer-Policy": "no-referrer"})

    @get("/static/{version:str}/{rel:path}")
    async def static_file(self, request: Request[Any, Any, Any], version: str, rel: str) -> Response[bytes]:
        """A static file; immutable when asked under the current version, revalidated otherwise."""
        site = _the_site()
        asset = site.assets.get(rel)
        cache = _IMMUTABLE if version == site.assets.version() else _NO_CACHE
        headers = {"Cache-Control": cache, "ETag": asset.etag, "Vary": "Accept-Encoding",
                   "X-Content-Type-Options": "nosniff"}
        if request.headers.get("if-none-match") == asset.etag:
            return Response(b"", status_code=HTTP_304_NOT_MODIFIED, headers=headers)
        body = asset.body
        if asset.gzipped is not None and "gzip" in request.headers.get("accept-encoding", ""):
            body = asset.gzipped
            headers["Content-Encoding"] = "gzip"
        return Response(body, media_type=asset.media_type, headers=headers)
