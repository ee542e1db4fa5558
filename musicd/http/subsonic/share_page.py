"""Public pages of Subsonic shares: /s/{id} lists the shared tracks with players, /s/{id}/{track} plays one.

No account is needed: the share id is the secret. Only the shared tracks can be fetched through it,
as original files with Range support; an unknown or expired share is a 404.
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, select_autoescape
from litestar import Controller, Request, Response, route
from litestar.enums import MediaType
from litestar.types import ASGIApp

from musicd.errors import NotFoundError
from musicd.http.bounds import OptImageSize
from musicd.http.streaming import IMAGE_CACHE, MediaResponse
from musicd.services.registry import Services

__all__ = ["SharePageController"]

_OPEN = {"exclude_from_auth": True}

_PAGE = Environment(autoescape=select_autoescape(default=True)).from_string("""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }} · musicd</title>
<style>body{font:15px/1.4 system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem;color:#222}
li{margin:.6rem 0}audio{display:block;width:100%;margin-top:.2rem}.d{color:#777}img{max-width:10rem}</style>
</head><body>
<h1>{{ title }}</h1>
<p class="d">Shared by {{ s.username }} · {{ s.tracks | length }} tracks</p>
{% if cover %}<img src="{{ base }}/cover/{{ cover }}" alt="">{% endif %}
<ol>{% for t in s.tracks %}<li>{{ t.title }} <span class="d">— {{ t.artist_display }} · {{ t.album_name }}</span>
<audio controls preload="none" src="{{ base }}/{{ t.id }}"></audio></li>{% endfor %}</ol>
</body></html>
""")


class SharePageController(Controller):
    path = "/s"
    include_in_schema = False

    @route("/{share_id:str}", http_method=["GET", "HEAD"], opt=_OPEN)
    async def page(self, request: Request[Any, Any, Any], share_id: str, services: Services) -> Response[str]:
        s = await services.shares.open(share_id, count_visit=request.method == "GET")
        title = s.description or (s.tracks[0].album_name if s.tracks else "Shared music")
        cover = next((t.cover_id for t in s.tracks if t.cover_id), None)
        html = _PAGE.render(s=s, title=title, cover=cover, base=f"/s/{share_id}")
        return Response(html, media_type=MediaType.HTML, headers={"Cache-Control": "private, no-store",
                                                                   "Referrer-Policy": "no-referrer"})

    @route("/{share_id:str}/cover/{cover_id:str}", http_method=["GET", "HEAD"], opt=_OPEN)
    async def cover(self, share_id: str, cover_id: str, services: Services, size: OptImageSize = None) -> ASGIApp:
        s = await services.shares.open(share_id, count_visit=False)
        if all(t.cover_id != cover_id for t in s.tracks):
            raise NotFoundError("no such cover in this share", code="cover_not_found")
        return MediaResponse(await services.playback.image(cover_id, size), IMAGE_CACHE)

    @route("/{share_id:str}/{track_id:str}", http_method=["GET", "HEAD"], opt=_OPEN)
    async def track(self, request: Request[Any, Any, Any], share_id: str, track_id: str,
                    services: Services) -> ASGIApp:
        t = await services.shares.shared_track(share_id, track_id)
        body = await services.playback.open_track(t.id, "original", head=request.method == "HEAD")
        return MediaResponse(body)
