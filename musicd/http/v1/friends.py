"""/v1/me/friends/activity: what the users one follows who share their listening play now, or played last."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get

from musicd.domain.models import User
from musicd.http.urls import base_url
from musicd.http.v1.shapes import ERRORS, track_full
from musicd.services.friends import FriendActivity
from musicd.services.registry import Services

__all__ = ["FriendsController", "friend_activity_object"]


def friend_activity_object(base: str, a: FriendActivity) -> dict[str, Any]:
    """One friend's activity; the same shape in this endpoint and in the realtime `friend_activity` message."""
    return {
        "user": {"id": a.user_id, "display_name": a.display_name, "type": "user", "uri": f"musicd:user:{a.user_id}"},
        "track": track_full(base, a.track),
        "context": {"uri": a.context_uri} if a.context_uri else None,
        "playing": a.playing,
        "timestamp": a.timestamp,
    }


class FriendsController(Controller):
    path = "/v1/me/friends"
    tags = ["social"]

    @get("/activity", responses=ERRORS)
    async def activity(self, request: Request[Any, Any, Any], user: User, services: Services) -> dict[str, Any]:
        """The current or last track of each followed user who shares their listening (a setting that is
        off by default; a private session hides it), the most recent first."""
        items = await services.friends.activity(user)
        base = base_url(request)
        return {"items": [friend_activity_object(base, a) for a in items], "total": len(items)}
