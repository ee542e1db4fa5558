"""Pure tag normalisation shared by the scanner and the APIs."""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "VARIOUS_ARTISTS",
    "fold_key",
    "group_key",
    "parse_gain",
    "parse_number_pair",
    "parse_year",
    "split_artists",
    "split_genres",
]

VARIOUS_ARTISTS = "Various Artists"

# "A feat. B", "A ft. B", "A featuring B", "A (feat. B)"; the joiners between several
# featured artists are split too, but never the main artist's own name ("Simon & Garfunkel").
_FEAT = re.compile(r"\s*[\(\[]?\s*\b(?:feat\.?|ft\.|featuring)\s+", re.IGNORECASE)
_FEAT_JOINERS = re.compile(r"\s*(?:,|&|\band\b|;|/)\s*", re.IGNORECASE)
_YEAR = re.compile(r"(\d{4})")
_GAIN = re.compile(r"^\s*([+-]?\d+(?:\.\d+)?)")


def split_artists(artist_tag: str | None, artists_tag: list[str] | None = None) -> list[str]:
    """The individual artists of a track: the multi-valued ARTISTS tag if present, else `feat.` split."""
    if artists_tag:
        seen: list[str] = []
        for a in artists_tag:
            a = a.strip()
            if a and a not in seen:
                seen.append(a)
        if seen:
            return seen
    if not artist_tag or not artist_tag.strip():
        return []
    parts = _FEAT.split(artist_tag, maxsplit=1)
    main = parts[0].strip()
    out = [main] if main else []
    if len(parts) > 1:
        rest = parts[1].strip().rstrip(")]").strip()
        for name in _FEAT_JOINERS.split(rest):
            name = name.strip()
            if name and name not in out:
                out.append(name)
    return out


def split_genres(values: list[str]) -> list[str]:
    """Genre tags may hold several values in one string ("Rock; Pop", "Rock/Pop" is kept: AC/DC-style)."""
    out: list[str] = []
    for v in values:
        for g in re.split(r"\s*[;,\x00]\s*", v):
            g = g.strip()
            if g and g.lower() not in (x.lower() for x in out):
                out.append(g)
    return out


def parse_number_pair(value: str | None) -> tuple[int | None, int | None]:
    """'3/12' -> (3, 12); '3' -> (3, None); junk -> (None, None)."""
    if value is None:
        return None, None
    value = str(value).strip()
    if not value:
        return None, None
    num, _, total = value.partition("/")
    return _to_int(num), _to_int(total)


def _to_int(s: str) -> int | None:
    m = re.match(r"\s*(\d+)", s)
    if not m:
        return None
    n = int(m.group(1))
    return n if 0 < n < 100_000 else None


def parse_year(value: str | None) -> tuple[int | None, str | None]:
    """A date tag ('2001', '2001-05-03', '2001-05-03T00:00') -> (year, ISO date or None)."""
    if not value:
        return None, None
    value = str(value).strip()
    m = _YEAR.search(value)
    if not m:
        return None, None
    year = int(m.group(1))
    if not 1000 <= year <= 9999:
        return None, None
    date = value[:10] if re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", value[:10]) else str(year)
    return year, date


def parse_gain(value: str | None) -> float | None:
    """'-6.50 dB' -> -6.5."""
    if not value:
        return None
    m = _GAIN.match(str(value))
    return float(m.group(1)) if m else None


def fold_key(s: str) -> str:
    """Case- and accent-insensitive grouping key ('Röyksopp' and 'ROYKSOPP' group together)."""
    s = unicodedata.normalize("NFKD", s.casefold())
    s = "".join(c for c in s if not unicodedata.combining(c))
    return " ".join(s.split())


def group_key(s: str) -> str:
    """Case-insensitive grouping key for artists and albums; accents are kept ('Été' is not 'Ete')."""
    return " ".join(unicodedata.normalize("NFC", s).casefold().split())
