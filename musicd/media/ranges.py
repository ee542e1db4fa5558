"""HTTP Range, If-Range, ETag and date handling for byte-exact file responses (RFC 9110), pure functions."""

from __future__ import annotations

import hashlib
from email.utils import formatdate, parsedate_to_datetime

from musicd.domain.numbers import parse_digits

__all__ = [
    "MAX_RANGES",
    "ByteRange",
    "RangeNotSatisfiable",
    "file_etag",
    "http_date",
    "if_none_match",
    "if_range_allows",
    "multipart_layout",
    "parse_range",
]

ByteRange = tuple[int, int]  # first and last byte, inclusive

# More ranges than this (after merging) are answered with the whole body: a request for hundreds
# of tiny ranges is either a bug or an attempt to make the server work hard.
MAX_RANGES = 16


class RangeNotSatisfiable(Exception):
    """The Range header is valid but no range overlaps the representation: answer 416."""


def file_etag(size: int, mtime_ns: int, extra: str = "") -> str:
    """A strong ETag from the file's size and modification time (and a variant name)."""
    h = hashlib.blake2b(f"{size}:{mtime_ns}:{extra}".encode(), digest_size=9).hexdigest()
    return f'"{h}"'


def http_date(seconds: float) -> str:
    """An IMF-fixdate (`Last-Modified` format) for a POSIX time."""
    return formatdate(seconds, usegmt=True)


def _etags(header: str) -> list[str]:
    out, cur, quoted = [], [], False
    for ch in header:
        if ch == '"':
            quoted = not quoted
        if ch == "," and not quoted:
            out.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur).strip())
    return [t for t in out if t]


def if_none_match(header: str | None, etag: str) -> bool:
    """True when `If-None-Match` matches `etag` (weak comparison), i.e. answer 304."""
    if not header:
        return False
    if header.strip() == "*":
        return True
    bare = etag.removeprefix("W/")
    return any(t.removeprefix("W/") == bare for t in _etags(header))


def if_range_allows(header: str | None, etag: str, mtime_s: float) -> bool:
    """True when the Range may be honoured: no `If-Range`, or it names the current representation.

    An entity tag must match strongly (weak tags never match); a date must equal Last-Modified.
    """
    if not header:
        return True
    header = header.strip()
    if header.startswith('"') or header.startswith("W/"):
        return not header.startswith("W/") and header == etag
    try:
        when = parsedate_to_datetime(header).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return False
    return int(when) == int(mtime_s)


def _magnitude(digits: str) -> tuple[int, str]:
    """Orders ASCII digit strings by value without converting them (they may be thousands of digits long)."""
    d = digits.lstrip("0") or "0"
    return len(d), d


def parse_range(header: str | None, size: int) -> list[ByteRange] | None:
    """The satisfiable ranges of a `Range` header, sorted and merged; None means send the whole body.

    A header that is absent, not `bytes=`, or syntactically invalid (non-ASCII digits too) is ignored
    (None), as RFC 9110 allows. Raises RangeNotSatisfiable when it is valid but nothing in it overlaps
    `size` bytes (a first position of any number of digits past the end, say).
    """
    if not header:
        return None
    unit, sep, spec = header.partition("=")
    if not sep or unit.strip().lower() != "bytes":
        return None
    wanted: list[ByteRange] = []
    specs = 0
    # A position past the file means the same as one just past it, however many digits it has.
    cap = size + 1
    for part in spec.split(","):
        part = part.strip(" \t")
        if not part:
            continue
        first_s, dash, last_s = part.partition("-")
        first_s, last_s = first_s.strip(" \t"), last_s.strip(" \t")
        first = parse_digits(first_s, cap) if first_s else None
        last = parse_digits(last_s, cap) if last_s else None
        # Only ASCII digits are DIGIT (RFC 9110, section 14.1.1): anything else makes the header invalid.
        if not dash or (first_s and first is None) or (last_s and last is None):
            return None
        specs += 1
        if first is None:
            if last is None:
                return None
            if last == 0 or size == 0:
                continue  # a zero-length suffix, or any suffix of nothing, is unsatisfiable
            wanted.append((max(0, size - last), size - 1))
            continue
        if last is not None and _magnitude(last_s) < _magnitude(first_s):
            return None
        if first >= size:
            continue
        wanted.append((first, size - 1 if last is None else min(last, size - 1)))
    if not wanted:
        if specs:
            raise RangeNotSatisfiable(header)
        return None
    wanted.sort()
    merged: list[ByteRange] = [wanted[0]]
    for first, last in wanted[1:]:
        pf, pl = merged[-1]
        if first <= pl + 1:
            merged[-1] = (pf, max(pl, last))
        else:
            merged.append((first, last))
    if len(merged) > MAX_RANGES:
        return None
    return merged


def multipart_layout(
    ranges: list[ByteRange], size: int, content_type: str, boundary: str
) -> tuple[list[tuple[bytes, ByteRange]], bytes, int]:
    """The part headers of a `multipart/byteranges` body, its closing delimiter and its total length."""
    parts: list[tuple[bytes, ByteRange]] = []
    total = 0
    for i, (first, last) in enumerate(ranges):
        head = (
            ("\r\n" if i else "") + f"--{boundary}\r\nContent-Type: {content_type}\r\n"
            f"Content-Range: bytes {first}-{last}/{size}\r\n\r\n"
        ).encode()
        parts.append((head, (first, last)))
        total += len(head) + (last - first + 1)
    tail = f"\r\n--{boundary}--\r\n".encode()
    return parts, tail, total + len(tail)
