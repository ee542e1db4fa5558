"""/v1/search (Spotify's search endpoint and paging shapes) and /v1/search/suggest (autocomplete)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.params import Parameter

from musicd.domain.models import User
from musicd.errors import ValidationError
from musicd.http.v1.playlist_shapes import simplified_playlist
from musicd.http.v1.podcast_shapes import episode_simple, show_simple
from musicd.http.v1.shapes import Links, album_simple, artist_full, images, links, paging, track_full, uri
from musicd.services.registry import Services

__all__ = ["SearchController"]

_TYPES = {"track": "tracks", "album": "albums", "artist": "artists", "playlist": "playlists", "show": "shows",
          "episode": "episodes"}
MAX_QUERY = 500
SUGGESTIONS = 8


def _types(value: str | None) -> list[str]:
    kinds = [t.strip() for t in (value or "").split(",") if t.strip()]
    if not kinds:
        raise ValidationError("type is required: track, artist, album, playlist, show and/or episode",
                              code="invalid_type")
    bad = [t for t in kinds if t not in _TYPES]
    if bad:
        raise ValidationError(f"unknown type {bad[0]!r}: use track, artist, album, playlist, show or episode",
                              code="invalid_type")
    return kinds


def _clean(q: str | None) -> str:
    # Control and invisible characters are never part of what a listener meant: drop them, never fail.
    return "".join(ch if ch.isprintable() else " " for ch in (q or "")).strip()


def _query(q: str | None) -> str:
    if not q or not q.strip():
        raise ValidationError("q is required", code="missing_query")
    if len(q) > MAX_QUERY:
        raise ValidationError(f"q is longer than {MAX_QUERY} characters", code="query_too_long")
    return _clean(q)


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
        kinds = _types(type)
        results = await services.search.find(_query(q), kinds, limit, offset, user.id)
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
        text = _clean(q)[:MAX_QUERY]
        if not text:
            return {"query": "", "items": []}
        ln = links(request)
        found = await services.search.suggest(text, user.id, SUGGESTIONS)
        return {"query": text, "items": [_suggestion(ln, s.kind, s.item) for s in found]}
