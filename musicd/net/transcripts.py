"""Podcasting 2.0 transcripts (podcast:transcript) read into timed segments: WebVTT and SubRip (webvtt-py),
the JSON transcript format, HTML and plain text (one untimed segment, HTML reduced to its words).

The file is the feed's, fetched through the address guard when a listener opens it; nothing here
trusts it: sizes are capped, markup is dropped, a file that is none of these is a TranscriptError."""

from __future__ import annotations

import html
import io
import json
from typing import Any

import webvtt
from webvtt.errors import MalformedFileError

from musicd.domain.podcasts import TranscriptSegment
from musicd.errors import MusicdError
from musicd.net.feeds import plain_text

__all__ = ["TranscriptError", "parse_transcript"]

_MAX_SEGMENTS = 20_000
_MAX_TEXT = 2000  # characters of one segment


class TranscriptError(MusicdError):
    """The transcript file is none of the formats a feed may link (or is empty)."""

    code = "bad_transcript"
    status = 422


def _kind(content_type: str, url: str, body: str) -> str:
    ct = content_type.split(";")[0].strip().lower()
    path = url.split("?")[0].lower()
    if ct == "text/vtt" or path.endswith(".vtt") or body.lstrip("\ufeff").startswith("WEBVTT"):
        return "vtt"
    if ct in ("application/x-subrip", "application/srt", "text/srt") or path.endswith(".srt"):
        return "srt"
    if ct == "application/json" or path.endswith(".json"):
        return "json"
    if ct == "text/html" or path.endswith((".html", ".htm")):
        return "html"
    return "text"


def _segment(start_s: float | None, end_s: float | None, text: str, speaker: str | None) -> TranscriptSegment:
    return TranscriptSegment(None if start_s is None else round(start_s * 1000),
                             None if end_s is None else round(end_s * 1000), " ".join(text.split())[:_MAX_TEXT],
                             (speaker or "").strip()[:100] or None)


def _cues(body: str, fmt: str) -> list[TranscriptSegment]:
    try:
        captions = webvtt.from_buffer(io.StringIO(body), format=fmt).captions
    except (MalformedFileError, ValueError, IndexError) as e:
        raise TranscriptError(f"not a readable {fmt.upper()} transcript: {e}") from None
    return [_segment(c.start_time.in_milliseconds() / 1000, c.end_time.in_milliseconds() / 1000, html.unescape(c.text),
                     getattr(c, "voice", None)) for c in captions[:_MAX_SEGMENTS]]


def _words(markup: str) -> str:
    """The words of a bit of HTML, as text (a JSON segment's body or an HTML transcript may hold markup)."""
    return html.unescape(plain_text(markup))


def _json(body: str) -> list[TranscriptSegment]:
    try:
        raw: Any = json.loads(body)["segments"]
        if not isinstance(raw, list):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        raise TranscriptError("not a JSON transcript (an object with a list of segments)") from None
    out = []
    for s in raw[:_MAX_SEGMENTS]:
        start, end = (s.get(k) if isinstance(s, dict) else None for k in ("startTime", "endTime"))
        if not isinstance(s, dict) or not isinstance(s.get("body"), str) or not isinstance(start, int | float) \
                or start < 0:
            continue  # one broken segment is skipped, as one broken feed item is
        out.append(_segment(float(start), float(end) if isinstance(end, int | float) else None, _words(s["body"]),
                            s.get("speaker") if isinstance(s.get("speaker"), str) else None))
    return out


def parse_transcript(body: bytes, content_type: str, url: str) -> list[TranscriptSegment]:
    """The segments of a transcript file, in time order; TranscriptError when there are none to show."""
    text = body.decode("utf-8", errors="replace")
    kind = _kind(content_type, url, text)
    if kind in ("vtt", "srt"):
        segments = _cues(text, kind)
    elif kind == "json":
        segments = _json(text)
    else:
        words = _words(text) if kind == "html" else " ".join(text.split())
        segments = [TranscriptSegment(None, None, words)] if words else []
    segments = [s for s in segments if s.text]
    if not segments:
        raise TranscriptError("the transcript has no text")
    return sorted(segments, key=lambda s: s.start_ms or 0)
