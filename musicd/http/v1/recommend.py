"""/v1/recommendations (Spotify's shape, with each track's reason), the genre seeds, /v1/me/recommendations
and radio stations (/v1/stations/{uri}); see docs/radio.md."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.params import Parameter

from musicd.domain.catalog import TrackView
from musicd.domain.models import User
from musicd.domain.recommend import Reason, SeedResult
from musicd.http.v1.shapes import ERRORS, Links, links, parse_ids, track_full
from musicd.services.registry import Services

__all__ = ["RecommendationsController", "StationsController", "reason_object"]

Seeds = Annotated[str | None, Parameter(description="Comma-separated ids or URIs (at most 5 seeds in all)")]
Limit = Annotated[int, Parameter(ge=1, le=100, description="1 to 100")]
Offset = Annotated[int, Parameter(ge=0, le=10_000, description="0 to 10000")]
_SEED_TYPES = {"artist": "ARTIST", "track": "TRACK", "genre": "GENRE"}


def reason_object(r: Reason) -> dict[str, Any]:
    """Why a track was recommended: `type`, `text` for people, and the track or artist it refers to."""
    return {"type": r.kind, "text": r.text, "track_id": r.track_id, "artist_id": r.artist_id}


def _track(ln: Links, t: TrackView, r: Reason) -> dict[str, Any]:
    return {**track_full(ln, t), "reason": reason_object(r)}


def _seed(ln: Links, s: SeedResult) -> dict[str, Any]:
    return {"afterFilteringSize": s.after_filtering_size, "afterRelinkingSize": s.after_filtering_size,
            "href": None if s.kind == "genre" else ln.href(s.kind, s.id), "id": s.id,
            "initialPoolSize": s.initial_pool_size, "type": _SEED_TYPES[s.kind]}


class RecommendationsController(Controller):
    path = "/v1"
    tags = ["recommendations"]

    @get("/recommendations", responses=ERRORS)
    async def recommendations(self, request: Request[Any, Any, Any], user: User, services: Services,
                              seed_artists: Seeds = None, seed_tracks: Seeds = None, seed_genres: Seeds = None,
                              limit: Limit = 20) -> dict[str, Any]:
        """Tracks like up to 5 seeds; min_/max_/target_<attribute> bound and steer them (tempo, energy,
        loudness, danceability, acousticness, valence, key, mode, time_signature, duration_ms, popularity)."""
        attrs = {k: v for k, v in request.query_params.items() if k.startswith(("min_", "max_", "target_"))}
        genres = [g.strip() for g in (seed_genres or "").split(",") if g.strip()]
        tracks, seeds = await services.recommend.recommendations(
            user, parse_ids(seed_artists, "artist", required=False), parse_ids(seed_tracks, "track", required=False),
            genres, limit, attrs)
        ln = links(request)
        return {"seeds": [_seed(ln, s) for s in seeds], "tracks": [_track(ln, t, r) for t, r in tracks]}

    @get("/recommendations/available-genre-seeds", responses=ERRORS)
    async def genre_seeds(self, services: Services) -> dict[str, Any]:
        """The library's genres, as ids seed_genres takes."""
        return {"genres": await services.recommend.genre_seeds()}

    @get("/me/recommendations", responses=ERRORS)
    async def for_me(self, request: Request[Any, Any, Any], user: User, services: Services,
                     limit: Limit = 20) -> dict[str, Any]:
        """Tracks you have never played, picked for you, best first, each with its reason."""
        ln = links(request)
        return {"tracks": [_track(ln, t, r) for t, r in await services.recommend.for_me(user, limit)]}


class StationsController(Controller):
    path = "/v1/stations"
    tags = ["recommendations"]

    @get("/{station_uri:str}", responses=ERRORS)
    async def station(self, request: Request[Any, Any, Any], station_uri: str, user: User, services: Services,
                      offset: Offset = 0, limit: Limit = 20) -> dict[str, Any]:
        """Tracks `offset` .. of an endless radio station (spotify:station:<kind>:<id>)."""
        page, views = await services.recommend.station_page(station_uri, user, offset, limit)
        ln = links(request)
        href = f"{ln.base}/v1/stations/{page.station.uri}"
        items = [_track(ln, t, r.reason) for t, r in zip(views, page.items, strict=True) if t is not None]
        return {
            "type": "station", "uri": page.station.uri, "name": page.name, "href": href,
            "seed": {"type": page.station.kind, "id": page.station.id},
            "tracks": {"href": f"{href}?offset={offset}&limit={limit}", "items": items, "limit": limit,
                       "offset": offset, "next": f"{href}?offset={page.next_offset}&limit={limit}",
                       "previous": f"{href}?offset={max(0, offset - limit)}&limit={limit}" if offset else None,
                       "total": None},
        }
