"""An episode's Podcasting 2.0 transcript, fetched from where its feed says when a listener opens it
(through the address guard, size- and time-limited), read into timed segments and kept for a while."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable

import msgspec

from musicd.domain.lyrics import normalise_language, same_language
from musicd.domain.podcasts import Episode, Transcript, TranscriptSegment
from musicd.errors import NotFoundError, ValidationError
from musicd.logs import get_logger
from musicd.net.fetch import Fetcher, FetchError
from musicd.net.transcripts import TranscriptError, parse_transcript

__all__ = ["EpisodeTranscript", "PodcastTranscripts"]

log = get_logger(__name__)

_MAX_BYTES = 5 * 1024 * 1024  # a 3-hour episode's VTT is about 1 MB
_KEEP = 32  # transcripts kept in memory (a listener opening the same one again, or another listener)


class EpisodeTranscript(msgspec.Struct, frozen=True):
    """Which of the episode's transcripts this is, and its segments."""

    url: str
    type: str
    language: str | None
    segments: list[TranscriptSegment]
    available: list[Transcript]


def _pick(options: list[Transcript], language: str | None) -> Transcript | None:
    """The transcript in `language` (any when None); a timed format before HTML or text in one language."""
    timed = ("vtt", "srt", "subrip", "json")
    if language:
        options = [t for t in options if t.language and same_language(t.language, language)]
    options = sorted(options, key=lambda t: 0 if any(k in t.type.lower() or t.url.lower().endswith(k)
                                                      for k in timed) else 1)
    return options[0] if options else None


class PodcastTranscripts:
    def __init__(self, fetcher: Fetcher, episode: Callable[[str], Awaitable[Episode]]) -> None:
        self.fetcher = fetcher
        self._episode = episode
        self._kept: OrderedDict[str, list[TranscriptSegment]] = OrderedDict()

    async def get(self, episode_id: str, language: str | None = None) -> EpisodeTranscript:
        """The episode's transcript (in `language` when given): 404 when it has none, 502 when its server
        fails, 422 when the file is no transcript."""
        ep = await self._episode(episode_id)
        lang = normalise_language(language) if language else None
        if language and lang is None:
            raise ValidationError("language must be a language code such as en, deu or pt-BR", code="bad_language")
        chosen = _pick(ep.transcripts, lang)
        if chosen is None:
            wanted = f" in {language}" if language else ""
            raise NotFoundError(f"episode {episode_id} has no transcript{wanted}", code="transcript_not_found")
        segments = self._kept.get(chosen.url)
        if segments is None:
            try:
                got = await self.fetcher.get(chosen.url, max_bytes=_MAX_BYTES, total_timeout=30)
                segments = parse_transcript(got.body, chosen.type or got.headers.get("content-type", ""), chosen.url)
            except (FetchError, TranscriptError) as e:
                log.info("podcast.transcript_failed", episode=episode_id, url=chosen.url[:200], error=e.message)
                raise
            self._kept[chosen.url] = segments
            while len(self._kept) > _KEEP:
                self._kept.popitem(last=False)
        self._kept.move_to_end(chosen.url)
        return EpisodeTranscript(chosen.url, chosen.type, chosen.language, segments, ep.transcripts)
