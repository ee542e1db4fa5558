"""Numbers from the wire: ASCII decimal within signed 64 bits, refused with a reason otherwise."""

from __future__ import annotations

import pytest

from musicd.domain.numbers import INT64_MAX, INT64_MIN, NumberError, parse_digits, parse_int


@pytest.mark.parametrize(("text", "want"), [
    ("0", 0), ("42", 42), ("-7", -7), ("+5", 5), (" 12 ", 12), ("007", 7),
    ("12.7", 12), ("-12.7", -12), ("1e3", 1000), ("1.", 1), (".5", 0), ("1e-400", 0),
    (str(INT64_MAX), INT64_MAX), (str(INT64_MIN), INT64_MIN),
])
def test_accepted(text: str, want: int) -> None:
    assert parse_int(text) == want


@pytest.mark.parametrize("text", [
    str(INT64_MAX + 1), str(INT64_MIN - 1), str(2**64), "1e400", "-1e400", "1e19", "9" * 5_000, "1" * 4_301,
])
def test_out_of_range(text: str) -> None:
    with pytest.raises(NumberError, match="out of range"):
        parse_int(text)


@pytest.mark.parametrize("text", [
    "", " ", "inf", "-inf", "Infinity", "nan", "NaN", "0x10", "1_000", "\u0663", "\u00b2", "\uff11\uff12", "1 2",
    "--1", "1e", ".", "e3", "12abc", "x" * 10_000,
])
def test_not_a_number(text: str) -> None:
    with pytest.raises(NumberError, match="must be a number"):
        parse_int(text)


def test_bounds_are_the_callers() -> None:
    assert parse_int("5", lo=0, hi=5) == 5
    with pytest.raises(NumberError, match=r"out of range \(0 to 5\)"):
        parse_int("6", lo=0, hi=5)


@pytest.mark.parametrize(("text", "want"), [
    ("0", 0), ("12", 12), ("00012", 12), ("99", 99), ("100", 100), ("101", 100), ("9" * 5_000, 100),
    ("0" * 5_000 + "7", 7),
])
def test_digits_saturate_at_the_cap(text: str, want: int) -> None:
    assert parse_digits(text, cap=100) == want


@pytest.mark.parametrize("text", ["", "+1", "-1", " 1", "1.0", "\u0663", "\u00b2", "\uff11"])
def test_digits_are_ascii_digits_only(text: str) -> None:
    assert parse_digits(text, cap=100) is None
