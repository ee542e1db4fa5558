"""The public pages of shares, one family for every share (Subsonic's createShare and /v1 playlist links):

- `/share/{token}`: the shared playlist (or the share shown as one) with a page of its items, as the
  Spotify-shaped JSON for programs, as a page with a player for browsers (Accept: text/html);
  `/share/{token}/items`: a page of its items (JSON);
- `/share/{token}/tracks/{track_id}`: a shared track's original file, with Range;
  `/share/{token}/cover/{cover_id}`: the cover the page shows.

`/s/{token}` is the short form Subsonic apps show (always the page), with `/s/{token}/{track_id}` and
`/s/{token}/cover/{cover_id}`. No account is needed: the token is the secret; 404 for an unknown link,
410 for a revoked or expired one (musicd.services.shares).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, route
from litestar.params import Parameter
from litestar.types import ASGIApp

from musicd.http.bounds import Offset, OptImageSize
from musicd.http.streaming import IMAGE_CACHE, MediaResponse
from musicd.http.ui import render_page
from musicd.http.v1.playlist_shapes import SHARE_ERRORS, full_playlist, playlist_page
from musicd.http.v1.shapes import links
from musicd.services.playlists import MAX_PAGE
from musicd.services.registry import Services
from musicd.services.shares import SharedPage

__all__ = ["ShareController", "ShortShareController"]

# The page asks for a tier when its browser cannot play the original's format.
ShareQuality = Annotated[Literal["original", "low", "normal", "high"],
                         Parameter(description="original file, or a transcoded tier")]
Limit = Annotated[int, Parameter(ge=1, le=MAX_PAGE, description=f"Items per page (1-{MAX_PAGE})")]

_OPEN = {"exclude_from_auth": True}
_GET_HEAD = ["GET", "HEAD"]
_PRIVATE = {"Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer"}

def _wants_html(request: Request[Any, Any, Any]) -> bool:
    accept = request.headers.get("accept", "")
    return "text/html" in accept and request.query_params.get("format") != "json"


def _html(request: Request[Any, Any, Any], token: str, shared: SharedPage) -> Response[str]:
    """The styled page with a player (web/templates/share.html.j2); the token stays out of Referer headers."""
    return render_page(request, "share.html.j2", _PRIVATE, p=shared.playlist, page=shared.items,
                       base=f"/share/{token}")


async def _open(request: Request[Any, Any, Any], services: Services, token: str, offset: int, limit: int
                ) -> SharedPage:
    return await services.shares.open(token, limit, offset, count_visit=request.method == "GET")


async def _track(request: Request[Any, Any, Any], services: Services, token: str, track_id: str,
                 quality: ShareQuality) -> ASGIApp:
    t = await services.shares.shared_track(token, track_id)
    return MediaResponse(await services.playback.open_track(t.id, quality, head=request.method == "HEAD"))


async def _cover(services: Services, token: str, cover_id: str, size: int | None) -> ASGIApp:
    await services.shares.shared_cover(token, cover_id)
    return MediaResponse(await services.playback.image(cover_id, size), IMAGE_CACHE)


class ShareController(Controller):
    path = "/share"
    tags = ["share"]

    @route("/{token:str}", http_method=_GET_HEAD, opt=_OPEN, responses=SHARE_ERRORS)
    async def shared(self, request: Request[Any, Any, Any], token: str, services: Services, offset: Offset = 0,
                     limit: Limit = MAX_PAGE) -> Response[Any]:
        """A shared playlist (or the shared songs as one) with a page of its items, as JSON or as a page."""
        shared = await _open(request, services, token, offset, limit)
        if _wants_html(request):
            return _html(request, token, shared)
        ln = links(request)
        return Response(full_playlist(ln, shared.playlist, shared.items, f"{ln.base}/share/{token}/items"),
                        headers=_PRIVATE)

    @route("/{token:str}/items", http_method=_GET_HEAD, opt=_OPEN, responses=SHARE_ERRORS)
    async def shared_items(self, request: Request[Any, Any, Any], token: str, services: Services,
                           offset: Offset = 0, limit: Limit = MAX_PAGE) -> dict[str, Any]:
        """A page of a share's items."""
        shared = await services.shares.open(token, limit, offset)
        return playlist_page(links(request), shared.items)

    @route("/{token:str}/tracks/{track_id:str}", http_method=_GET_HEAD, opt=_OPEN, include_in_schema=False)
    async def track(self, request: Request[Any, Any, Any], token: str, track_id: str, services: Services,
                    quality: ShareQuality = "original") -> ASGIApp:
        return await _track(request, services, token, track_id, quality)

    @route("/{token:str}/cover/{cover_id:str}", http_method=_GET_HEAD, opt=_OPEN, include_in_schema=False)
    async def cover(self, token: str, cover_id: str, services: Services, size: OptImageSize = None) -> ASGIApp:
        return await _cover(services, token, cover_id, size)


class ShortShareController(Controller):
    """`/s/...`: the links Subsonic apps show, served by the same code (the page, always)."""

    path = "/s"
    include_in_schema = False

    @route("/{token:str}", http_method=_GET_HEAD, opt=_OPEN)
    async def page(self, request: Request[Any, Any, Any], token: str, services: Services, offset: Offset = 0
                   ) -> Response[str]:
        return _html(request, token, await _open(request, services, token, offset, MAX_PAGE))

    @route("/{token:str}/{track_id:str}", http_method=_GET_HEAD, opt=_OPEN)
    async def track(self, request: Request[Any, Any, Any], token: str, track_id: str, services: Services,
                    quality: ShareQuality = "original") -> ASGIApp:
        return await _track(request, services, token, track_id, quality)

    @route("/{token:str}/cover/{cover_id:str}", http_method=_GET_HEAD, opt=_OPEN)
    async def cover(self, token: str, cover_id: str, services: Services, size: OptImageSize = None) -> ASGIApp:
        return await _cover(services, token, cover_id, size)
