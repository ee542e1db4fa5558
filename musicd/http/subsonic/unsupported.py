"""Endpoints of features musicd does not have (yet): answered with Subsonic's generic error, never a 404."""

from __future__ import annotations

from musicd.http.subsonic.context import Ctx, Reply, endpoint
from musicd.http.subsonic.envelope import ERR_GENERIC, SubsonicError

__all__ = ["NOT_IMPLEMENTED"]

NOT_IMPLEMENTED = (
    # internet radio
    "getInternetRadioStations", "createInternetRadioStation", "updateInternetRadioStation",
    "deleteInternetRadioStation",
    # chat, video
    "getChatMessages", "addChatMessage", "getVideos", "getVideoInfo", "getCaptions", "hls",
)


@endpoint(*NOT_IMPLEMENTED)
async def not_implemented(ctx: Ctx) -> Reply:
    raise SubsonicError(ERR_GENERIC, "not implemented by this server")
