"""/v1/me: saved tracks and albums, follows, the generic /me/library, recently played and tops."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, delete, get, put
from litestar.params import Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from musicd.domain.catalog import PlayedTrack
from musicd.domain.models import User
from musicd.errors import NotFoundError, ValidationError
from musicd.http.v1.shapes import (
    ERRORS,
    MAX_IDS,
    WRITE_ERRORS,
    Links,
    album_full,
    artist_full,
    links,
    paging,
    parse_ids,
    parse_uris,
    track_full,
)
from musicd.services.registry import Services
from musicd.services.user_library import LIBRARY_KINDS

__all__ = ["MeLibraryController"]

Limit = Annotated[int, Parameter(ge=1, le=50, description="1 to 50")]
Offset = Annotated[int, Parameter(ge=0, le=1_000_000)]
Ids = Annotated[str | None, Parameter(description="Comma-separated ids or URIs (at most 50); or a JSON body "
                                                  '{"ids": [...]}')]
FollowType = Annotated[Literal["artist", "user"], Parameter(description="artist or user")]
Uris = Annotated[str, Parameter(description="Comma-separated musicd: or spotify: URIs (at most 50)")]
_MAX_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z


async def _ids(request: Request[Any, Any, Any], query: str | None, kind: str) -> list[str]:
    """Ids from the `ids` query parameter, else from a JSON body `{"ids": [...]}` (Spotify takes both)."""
    if query:
        return parse_ids(query, kind)
    raw = await request.body()
    if raw.strip():
        try:
            body = msgspec.json.decode(raw)
        except msgspec.DecodeError:
            raise ValidationError("the body must be JSON", code="bad_body") from None
        items = body.get("ids") if isinstance(body, dict) else None
        if isinstance(items, list) and all(isinstance(i, str) for i in items):
            return parse_ids(",".join(items), kind)
    raise ValidationError("give ids as a query parameter or a JSON body", code="missing_ids")


def _played(ln: Links, p: PlayedTrack) -> dict[str, Any]:
    context = None
    if p.context_uri:
        parts = p.context_uri.split(":")
        kind = parts[1] if len(parts) == 3 else "playlist"
        context = {"type": kind, "uri": p.context_uri, "external_urls": {},
                   "href": f"{ln.base}/v1/{kind}s/{parts[-1]}"}
    return {"track": track_full(ln, p.track), "played_at": p.played_at, "context": context}


class MeLibraryController(Controller):
    path = "/v1/me"
    tags = ["library"]

    # ---- saved tracks and albums ----

    @get("/tracks", responses=ERRORS)
    async def saved_tracks(self, request: Request[Any, Any, Any], user: User, services: Services,
                           limit: Limit = 20, offset: Offset = 0) -> dict[str, Any]:
        """Saved tracks, the last saved first."""
        page = await services.user_library.saved("track", user.id, limit, offset)
        ln = links(request)
        items = [{"added_at": t.state.saved_at, "track": track_full(ln, t)} for t in page.items]
        return paging(ln, items, page.total, limit, offset)

    @put("/tracks", status_code=HTTP_200_OK, responses=WRITE_ERRORS)
    async def save_tracks(self, request: Request[Any, Any, Any], user: User, services: Services,
                          ids: Ids = None) -> None:
        await services.user_library.save("track", await _ids(request, ids, "track"), user)

    @delete("/tracks", status_code=HTTP_200_OK, responses=WRITE_ERRORS)
    async def remove_tracks(self, request: Request[Any, Any, Any], user: User, services: Services,
                            ids: Ids = None) -> None:
        await services.user_library.unsave("track", await _ids(request, ids, "track"), user)

    @get("/tracks/contains", responses=ERRORS)
    async def tracks_contain(self, ids: Annotated[str, Parameter()], user: User, services: Services) -> list[bool]:
        return await services.user_library.contains("track", parse_ids(ids, "track"), user.id)

    @get("/albums", responses=ERRORS)
    async def saved_albums(self, request: Request[Any, Any, Any], user: User, services: Services,
                           limit: Limit = 20, offset: Offset = 0) -> dict[str, Any]:
        """Saved albums, the last saved first."""
        page = await services.user_library.saved("album", user.id, limit, offset)
        ln = links(request)
        items = [{"added_at": a.state.saved_at, "album": album_full(ln, a)} for a in page.items]
        return paging(ln, items, page.total, limit, offset)

    @put("/albums", status_code=HTTP_200_OK, responses=WRITE_ERRORS)
    async def save_albums(self, request: Request[Any, Any, Any], user: User, services: Services,
                          ids: Ids = None) -> None:
        await services.user_library.save("album", await _ids(request, ids, "album"), user)

    @delete("/albums", status_code=HTTP_200_OK, responses=WRITE_ERRORS)
    async def remove_albums(self, request: Request[Any, Any, Any], user: User, services: Services,
                            ids: Ids = None) -> None:
        await services.user_library.unsave("album", await _ids(request, ids, "album"), user)

    @get("/albums/contains", responses=ERRORS)
    async def albums_contain(self, ids: Annotated[str, Parameter()], user: User, services: Services) -> list[bool]:
        return await services.user_library.contains("album", parse_ids(ids, "album"), user.id)

    # ---- follows ----

    @get("/following", responses=ERRORS)
    async def following(self, request: Request[Any, Any, Any], type: FollowType, user: User, services: Services,
                        limit: Limit = 20, after: str | None = None) -> dict[str, Any]:
        """Followed artists by name, with a cursor (`after`: the last artist id of the previous page)."""
        if type != "artist":
            raise ValidationError("only type=artist can be listed", code="bad_type")
        page = await services.user_library.followed_artists(user.id, limit, after)
        ln = links(request)
        return {"artists": {
            "href": ln.here(), "items": [artist_full(ln, a) for a in page.items], "limit": limit,
            "next": ln.here(after=page.after, limit=limit) if page.after else None,
            "cursors": {"after": page.after, "before": None}, "total": page.total,
        }}

    @put("/following", status_code=HTTP_204_NO_CONTENT, responses=WRITE_ERRORS)
    async def follow(self, request: Request[Any, Any, Any], type: FollowType, user: User, services: Services,
                     ids: Ids = None) -> None:
        await services.user_library.follow(type, await _ids(request, ids, type), user)

    @delete("/following", status_code=HTTP_204_NO_CONTENT, responses=WRITE_ERRORS)
    async def unfollow(self, request: Request[Any, Any, Any], type: FollowType, user: User, services: Services,
                       ids: Ids = None) -> None:
        await services.user_library.unfollow(type, await _ids(request, ids, type), user)

    @get("/following/contains", responses=ERRORS)
    async def following_contains(self, type: FollowType, ids: Annotated[str, Parameter()], user: User,
                                 services: Services) -> list[bool]:
        return await services.user_library.is_following(type, parse_ids(ids, type), user.id)

    # ---- the generic library (what Spotify's newer clients use for saves and follows) ----

    @put("/library", status_code=HTTP_200_OK, responses=WRITE_ERRORS)
    async def library_add(self, uris: Uris, user: User, services: Services) -> None:
        """Save tracks and albums, follow artists, users and playlists, given as URIs."""
        await services.user_library.library_add(user, parse_uris(uris, LIBRARY_KINDS, MAX_IDS))

    @delete("/library", status_code=HTTP_200_OK, responses=WRITE_ERRORS)
    async def library_remove(self, uris: Uris, user: User, services: Services) -> None:
        await services.user_library.library_remove(user, parse_uris(uris, LIBRARY_KINDS, MAX_IDS))

    @get("/library/contains", responses=ERRORS)
    async def library_contains(self, uris: Uris, user: User, services: Services) -> list[bool]:
        """For each URI, whether it is saved or followed."""
        return await services.user_library.library_contains(user, parse_uris(uris, LIBRARY_KINDS, MAX_IDS))

    # ---- history ----

    @get("/player/recently-played", responses=ERRORS)
    async def recently_played(self, request: Request[Any, Any, Any], user: User, services: Services,
                              limit: Limit = 20,
                              after: Annotated[int | None, Parameter(ge=0, le=_MAX_MS, description="unix ms")] = None,
                              before: Annotated[int | None, Parameter(ge=0, le=_MAX_MS, description="unix ms")] = None,
                              ) -> dict[str, Any]:
        """Tracks played, the most recent first; page back with `before` = cursors.before."""
        page = await services.user_library.recently_played(user.id, limit, before, after)
        ln = links(request)
        nxt = None
        if page.before is not None and len(page.items) == limit:
            nxt = f"{ln.base}{request.url.path}?before={page.before}&limit={limit}"
        return {"href": ln.here(), "items": [_played(ln, p) for p in page.items], "limit": limit, "next": nxt,
                "cursors": {"after": page.after, "before": page.before} if page.items else None,
                "total": len(page.items)}

    @get("/top/{kind:str}", responses=ERRORS)
    async def top(self, request: Request[Any, Any, Any], kind: str, user: User, services: Services,
                  time_range: Annotated[Literal["short_term", "medium_term", "long_term"],
                                        Parameter(description="about 4 weeks, 6 months, or all time")]
                  = "medium_term",
                  limit: Limit = 20, offset: Offset = 0) -> dict[str, Any]:
        """The user's most played tracks or artists in a time range."""
        ln = links(request)
        if kind == "tracks":
            tracks = await services.user_library.top_tracks(user.id, time_range, limit, offset)
            return paging(ln, [track_full(ln, t) for t in tracks.items], tracks.total, limit, offset)
        if kind == "artists":
            artists = await services.user_library.top_artists(user.id, time_range, limit, offset)
            return paging(ln, [artist_full(ln, a) for a in artists.items], artists.total, limit, offset)
        raise NotFoundError("top items are tracks or artists", code="not_found")
