"""LRC parsing: synced lyrics as timed lines, the `[offset:]` tag, enhanced LRC word timing, languages.

One parser for every client: `/v1` sends its lines (offset applied) to the web player, `/rest` sends the
raw times with OpenSubsonic's `offset`. A line with a bad time stamp (`[00:75.00]`, `[1:xx]`) is dropped
and counted, never an error.
"""

from __future__ import annotations

import re

import msgspec

__all__ = [
    "LyricLine",
    "LyricWord",
    "ParsedLyrics",
    "TimedLine",
    "is_synced",
    "lrc_language",
    "lrc_offset",
    "normalise_language",
    "parse_lrc",
    "parse_lyrics",
    "plain_text",
    "same_language",
]

_STAMP = re.compile(r"\[(\d{1,3}):(\d{1,2})(?:[.:](\d{1,3}))?\]")
_ANY_STAMP = re.compile(r"^\[[^\]]*:[^\]]*\]")  # a [x:y] prefix: a stamp (valid or not) or a header
_OFFSET = re.compile(r"^\[offset:\s*([+-]?\d+)\s*\]", re.IGNORECASE)
_LANG = re.compile(r"^\[(?:la|lang|language):\s*([^\]]*)\]", re.IGNORECASE)
_TAG = re.compile(r"^\[[a-z#]+:.*\]$", re.IGNORECASE)
_WORD = re.compile(r"<(\d{1,3}):(\d{1,2})(?:[.:](\d{1,3}))?>")
_LANG_CODE = re.compile(r"^[a-z]{2,3}(?:-[a-z0-9]{2,8})*$")
_MAX_MS = 24 * 3600 * 1000

LyricLine = tuple[int, str]


class LyricWord(msgspec.Struct, frozen=True):
    """One word (or syllable) of an enhanced LRC line and when it is sung."""

    start_ms: int
    text: str


class TimedLine(msgspec.Struct, frozen=True):
    """A synced line as the file has it (`start_ms` without the offset), with its words when timed."""

    start_ms: int
    text: str
    words: list[LyricWord] = []


class ParsedLyrics(msgspec.Struct, frozen=True):
    """Synced lyrics: lines by time, the `[offset:]` in ms (positive: lyrics come earlier), dropped lines."""

    lines: list[TimedLine]
    offset_ms: int = 0
    bad_lines: int = 0


def _ms(mins: str, secs: str, frac: str | None) -> int | None:
    m, s = int(mins), int(secs)
    if s >= 60:
        return None
    f = frac or "0"
    return m * 60_000 + s * 1000 + int(f.ljust(3, "0")[:3])


def is_synced(text: str) -> bool:
    """True when at least one line carries an LRC time stamp."""
    return any(_STAMP.match(line.strip()) for line in text.splitlines())


def lrc_offset(text: str) -> int:
    """The `[offset:±ms]` of an LRC text, 0 without one."""
    for line in text.splitlines():
        if m := _OFFSET.match(line.strip()):
            return max(-_MAX_MS, min(_MAX_MS, int(m.group(1))))
    return 0


def normalise_language(lang: str | None) -> str | None:
    """A language code as tagged ("eng", "en", "pt-BR") in lower case; None for none/unknown ("XXX", "und")."""
    code = (lang or "").strip().lower().replace("_", "-")
    if code in ("", "xxx", "und", "zxx") or not _LANG_CODE.match(code):
        return None
    return code


# ISO 639-2 codes (ID3's USLT/SYLT carry these) of common languages, by their ISO 639-1 code.
_TWO_LETTER = {
    "eng": "en", "fra": "fr", "fre": "fr", "deu": "de", "ger": "de", "spa": "es", "ita": "it", "por": "pt",
    "nld": "nl", "dut": "nl", "jpn": "ja", "kor": "ko", "zho": "zh", "chi": "zh", "rus": "ru", "swe": "sv",
    "nor": "no", "nob": "nb", "dan": "da", "fin": "fi", "pol": "pl", "tur": "tr", "ara": "ar", "heb": "he",
    "hin": "hi", "ell": "el", "gre": "el", "ces": "cs", "cze": "cs", "hun": "hu", "ukr": "uk", "isl": "is",
    "ice": "is", "cat": "ca", "ron": "ro", "rum": "ro", "vie": "vi", "tha": "th", "ind": "id", "fas": "fa",
    "per": "fa",
}


def same_language(a: str | None, b: str | None) -> bool:
    """Whether two language codes name the same language ("fr", "fra", "fr-ca" do; None matches nothing)."""
    if not a or not b:
        return False

    def base(code: str) -> str:
        head = code.lower().split("-")[0]
        return _TWO_LETTER.get(head, head)

    return base(a) == base(b)


def lrc_language(text: str) -> str | None:
    """The language an LRC text names in a `[la:]` (or `[lang:]`) tag."""
    for line in text.splitlines()[:50]:
        if m := _LANG.match(line.strip()):
            return normalise_language(m.group(1))
    return None


def _words(text: str) -> tuple[str, list[LyricWord]]:
    """The plain text of an enhanced LRC line and its timed words (empty when it has no word stamps)."""
    parts = _WORD.split(text)
    if len(parts) == 1:
        return text.strip(), []
    words: list[LyricWord] = []
    plain = parts[0]
    for i in range(1, len(parts), 4):
        at = _ms(parts[i], parts[i + 1], parts[i + 2])
        word = parts[i + 3]
        plain += word
        if at is not None and word.strip():
            words.append(LyricWord(at, word))
    return plain.strip(), words


def parse_lyrics(text: str) -> ParsedLyrics:
    """Synced lines sorted by time (a line with several stamps appears at each); headers skipped."""
    lines: list[TimedLine] = []
    bad = 0
    for raw in text.splitlines():
        line = raw.strip()
        if not line or _OFFSET.match(line):
            continue
        stamps: list[int] = []
        broken = False
        while m := _STAMP.match(line):
            at = _ms(m.group(1), m.group(2), m.group(3))
            if at is None:
                broken = True
            else:
                stamps.append(at)
            line = line[m.end():]
        if not stamps:
            if broken or (_ANY_STAMP.match(line) and not _TAG.match(line)):
                bad += 1
            continue
        plain, words = _words(line)
        lines.extend(TimedLine(t, plain, words) for t in stamps)
    lines.sort(key=lambda x: x.start_ms)
    return ParsedLyrics(lines, lrc_offset(text), bad)


def parse_lrc(text: str) -> list[LyricLine]:
    """(ms, text) of an LRC text's lines, the offset applied (LRC's offset is positive when the lyrics
    should come earlier)."""
    parsed = parse_lyrics(text)
    return [(max(0, ln.start_ms - parsed.offset_ms), ln.text) for ln in parsed.lines]


def plain_text(text: str) -> str:
    """Lyrics without time stamps or LRC headers."""
    if not is_synced(text):
        return text.strip()
    return "\n".join(line for _, line in parse_lrc(text)).strip()
