"""Public share links of playlists, /share/{token}: read-only, no account needed; 404 unknown, 410 revoked/expired.

A browser (Accept: text/html) gets a small page; anything else gets the Spotify-shaped playlist JSON.
"""

from __future__ import annotations

from typing import Annotated, Any

from jinja2 import Environment, select_autoescape
from litestar import Controller, Request, Response, get
from litestar.enums import MediaType
from litestar.params import Parameter

from musicd.http.bounds import Offset
from musicd.http.v1.playlist_shapes import SHARE_ERRORS, full_playlist, playlist_page
from musicd.http.v1.shapes import links
from musicd.services.playlists import MAX_PAGE
from musicd.services.registry import Services

__all__ = ["ShareController"]

Limit = Annotated[int, Parameter(ge=1, le=MAX_PAGE, description=f"Items per page (1-{MAX_PAGE})")]

_PAGE = Environment(autoescape=select_autoescape(default=True)).from_string("""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ p.name }} · musicd</title>
<style>body{font:15px/1.4 system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem;color:#222}
td{padding:.2rem .6rem .2rem 0;vertical-align:top}th{text-align:left;color:#666;font-weight:normal}
.n{color:#888;text-align:right}.d{color:#888}</style></head><body>
<h1>{{ p.name }}</h1>
<p class="d">{{ p.owner.display_name }} · {{ p.tracks.total }} tracks
{%- if p.description %} · {{ p.description }}{% endif %}</p>
<table><tr><th>#</th><th>Title</th><th>Artist</th><th>Album</th></tr>
{% for it in p.tracks["items"] %}{% set t = it.track %}<tr><td class="n">{{ loop.index + p.tracks.offset }}</td>
{% if t %}<td>{{ t.name }}</td><td>{{ t.artists | map(attribute="name") | join(", ") }}</td><td>{{ t.album.name }}</td>
{% else %}<td colspan="3" class="d">(no longer in the library)</td>{% endif %}</tr>
{% endfor %}</table>
{% if p.tracks.next %}<p><a href="?offset={{ p.tracks.offset + p.tracks.limit }}">more</a></p>{% endif %}
</body></html>
""")


def _wants_html(request: Request[Any, Any, Any]) -> bool:
    accept = request.headers.get("accept", "")
    return "text/html" in accept and request.query_params.get("format") != "json"


class ShareController(Controller):
    path = "/share"
    tags = ["share"]

    @get("/{token:str}", opt={"exclude_from_auth": True}, responses=SHARE_ERRORS)
    async def shared(self, request: Request[Any, Any, Any], token: str, services: Services, offset: Offset = 0,
                     limit: Limit = MAX_PAGE) -> Response[Any]:
        """A shared playlist with a page of its items, as JSON or (for a browser) as a page."""
        pl = await services.playlists.shared(token)
        page = await services.playlists.items(None, pl, limit, offset)
        ln = links(request)
        body = full_playlist(ln, pl, page, f"{ln.base}/share/{token}/items")
        if _wants_html(request):
            return Response(_PAGE.render(p=body), media_type=MediaType.HTML)
        return Response(body)

    @get("/{token:str}/items", opt={"exclude_from_auth": True}, responses=SHARE_ERRORS)
    async def shared_items(self, request: Request[Any, Any, Any], token: str, services: Services,
                           offset: Offset = 0, limit: Limit = MAX_PAGE) -> dict[str, Any]:
        """A page of a shared playlist's items."""
        pl = await services.playlists.shared(token)
        return playlist_page(links(request), await services.playlists.items(None, pl, limit, offset))
