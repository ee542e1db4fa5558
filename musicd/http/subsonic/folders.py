"""Music folders: the local library's folders, and each friend's library as one more (federation)."""

from __future__ import annotations

from typing import Any

from musicd.domain.federation import Sources
from musicd.http.subsonic.context import Ctx

__all__ = ["folder_sources", "peer_folders"]


async def peer_folders(ctx: Ctx) -> list[dict[str, Any]]:
    """A music folder per friend's server whose library shows here (its id is stable, above 1000)."""
    return [{"id": no, "name": name} for no, name in await ctx.services.fed.views.music_folders()]


async def folder_sources(ctx: Ctx) -> Sources | None:
    """What `musicFolderId` asks for: None without it, the local library, or one friend's library."""
    return await ctx.services.fed.views.sources_for_folder(ctx.int("musicFolderId"),
                                                           len(ctx.services.config.library_folders))
