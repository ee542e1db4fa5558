"""/v1/me/listenbrainz-token and /v1/me/listens: the user's ListenBrainz token (for scrobblers) and their
listen-history imports (a ListenBrainz export or a Last.fm CSV, uploaded as the request body)."""

from __future__ import annotations

from typing import Any, Literal

import msgspec
from litestar import Controller, Request, get, post
from litestar.status_codes import HTTP_201_CREATED, HTTP_202_ACCEPTED

from musicd.domain.models import User
from musicd.http.urls import base_url
from musicd.services.listen_imports import ImportJob
from musicd.services.listen_tokens import TokenInfo
from musicd.services.registry import Services

__all__ = ["ListensController"]


def _token(request: Request[Any, Any, Any], info: TokenInfo | None) -> dict[str, Any]:
    return {"token": info.token if info else None, "created_at": info.created_at if info else None,
            "last_used_at": info.last_used_at if info else None, "api_url": base_url(request) + "/listenbrainz"}


def _job(job: ImportJob) -> dict[str, Any]:
    return msgspec.to_builtins(job)  # type: ignore[no-any-return]


class ListensController(Controller):
    path = "/v1/me"
    tags = ["listens"]

    @get("/listenbrainz-token")
    async def get_token(self, request: Request[Any, Any, Any], user: User, services: Services) -> dict[str, Any]:
        """The user's ListenBrainz token (null until made) and the URL to give scrobblers."""
        return _token(request, await services.listen_tokens.get(user))

    @post("/listenbrainz-token", status_code=HTTP_201_CREATED)
    async def new_token(self, request: Request[Any, Any, Any], user: User, services: Services) -> dict[str, Any]:
        """A new ListenBrainz token; the previous one stops working at once."""
        return _token(request, await services.listen_tokens.regenerate(user))

    @get("/listens")
    async def listens(self, user: User, services: Services) -> dict[str, Any]:
        """How many listens the user has (matched to a track or not) and their imports since the server started."""
        overview = await services.listen_imports.overview(user)
        return {**msgspec.to_builtins(overview.counts), "imports": [_job(j) for j in overview.imports]}

    @post("/listens/imports", status_code=HTTP_202_ACCEPTED, request_max_body_size=None)
    async def start_import(self, request: Request[Any, Any, Any], user: User, services: Services,
                           format: Literal["listenbrainz", "lastfm"] | None = None) -> dict[str, Any]:
        """Import a ListenBrainz export (zip, JSON, JSON lines) or a Last.fm scrobble CSV sent as the body
        (`format` is found from the content when not given). Answers at once with the job to follow."""
        length = request.headers.get("content-length", "")
        job = await services.listen_imports.upload(user, request.stream(), format,
                                                   int(length) if length.isdigit() else None)
        return _job(job)

    @get("/listens/imports/{job_id:str}")
    async def import_status(self, user: User, services: Services, job_id: str) -> dict[str, Any]:
        """An import's progress (0..1), status (running, done, failed) and summary."""
        return _job(services.listen_imports.job(user, job_id))
