"""/v1 podcasts: Spotify's shows, episodes (with `resume_point`) and saved shows, and musicd's own
podcast endpoints (add a feed or an OPML list, refresh, downloads, the listening position). The
position protocol is written in docs/podcasts.md."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, Response, delete, get, post, put, route
from litestar.params import Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT

from musicd.domain.models import User
from musicd.errors import ValidationError
from musicd.http.bounds import Int64, Seconds
from musicd.http.streaming import MediaResponse
from musicd.http.v1.playback import media_user
from musicd.http.v1.podcast_shapes import episode_full, episode_simple, show_full, show_simple
from musicd.http.v1.shapes import ERRORS, WRITE_ERRORS, links, page_of, paging, parse_id, parse_ids
from musicd.services.registry import Services

__all__ = ["ShowsController"]

Limit = Annotated[int, Parameter(ge=1, le=50, description="1 to 50")]
Offset = Annotated[int, Parameter(ge=0, le=1_000_000)]
Ids = Annotated[str, Parameter(description="Comma-separated ids or URIs (at most 50)")]
Quality = Literal["low", "normal", "high", "lossless", "original"]
_MAX_OPML = 2 * 1024 * 1024


class FeedBody(msgspec.Struct, forbid_unknown_fields=True):
    feed_url: str


class ProgressBody(msgspec.Struct, forbid_unknown_fields=True):
    position_ms: Int64  # the service refuses a negative one (bad_position)
    played: bool | None = None
    device_id: str | None = None
    timestamp: Int64 | None = None  # when the listener was there, ms since the epoch (default: now)


class PlayedBody(msgspec.Struct, forbid_unknown_fields=True):
    played: bool


class ShowsController(Controller):
    path = "/v1"
    tags = ["podcasts"]

    # ---- Spotify's shows and episodes ----

    @get("/shows", responses=ERRORS)
    async def shows(self, request: Request[Any, Any, Any], ids: Ids, user: User, services: Services
                    ) -> dict[str, Any]:
        """Several shows (null for an unknown id)."""
        ln = links(request)
        found = await services.podcasts.shows(parse_ids(ids, "show"), user.id)
        return {"shows": [show_simple(ln, s) if s else None for s in found]}

    @get("/shows/{show_id:str}", responses=ERRORS)
    async def show(self, request: Request[Any, Any, Any], show_id: str, user: User, services: Services
                   ) -> dict[str, Any]:
        """A show with the first page of its episodes, newest first."""
        ln = links(request)
        show, page = await services.podcasts.show_with_episodes(parse_id(show_id, "show"), user.id)
        href = f"{ln.href('show', show.id)}/episodes"
        eps = paging(ln.base, [episode_simple(ln, e) for e in page.items], page.total, page.limit, 0, href=href)
        return show_full(ln, show, eps)

    @get("/shows/{show_id:str}/episodes", responses=ERRORS)
    async def show_episodes(self, request: Request[Any, Any, Any], show_id: str, user: User, services: Services,
                            limit: Limit = 20, offset: Offset = 0) -> dict[str, Any]:
        """A show's episodes, newest first, each with the user's `resume_point`."""
        page = await services.podcasts.show_episodes(parse_id(show_id, "show"), user.id, limit, offset)
        return page_of(links(request), page, episode_simple)

    @get("/episodes", responses=ERRORS)
    async def episodes(self, request: Request[Any, Any, Any], ids: Ids, user: User, services: Services
                       ) -> dict[str, Any]:
        """Several episodes (null for an unknown id)."""
        ln = links(request)
        found = await services.podcasts.episodes(parse_ids(ids, "episode"), user.id)
        return {"episodes": [episode_simple(ln, e) if e else None for e in found]}

    @get("/episodes/{episode_id:str}", responses=ERRORS)
    async def episode(self, request: Request[Any, Any, Any], episode_id: str, user: User, services: Services
                      ) -> dict[str, Any]:
        """An episode with its show and the user's `resume_point`."""
        ep, show = await services.podcasts.episode_with_show(parse_id(episode_id, "episode"), user.id)
        return episode_full(links(request), ep, show)

    @get("/episodes/{episode_id:str}/transcript", responses=ERRORS)
    async def transcript(self, episode_id: str, services: Services,
                         language: Annotated[str | None, Parameter(max_length=35)] = None) -> dict[str, Any]:
        """The episode's Podcasting 2.0 transcript (in `language` when given) as timed segments, fetched from
        where its feed says; `available` lists the others."""
        t = await services.podcasts.transcripts.get(parse_id(episode_id, "episode"), language)
        return msgspec.to_builtins(t)

    @route("/episodes/{episode_id:str}/stream", http_method=["GET", "HEAD"], opt={"exclude_from_auth": True})
    async def stream(self, request: Request[Any, Any, Any], services: Services, episode_id: str,
                     quality: Quality | None = None, time_offset: Seconds = 0.0, st: str | None = None
                     ) -> MediaResponse:
        """The episode's audio with Range, also while it downloads; a tier or a seek once it is here
        (the same as /v1/tracks/{id}/stream, which takes an episode id too)."""
        user = await media_user(request, services, episode_id, st)
        q = await services.playback.quality_for(user, quality or "original")
        return MediaResponse(await services.playback.open_track(episode_id, q, time_offset=time_offset,
                                                                head=request.method == "HEAD"))

    # ---- the user's saved shows (subscriptions) ----

    @get("/me/shows", responses=ERRORS)
    async def saved_shows(self, request: Request[Any, Any, Any], user: User, services: Services,
                          limit: Limit = 20, offset: Offset = 0) -> dict[str, Any]:
        """The shows the user subscribed to, the last first."""
        ln = links(request)
        page = await services.podcasts.saved_shows(user.id, limit, offset)
        return paging(ln, [{"added_at": added, "show": show_simple(ln, s)} for added, s in page.items], page.total,
                      limit, offset)

    @put("/me/shows", status_code=HTTP_200_OK, responses=WRITE_ERRORS)
    async def save_shows(self, ids: Ids, user: User, services: Services) -> None:
        await services.podcasts.save_shows(user, parse_ids(ids, "show"))

    @delete("/me/shows", status_code=HTTP_200_OK, responses=WRITE_ERRORS)
    async def remove_shows(self, ids: Ids, user: User, services: Services) -> None:
        await services.podcasts.remove_shows(user, parse_ids(ids, "show"))

    @get("/me/shows/contains", responses=ERRORS)
    async def shows_contain(self, ids: Ids, user: User, services: Services) -> list[bool]:
        return await services.podcasts.saved_contains(user.id, parse_ids(ids, "show"))

    @get("/me/shows/opml", responses=ERRORS)
    async def export_opml(self, user: User, services: Services) -> Response[bytes]:
        """The user's subscriptions as an OPML file (for another podcast app)."""
        return Response(await services.podcasts.export_opml(user), media_type="text/x-opml; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="musicd-podcasts.opml"'})

    # ---- the listening position ----

    @put("/me/episodes/{episode_id:str}/progress", status_code=HTTP_200_OK, responses=WRITE_ERRORS)
    async def progress(self, request: Request[Any, Any, Any], episode_id: str, data: ProgressBody, user: User,
                       services: Services) -> dict[str, Any]:
        """Where the user is in an episode (the newest report from any client wins; near the end = played)."""
        ep = await services.podcasts.set_position(user, parse_id(episode_id, "episode"), data.position_ms,
                                                  played=data.played, device=data.device_id, at_ms=data.timestamp)
        return episode_simple(links(request), ep)

    @put("/me/episodes/{episode_id:str}/played", status_code=HTTP_200_OK, responses=WRITE_ERRORS)
    async def played(self, request: Request[Any, Any, Any], episode_id: str, data: PlayedBody, user: User,
                     services: Services) -> dict[str, Any]:
        """Mark an episode played, or unplayed (back to its start)."""
        ep = await services.podcasts.set_played(user, parse_id(episode_id, "episode"), data.played)
        return episode_simple(links(request), ep)

    @get("/me/episodes/in-progress", responses=ERRORS)
    async def in_progress(self, request: Request[Any, Any, Any], user: User, services: Services,
                          limit: Limit = 10) -> dict[str, Any]:
        """"Continue listening": episodes started and not finished, the most recently heard first."""
        ln = links(request)
        return {"items": [episode_simple(ln, e) for e in await services.podcasts.continue_listening(user.id, limit)]}

    # ---- feeds (admins and users with the podcast right) ----

    @get("/podcasts", responses=ERRORS)
    async def all_shows(self, request: Request[Any, Any, Any], user: User, services: Services) -> dict[str, Any]:
        """Every show on this server (with `saved` for the user's subscriptions)."""
        ln = links(request)
        return {"items": [show_simple(ln, s) for s in await services.podcasts.all_shows(user.id)]}

    @get("/podcasts/newest", responses=ERRORS)
    async def newest(self, request: Request[Any, Any, Any], user: User, services: Services,
                     limit: Limit = 20) -> dict[str, Any]:
        ln = links(request)
        return {"items": [episode_simple(ln, e) for e in await services.podcasts.newest(user.id, limit)]}

    @post("/podcasts", status_code=HTTP_201_CREATED, responses=WRITE_ERRORS)
    async def add_feed(self, request: Request[Any, Any, Any], data: FeedBody, user: User, services: Services
                       ) -> dict[str, Any]:
        """Subscribe to a feed by its URL; a feed new to the server is fetched now (its error, if any, is the
        answer: 400 for an address that may not be fetched, 422 for a document that is not a feed, 502 for
        a server that failed)."""
        return show_simple(links(request), await services.podcasts.add_feed(user, data.feed_url))

    @post("/podcasts/opml", status_code=HTTP_200_OK, responses=WRITE_ERRORS)
    async def import_opml(self, request: Request[Any, Any, Any], user: User, services: Services) -> dict[str, Any]:
        """Subscribe to every feed of an OPML file (the request body); feeds that fail are listed, not fatal."""
        body = await request.body()
        if len(body) > _MAX_OPML:
            raise ValidationError(f"an OPML file is at most {_MAX_OPML} bytes", code="too_large")
        report = await services.podcasts.import_opml(user, body)
        ln = links(request)
        return {"added": [show_simple(ln, s) for s in report.added],
                "failed": [{"feed_url": url, "error": why} for url, why in report.failed]}

    @post("/shows/{show_id:str}/refresh", status_code=HTTP_200_OK, responses=WRITE_ERRORS)
    async def refresh(self, show_id: str, user: User, services: Services) -> dict[str, Any]:
        """Fetch a show's feed now."""
        [r] = await services.podcasts.refresh(user, [parse_id(show_id, "show")])
        return {"status": r.status, "new_episodes": len(r.new_episodes), "problems": r.problems, "error": r.error}

    @delete("/shows/{show_id:str}", status_code=HTTP_204_NO_CONTENT, responses=WRITE_ERRORS)
    async def delete_show(self, show_id: str, user: User, services: Services) -> None:
        """Remove a show from the server (its episodes, downloads and everyone's progress)."""
        await services.podcasts.delete_show(user, parse_id(show_id, "show"))

    @post("/episodes/{episode_id:str}/download", status_code=HTTP_202_ACCEPTED, responses=WRITE_ERRORS)
    async def download(self, episode_id: str, user: User, services: Services) -> None:
        """Fetch the episode's file in the background."""
        await services.podcasts.download_episode(user, parse_id(episode_id, "episode"))

    @delete("/episodes/{episode_id:str}/download", status_code=HTTP_204_NO_CONTENT, responses=WRITE_ERRORS)
    async def delete_download(self, episode_id: str, user: User, services: Services) -> None:
        """Delete the episode's downloaded file (it stays listed and streams from its feed again)."""
        await services.podcasts.delete_episode(user, parse_id(episode_id, "episode"))
