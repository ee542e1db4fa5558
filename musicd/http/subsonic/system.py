"""System endpoints: ping, license, OpenSubsonic extensions, API key info."""

from __future__ import annotations

from musicd.http.subsonic.context import Ctx, Reply, endpoint

__all__ = ["EXTENSIONS"]

# What getOpenSubsonicExtensions advertises: name -> versions.
EXTENSIONS: dict[str, list[int]] = {
    "formPost": [1],
    "transcodeOffset": [1],
    "songLyrics": [1, 2],
    "apiKeyAuthentication": [1],
    "indexBasedQueue": [1],
    "playbackReport": [1],
    "topSongsByArtistId": [1],
}


@endpoint("ping")
async def ping(ctx: Ctx) -> Reply:
    return None


@endpoint("getLicense")
async def get_license(ctx: Ctx) -> Reply:
    # Free software: the license is always valid and never expires.
    return {"license": {"valid": True, "email": ctx.user.email}}


@endpoint("getOpenSubsonicExtensions", auth=False)
async def get_open_subsonic_extensions(ctx: Ctx) -> Reply:
    return {"openSubsonicExtensions": [{"name": n, "versions": v} for n, v in EXTENSIONS.items()]}


@endpoint("tokenInfo")
async def token_info(ctx: Ctx) -> Reply:
    """Whose API key (or credentials) these are."""
    return {"tokenInfo": {"username": ctx.user.username}}
