"""Lyrics for every client: the files' (a sidecar .lrc wins over embedded tags; several languages) and
the ones users add or fix (kept in the database, never written into the music files), parsed once.

`/v1` hands the web player timed lines with the LRC `[offset:]` applied and the words of enhanced LRC;
`/rest` sends the raw times with OpenSubsonic's `offset`. A user's text replaces the file's in its
language for everyone (lyrics are part of the shared catalogue, like the files they fix).
"""

from __future__ import annotations

import msgspec

from musicd.domain.lyrics import (
    ParsedLyrics,
    is_synced,
    normalise_language,
    parse_lyrics,
    plain_text,
    same_language,
)
from musicd.domain.models import User
from musicd.errors import NotFoundError, ValidationError
from musicd.services.catalog import CatalogService
from musicd.services.rules import require_member
from musicd.services.search import SearchService
from musicd.store.lyrics import LyricsRepository

__all__ = ["LyricsEntry", "LyricsService"]

MAX_CHARS = 100_000


class LyricsEntry(msgspec.Struct, frozen=True):
    """One language's lyrics of a track: the text as stored, and parsed (`parsed` is None when not synced)."""

    lang: str | None
    source: str  # lrc | embedded | user
    synced: bool
    text: str
    plain: str
    parsed: ParsedLyrics | None
    edited_by: str | None = None
    updated_at: str | None = None


def _lang_key(lang: str | None) -> str:
    if lang is None or lang.strip() == "":
        return "und"
    code = normalise_language(lang)
    if code is None and lang.strip().lower() not in ("und", "xxx"):
        raise ValidationError(f"{lang[:20]!r} is not a language code (ISO 639, like en or pt-br)", code="bad_lang")
    return code or "und"


class LyricsService:
    def __init__(self, repo: LyricsRepository, catalog: CatalogService, search: SearchService) -> None:
        self.repo = repo
        self.catalog = catalog
        self.search = search

    async def all(self, track_id: str) -> list[LyricsEntry]:
        """Every language's lyrics of a track, the main ones first; NotFoundError for an unknown track."""
        await self.catalog.track(track_id)
        out = []
        for r in await self.repo.shown(track_id):
            synced = r.synced and is_synced(r.text)
            out.append(LyricsEntry(None if r.lang == "und" else r.lang, r.source, synced, r.text, plain_text(r.text),
                                   parse_lyrics(r.text) if synced else None, r.user_id, r.updated_at))
        return out

    async def pick(self, track_id: str, lang: str | None = None) -> LyricsEntry | None:
        """The lyrics in `lang` when the track has them, else its main ones; None when it has none."""
        return self._pick(await self.all(track_id), lang)

    async def for_track(self, track_id: str, lang: str | None = None) -> tuple[LyricsEntry | None, list[LyricsEntry]]:
        """The lyrics to show (in `lang` when there are such, else the main ones) and every language's."""
        found = await self.all(track_id)
        return self._pick(found, lang), found

    @staticmethod
    def _pick(found: list[LyricsEntry], lang: str | None) -> LyricsEntry | None:
        if lang:
            want = normalise_language(lang)
            exact = [e for e in found if e.lang == want]
            close = [e for e in found if same_language(e.lang, want)]
            if exact or close:
                return (exact or close)[0]
        return found[0] if found else None

    async def save(self, user: User, track_id: str, lang: str | None, text: str) -> LyricsEntry:
        """Add or fix a track's lyrics in a language (LRC when it has time stamps, else plain text)."""
        require_member(user)
        text = text.replace("\r\n", "\n").strip()
        if not text:
            raise ValidationError("the lyrics are empty (delete them instead)", code="empty_lyrics")
        if len(text) > MAX_CHARS:
            raise ValidationError(f"lyrics are at most {MAX_CHARS} characters", code="lyrics_too_long")
        key = _lang_key(lang)
        # "fr" fixes the file's "fra": kept under the file's code, so it replaces it rather than adding to it.
        key = next((e.lang for e in await self.all(track_id) if e.lang and same_language(e.lang, key)), key)
        await self.repo.save_user(track_id, key, is_synced(text), text, user.id)
        await self.search.tracks_changed([track_id])
        entry = await self.pick(track_id, None if key == "und" else key)
        assert entry is not None
        return entry

    async def delete(self, user: User, track_id: str, lang: str | None) -> None:
        """Remove a user's lyrics in a language (the file's show again); NotFoundError when there are none."""
        require_member(user)
        await self.catalog.track(track_id)
        if not await self.repo.delete_user(track_id, _lang_key(lang)):
            raise NotFoundError("no lyrics added by users in that language", code="lyrics_not_found")
        await self.search.tracks_changed([track_id])
