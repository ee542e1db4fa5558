"""/v1/search (Spotify's search endpoint and paging shapes) and /v1/search/suggest (autocomplete)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.params import Parameter

from musicd.domain.models import User
from musicd.http.v1.playlist_shapes import simplified_playlist
from musicd.http.v1.podcast_shapes import episode_simple, show_simple
from musicd.http.v1.shapes import Links, album_simple, artist_full, images, links, paging, track_full, uri
from musicd.services.registry import Services
from musicd.services.search import MAX_QUERY, clean_query

__all__ = ["SearchController"]

_TYPES = {"track": "tracks", "album": "albums", "artist": "artists", "playlist": "playlists", "show": "shows",
          "episode": "episodes"}
SUGGESTIONS = 8


def _suggestion(ln: Links, kind: str, item: Any) -> dict[str, Any]:
    if kind == "track":
        subtitle, cover = item.artist_display, item.cover_id
    elif kind == "album":
        subtitle, cover = item.artist.name, item.cover_id
    elif kind == "artist":
        subtitle, cover = "Artist", item.cover_id
    else:
        subtitle, cover = f"Playlist by {item.owner_name}", item.image_id
    return {"type": kind, "id": item.id, "name": getattr(item, "title", None) or item.name, "subtitle": subtitle,
            "uri": uri(kind, item.id), "images": images(ln, cover)}


class SearchController(Controller):
    path = "/v1/search"
    tags = ["search"]

    @get("/")
    async def search(
        self, request: Request[Any, Any, Any], user: User, services: Services,
        q: Annotated[str | None, Parameter(description="What to look for (typos and accents are forgiven)")] = None,
        type: Annotated[str | None, Parameter(
            description="Comma-separated: track, artist, album, playlist, show, episode")] = None,
        limit: Annotated[int, Parameter(ge=1, le=50)] = 20,
        offset: Annotated[int, Parameter(ge=0, le=1000)] = 0,
    ) -> dict[str, Any]:
        """Search the catalogue and the playlists the user may see; one paging object per type."""
        kinds = [t.strip() for t in (type or "").split(",") if t.strip()]
        results = await services.search.request(q, kinds, limit, offset, user.id)
        ln = links(request)
        mappers = {"track": track_full, "album": album_simple, "artist": artist_full,
                   "playlist": lambda ln, p: simplified_playlist(ln.base, p), "show": show_simple,
                   "episode": episode_simple}
        return {
            _TYPES[k]: paging(ln, [mappers[k](ln, x) for x in results[k].items], results[k].total, limit, offset)
            for k in kinds
        }

    @get("/suggest")
    async def suggest(self, request: Request[Any, Any, Any], user: User, services: Services,
                      q: str | None = None) -> dict[str, Any]:
        """A few mixed results for a search box as the user types, best first."""
        ln = links(request)
        found = await services.search.suggest(q, user.id, SUGGESTIONS)
        return {"query": clean_query(q)[:MAX_QUERY], "items": [_suggestion(ln, s.kind, s.item) for s in found]}
