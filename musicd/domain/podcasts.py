"""Podcasts: what a feed says (FeedInfo, FeedItem) and what musicd keeps and shows (Show, Episode)."""

from __future__ import annotations

import msgspec

__all__ = [
    "Chapter",
    "Episode",
    "EpisodeProgress",
    "FeedInfo",
    "FeedItem",
    "Show",
    "Transcript",
    "TranscriptSegment",
    "parse_duration",
]


class Chapter(msgspec.Struct, frozen=True):
    """A chapter mark: where it starts (seconds) and its title; a link and an image when the feed has them."""

    start_s: float
    title: str
    url: str | None = None
    image: str | None = None


class Transcript(msgspec.Struct, frozen=True):
    """A Podcasting 2.0 transcript of an episode (the file stays where the feed says)."""

    url: str
    type: str
    language: str | None = None


class TranscriptSegment(msgspec.Struct, frozen=True):
    """A stretch of a transcript: its time in the episode (None in an untimed one), its words, who speaks."""

    start_ms: int | None
    end_ms: int | None
    text: str
    speaker: str | None = None


class FeedItem(msgspec.Struct, frozen=True):
    """One episode as a feed describes it; `description` is sanitised HTML."""

    guid: str
    title: str
    enclosure_url: str
    description: str = ""
    published_at: str | None = None  # ISO 8601, UTC
    duration_s: float | None = None
    link: str | None = None
    enclosure_type: str | None = None
    enclosure_length: int | None = None
    image_url: str | None = None
    chapters_url: str | None = None
    chapters: list[Chapter] = []
    transcripts: list[Transcript] = []


class FeedInfo(msgspec.Struct, frozen=True):
    """A parsed feed page: the channel, its usable items, the next page (RFC 5005), what was skipped and why."""

    title: str
    items: list[FeedItem]
    author: str = ""
    description: str = ""
    link: str | None = None
    image_url: str | None = None
    language: str | None = None
    categories: list[str] = []
    next_page: str | None = None
    problems: list[str] = []


class EpisodeProgress(msgspec.Struct, frozen=True):
    """One user's place in one episode."""

    position_ms: int = 0
    played: bool = False
    updated_at: str | None = None


class Show(msgspec.Struct, frozen=True):
    """A podcast channel (one feed), shared by the server; `saved` is the asking user's subscription."""

    id: str
    feed_url: str
    title: str
    author: str
    description: str
    link: str | None
    image_url: str | None
    language: str | None
    status: str  # new | ok | error
    error: str | None
    last_refresh_at: str | None
    episode_count: int
    created_at: str
    cover_id: str | None = None
    saved: bool = False


class Episode(msgspec.Struct, frozen=True):
    """An episode with its download state and the asking user's progress."""

    id: str
    show_id: str
    show_title: str
    guid: str
    title: str
    description: str
    published_at: str | None
    duration_s: float | None
    link: str | None
    enclosure_url: str
    enclosure_type: str | None
    enclosure_length: int | None
    status: str  # new | downloading | completed | error | deleted
    error: str | None
    size: int | None
    format: str | None
    chapters: list[Chapter]
    transcripts: list[Transcript]
    image_url: str | None
    created_at: str
    cover_id: str | None = None  # the show's
    progress: EpisodeProgress = EpisodeProgress()


def parse_duration(value: str | int | float | None) -> float | None:
    """An iTunes duration ("1:02:03", "62:03", "3723", "3723.5") in seconds; None when it is not one."""
    if value is None:
        return None
    if isinstance(value, int | float):
        return float(value) if value >= 0 else None
    parts = value.strip().split(":")
    if not 1 <= len(parts) <= 3:
        return None
    try:
        nums = [float(p) for p in parts]
    except ValueError:
        return None
    if any(n < 0 for n in nums):
        return None
    total = 0.0
    for n in nums:
        total = total * 60 + n
    return total
