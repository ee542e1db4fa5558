"""Invite links (musicd.services.invites): admins make, list and revoke them under /v1/admin/invites;
whoever holds a link reads it and signs up with it under /v1/invites/{token} (no account needed). The web
page of a link is /join/{token}."""

from __future__ import annotations

from typing import Any, Literal

import msgspec
from litestar import Controller, Request, delete, get, post
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from musicd.domain.models import User
from musicd.http.auth import client_address
from musicd.http.bounds import Int64
from musicd.http.urls import base_url
from musicd.http.v1.accounts import user_object
from musicd.services.invites import Invite
from musicd.services.registry import Services

__all__ = ["AdminInvitesController", "InvitesController"]

_PUBLIC = {"exclude_from_auth": True}


class NewInviteBody(msgspec.Struct, forbid_unknown_fields=True):
    role: Literal["admin", "user", "guest"] = "user"
    expires_in: Int64 | None = None  # seconds; 7 days unless told (the service checks the range)
    note: str | None = None


class AcceptBody(msgspec.Struct, forbid_unknown_fields=True):
    username: str
    password: str
    email: str | None = None


def _invite(request: Request[Any, Any, Any], inv: Invite) -> dict[str, Any]:
    out: dict[str, Any] = {"id": inv.id, "role": inv.role, "note": inv.note, "created_at": inv.created_at,
                           "expires_at": inv.expires_at, "state": inv.state, "used_by": inv.used_by}
    if inv.token is not None:
        out |= {"token": inv.token, "url": f"{base_url(request)}/join/{inv.token}"}
    return out


class AdminInvitesController(Controller):
    path = "/v1/admin/invites"
    tags = ["admin"]

    @get("/")
    async def list_invites(self, request: Request[Any, Any, Any], user: User, services: Services) -> dict[str, Any]:
        """Open invites and those of the last 30 days, newest first (their links are not shown again)."""
        items = await services.invites.list(user)
        return {"items": [_invite(request, i) for i in items], "total": len(items)}

    @post("/", status_code=HTTP_201_CREATED)
    async def create_invite(self, request: Request[Any, Any, Any], data: NewInviteBody, user: User,
                            services: Services) -> dict[str, Any]:
        """A one-use link to make an account with one role, expiring (7 days unless told); its URL is shown once."""
        return _invite(request, await services.invites.create(user, data.role, data.expires_in, data.note))

    @delete("/{invite_id:str}", status_code=HTTP_204_NO_CONTENT)
    async def revoke_invite(self, invite_id: str, user: User, services: Services) -> None:
        await services.invites.revoke(user, invite_id)


class InvitesController(Controller):
    path = "/v1/invites"
    tags = ["accounts"]

    @get("/{token:str}", opt=_PUBLIC)
    async def read_invite(self, token: str, services: Services) -> dict[str, Any]:
        """What an invite link offers (its role and expiry); 404 unknown, 410 used, revoked or expired."""
        inv = await services.invites.check(token)
        return {"role": inv.role, "expires_at": inv.expires_at}

    @post("/{token:str}/accept", opt=_PUBLIC, status_code=HTTP_201_CREATED)
    async def accept_invite(self, request: Request[Any, Any, Any], token: str, data: AcceptBody,
                            services: Services) -> dict[str, Any]:
        """Make the invited account (the link's role) and log it in: the new user and a token pair."""
        user, pair = await services.invites.accept(token, data.username, data.password, data.email,
                                                   client_address(request), request.headers.get("user-agent"))
        return {"user": user_object(request, user, private=True), **msgspec.structs.asdict(pair)}
