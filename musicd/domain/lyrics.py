"""LRC parsing: synced lyrics as (milliseconds, line) pairs."""

from __future__ import annotations

import re

__all__ = ["LyricLine", "is_synced", "parse_lrc", "plain_text"]

_STAMP = re.compile(r"\[(\d{1,3}):(\d{1,2})(?:[.:](\d{1,3}))?\]")
_OFFSET = re.compile(r"^\[offset:\s*([+-]?\d+)\s*\]", re.IGNORECASE)

LyricLine = tuple[int, str]


def is_synced(text: str) -> bool:
    """True when at least one line carries an LRC time stamp."""
    return any(_STAMP.match(line.strip()) for line in text.splitlines())


def parse_lrc(text: str) -> list[LyricLine]:
    """Lines of an LRC text sorted by time; a line with several stamps appears at each of them."""
    offset = 0
    out: list[LyricLine] = []
    for raw in text.splitlines():
        line = raw.strip()
        if m := _OFFSET.match(line):
            offset = int(m.group(1))
            continue
        stamps = []
        while m := _STAMP.match(line):
            mins, secs, frac = int(m.group(1)), int(m.group(2)), m.group(3) or "0"
            ms = int(frac.ljust(3, "0")[:3]) if len(frac) <= 3 else 0
            stamps.append(mins * 60_000 + secs * 1000 + ms)
            line = line[m.end() :]
        for t in stamps:
            # LRC's offset is positive when the lyrics should come earlier.
            out.append((max(0, t - offset), line.strip()))
    out.sort(key=lambda x: x[0])
    return out


def plain_text(text: str) -> str:
    """Lyrics without time stamps or LRC headers."""
    if not is_synced(text):
        return text.strip()
    return "\n".join(line for _, line in parse_lrc(text)).strip()

