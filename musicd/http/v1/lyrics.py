"""/v1/tracks/{id}/lyrics: a track's lyrics for the web player (LRC text when synced, parsed by the client)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, get

from musicd.http.v1.shapes import parse_id
from musicd.services.registry import Services

__all__ = ["LyricsController"]


class LyricsController(Controller):
    path = "/v1/tracks"
    tags = ["catalogue"]

    @get("/{track_id:str}/lyrics")
    async def lyrics(self, track_id: str, services: Services) -> dict[str, Any]:
        """The lyrics: `synced` LRC or plain `text`; `text` is null when the track has none (404: no such track)."""
        tid = parse_id(track_id, "track")
        found = await services.catalog.lyrics(tid)
        if found is None:
            return {"track_id": tid, "synced": False, "text": None, "source": None, "lang": None}
        return {"track_id": tid, "synced": found.synced, "text": found.text, "source": found.source,
                "lang": found.lang}
