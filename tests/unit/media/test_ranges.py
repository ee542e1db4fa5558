"""Range / If-Range / If-None-Match parsing (RFC 9110) and the multipart/byteranges layout."""

from __future__ import annotations

import pytest

from musicd.media import ranges
from musicd.media.ranges import RangeNotSatisfiable, parse_range


@pytest.mark.parametrize(
    ("header", "size", "want"),
    [
        ("bytes=0-9", 100, [(0, 9)]),
        ("bytes=10-", 100, [(10, 99)]),
        ("bytes=-20", 100, [(80, 99)]),
        ("bytes=-200", 100, [(0, 99)]),  # a suffix longer than the file is the whole file
        ("bytes=90-500", 100, [(90, 99)]),  # the end is clipped to the size
        ("bytes=0-0", 1, [(0, 0)]),
        ("bytes=0-9, 20-29", 100, [(0, 9), (20, 29)]),
        ("bytes=20-29,0-9", 100, [(0, 9), (20, 29)]),  # sorted
        ("bytes=0-9,5-14,15-19", 100, [(0, 19)]),  # overlapping and adjacent ranges merge
        ("bytes=0-9,200-300", 100, [(0, 9)]),  # unsatisfiable parts are dropped
        ("Bytes = 5-6", 100, [(5, 6)]),
    ],
)
def test_satisfiable(header: str, size: int, want: list[tuple[int, int]]) -> None:
    assert parse_range(header, size) == want


@pytest.mark.parametrize(
    "header",
    [None, "", "items=0-9", "bytes", "bytes=", "bytes=a-b", "bytes=9-1", "bytes=-", "bytes=1-2-3", "bytes=0x1-2"],
)
def test_ignored(header: str | None) -> None:
    assert parse_range(header, 100) is None


@pytest.mark.parametrize("header", ["bytes=100-", "bytes=100-200", "bytes=-0", "bytes=500-,600-700"])
def test_unsatisfiable(header: str) -> None:
    with pytest.raises(RangeNotSatisfiable):
        parse_range(header, 100)


_HUGE = "9" * 5_000  # past Python's 4,300-digit int() limit


@pytest.mark.parametrize(
    ("header", "want"),
    [
        (f"bytes=0-{_HUGE}", [(0, 99)]),  # a huge last position is clipped like any other past the end
        (f"bytes=-{_HUGE}", [(0, 99)]),  # a huge suffix is the whole file
        (f"bytes=0-{'0' * 5_000}9", [(0, 9)]),  # leading zeros are still a small number
        (f"bytes={'0' * 5_000}5-6", [(5, 6)]),
    ],
)
def test_numbers_of_any_length(header: str, want: list[tuple[int, int]]) -> None:
    assert parse_range(header, 100) == want


@pytest.mark.parametrize("header", [
    f"bytes={_HUGE}-", f"bytes={_HUGE}-{_HUGE}", f"bytes=1{'0' * 30}-2{'0' * 30}",
])
def test_huge_first_positions_are_unsatisfiable(header: str) -> None:
    with pytest.raises(RangeNotSatisfiable):
        parse_range(header, 100)


@pytest.mark.parametrize("header", [
    "bytes=\u0663-\u0665",  # Arabic-Indic digits, which int() would read as 3-5
    "bytes=0-\u00b2",  # a superscript two: str.isdigit() says yes, int() fails
    "bytes=\uff11-\uff12",  # fullwidth digits
    "bytes=\u00d9\u00a3-",  # the UTF-8 bytes of an Arabic-Indic digit, as latin-1 decodes them
    "bytes=+1-2", "bytes=1_0-20", "bytes=\u00a05-6",  # a sign, an underscore, a no-break space
    f"bytes=2{'0' * 30}-1{'0' * 30}",  # last before first, both huge
])
def test_non_ascii_and_odd_digits_make_the_header_ignored(header: str) -> None:
    assert parse_range(header, 100) is None


def test_empty_file_is_unsatisfiable() -> None:
    with pytest.raises(RangeNotSatisfiable):
        parse_range("bytes=0-", 0)


def test_too_many_ranges_fall_back_to_the_whole_body() -> None:
    header = "bytes=" + ",".join(f"{i * 10}-{i * 10 + 1}" for i in range(ranges.MAX_RANGES + 1))
    assert parse_range(header, 10_000) is None


def test_etags_and_if_none_match() -> None:
    tag = ranges.file_etag(100, 123, "orig")
    assert tag.startswith('"') and tag.endswith('"')
    assert tag != ranges.file_etag(100, 124, "orig") != ranges.file_etag(100, 123, "tier")
    assert ranges.if_none_match(tag, tag)
    assert ranges.if_none_match(f'"x", W/{tag}', tag)  # weak comparison
    assert ranges.if_none_match("*", tag)
    assert not ranges.if_none_match('"other"', tag)
    assert not ranges.if_none_match(None, tag)


def test_if_range() -> None:
    tag = ranges.file_etag(1, 2)
    mtime = 1_700_000_000.5
    assert ranges.if_range_allows(None, tag, mtime)
    assert ranges.if_range_allows(tag, tag, mtime)
    assert not ranges.if_range_allows('"stale"', tag, mtime)
    assert not ranges.if_range_allows(f"W/{tag}", tag, mtime)  # weak tags never match in If-Range
    assert ranges.if_range_allows(ranges.http_date(mtime), tag, mtime)
    assert not ranges.if_range_allows(ranges.http_date(mtime - 60), tag, mtime)
    assert not ranges.if_range_allows("not a date", tag, mtime)


def test_multipart_layout_length_is_exact() -> None:
    data = bytes(range(256)) * 4
    wanted = [(0, 9), (100, 199), (1000, 1023)]
    parts, tail, total = ranges.multipart_layout(wanted, len(data), "audio/mpeg", "BOUNDARY")
    body = b"".join(h + data[a : b + 1] for h, (a, b) in parts) + tail
    assert len(body) == total
    assert body.startswith(b"--BOUNDARY\r\nContent-Type: audio/mpeg\r\nContent-Range: bytes 0-9/1024\r\n\r\n")
    assert body.endswith(b"\r\n--BOUNDARY--\r\n")
