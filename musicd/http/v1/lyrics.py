"""/v1/tracks/{id}/lyrics: a track's lyrics in one language (synced lines with the LRC offset applied and
enhanced LRC's word timing, or plain text), the languages it has; users add, fix and remove their own."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, delete, get, put
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from musicd.domain.models import User
from musicd.http.v1.shapes import ERRORS, WRITE_ERRORS, parse_id
from musicd.services.lyrics import LyricsEntry
from musicd.services.registry import Services

__all__ = ["LyricsController"]


class LyricsBody(msgspec.Struct, forbid_unknown_fields=True):
    text: str
    lang: str | None = None


def _lines(e: LyricsEntry) -> list[dict[str, Any]]:
    if e.parsed is None:
        return []
    off = e.parsed.offset_ms
    return [{"start_ms": max(0, ln.start_ms - off), "text": ln.text,
             "words": [{"start_ms": max(0, w.start_ms - off), "text": w.text} for w in ln.words]}
            for ln in e.parsed.lines]


def _body(track_id: str, shown: LyricsEntry | None, every: list[LyricsEntry]) -> dict[str, Any]:
    langs = [{"lang": e.lang, "source": e.source, "synced": e.synced, "edited_by": e.edited_by,
              "updated_at": e.updated_at} for e in every]
    if shown is None:
        return {"track_id": track_id, "synced": False, "text": None, "source": None, "lang": None, "offset_ms": 0,
                "lines": [], "languages": langs}
    return {"track_id": track_id, "synced": shown.synced, "text": shown.text, "source": shown.source,
            "lang": shown.lang, "offset_ms": shown.parsed.offset_ms if shown.parsed else 0, "lines": _lines(shown),
            "plain": shown.plain, "bad_lines": shown.parsed.bad_lines if shown.parsed else 0, "languages": langs}


class LyricsController(Controller):
    path = "/v1/tracks"
    tags = ["catalogue"]

    @get("/{track_id:str}/lyrics", responses=ERRORS)
    async def lyrics(self, track_id: str, services: Services, lang: str | None = None) -> dict[str, Any]:
        """The lyrics in `lang` (else the main ones): `text` as stored, `lines` timed (offset applied, `words`
        for karaoke), `languages` the track has; `text` is null when it has none (404: no such track)."""
        tid = parse_id(track_id, "track")
        shown, every = await services.lyrics.for_track(tid, lang)
        return _body(tid, shown, every)

    @put("/{track_id:str}/lyrics", status_code=HTTP_200_OK, responses=WRITE_ERRORS)
    async def save(self, track_id: str, data: LyricsBody, user: User, services: Services) -> dict[str, Any]:
        """Add or fix the lyrics in a language (LRC when time-stamped); kept in the database, never in the file."""
        tid = parse_id(track_id, "track")
        saved = await services.lyrics.save(user, tid, data.lang, data.text)
        return _body(tid, saved, [saved])

    @delete("/{track_id:str}/lyrics", status_code=HTTP_204_NO_CONTENT, responses=WRITE_ERRORS)
    async def remove(self, track_id: str, user: User, services: Services, lang: str | None = None) -> None:
        """Remove the lyrics users gave in a language; the file's show again."""
        await services.lyrics.delete(user, parse_id(track_id, "track"), lang)
