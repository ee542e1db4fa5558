"""Numbers read from the wire: ASCII decimal only, and bounded to what SQLite's signed 64-bit INTEGER holds.

Python's `int()` accepts what no client means as a number (`٣`, `1_000`, and floats such as `inf` through
`int(float(...))`) and fails with errors of its own on others (4,300 digits, `²`); a value past 2^63 only
fails later, in SQLite. These parsers accept the decimal forms clients send and refuse the rest with a
reason, so the edge can answer a client error.
"""

from __future__ import annotations

import math
import re

__all__ = ["INT64_MAX", "INT64_MIN", "NumberError", "parse_digits", "parse_float", "parse_int"]

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

# A number longer than this is no number a client means (and int() on thousands of digits is slow).
_MAX_CHARS = 64
_INTEGER = re.compile(r"[+-]?[0-9]+")
# Unambiguous (each digit can belong to one group only), so a long near-miss cannot backtrack for seconds.
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_ASCII_SPACE = " \t\r\n"


class NumberError(ValueError):
    """Why a text is not an acceptable number (the message fits after "parameter X ...")."""


def parse_int(text: str, lo: int = INT64_MIN, hi: int = INT64_MAX) -> int:
    """An integer in ASCII decimal; a decimal fraction or exponent (`12.7`, `1e3`) is truncated toward zero.

    Raises NumberError for anything else (non-ASCII digits, `inf`, `nan`, `0x10`, `1_000`) and for values
    outside [lo, hi] (by default the signed 64-bit range).
    """
    s = text.strip(_ASCII_SPACE)
    if len(s) > _MAX_CHARS:
        digits = s[1:] if s[:1] in "+-" else s
        raise NumberError(f"is out of range ({lo} to {hi})" if digits.isascii() and digits.isdigit()
                          else "must be a number")
    if _INTEGER.fullmatch(s):
        n = int(s)
    elif _DECIMAL.fullmatch(s):
        f = float(s)
        if not math.isfinite(f):
            raise NumberError(f"is out of range ({lo} to {hi})")
        n = int(f)
    else:
        raise NumberError("must be a number")
    if not lo <= n <= hi:
        raise NumberError(f"is out of range ({lo} to {hi})")
    return n


def parse_float(text: str) -> float:
    """A finite decimal number (`120`, `-7.5`, `1e3`); NumberError for anything else (`inf`, `nan`, `0x10`)."""
    s = text.strip(_ASCII_SPACE)
    if len(s) > _MAX_CHARS or not _DECIMAL.fullmatch(s):
        raise NumberError("must be a number")
    f = float(s)
    if not math.isfinite(f):
        raise NumberError("is out of range")
    return f


def parse_digits(text: str, cap: int) -> int | None:
    """A run of ASCII digits (nothing else, no sign) as an int, at most `cap`; None when it is not one.

    For protocol fields whose grammar is `1*DIGIT` (an HTTP Range): any length is valid, and a value past
    `cap` means the same as `cap`, so it is never converted in full.
    """
    if not text or not text.isascii() or not text.isdigit():
        return None
    digits = text.lstrip("0") or "0"
    if len(digits) > len(str(cap)):
        return cap
    return min(int(digits), cap)
