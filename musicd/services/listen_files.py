"""Listen history files read as streams: a ListenBrainz export (the zip of `listens/YYYY/M.jsonl` files it
makes today, one such JSON-lines file, or the JSON array of older exports) and a Last.fm scrobble CSV
(the headerless `artist,album,track,date` of lastfm-to-csv, or a CSV with a header naming its columns:
`uts`/`timestamp`/`date`, `artist`, `track`/`title`, `album`, `track_mbid`).

A file of any size is read a record at a time: memory stays flat for a 1 GB import. A record that cannot
be a listen is yielded as a Rejected reason and the reading goes on.
"""

from __future__ import annotations

import csv
import io
import zipfile
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import ijson
import msgspec

from musicd.domain.listens import LISTEN_MIN_TS, Listen
from musicd.errors import ValidationError
from musicd.services.listenbrainz_payload import FUTURE_SKEW_S, MAX_LISTEN_SIZE, listen_from_json

__all__ = ["FORMATS", "ListenFile", "Rejected"]

FORMATS = ("listenbrainz", "lastfm")
_MAX_LINE = 1024 * 1024  # a JSON line or a CSV row longer than this is not a listen (and is not held whole)
_DATE_FORMATS = ("%d %b %Y %H:%M", "%d %b %Y, %H:%M", "%d %B %Y %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M",
                 "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%SZ", "%d/%m/%Y %H:%M")
_TIME_COLS = ("uts", "timestamp", "listened_at", "utc_time", "date", "time")
_TITLE_COLS = ("track", "title", "track_name", "name", "song")
_MBID_COLS = ("track_mbid", "recording_mbid", "mbid")
_JSON = msgspec.json.Decoder()


class Rejected(msgspec.Struct, frozen=True):
    """A record that is not a listen, and why."""

    reason: str


def _sniff(head: bytes) -> str:
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"["):
        return "array"
    if text.startswith(b"{"):
        return "jsonl"
    return "csv"


class ListenFile:
    """One file of listens; iterate it for Listen or Rejected items, read `position` for progress."""

    def __init__(self, path: Path, fmt: str | None = None, now: float | None = None) -> None:
        self.path = path
        self.total = path.stat().st_size
        self.position = 0
        self.now = datetime.now(UTC).timestamp() if now is None else now
        with path.open("rb") as f:
            self.kind = _sniff(f.read(64))
        if fmt is not None and fmt not in FORMATS:
            raise ValidationError(f"format must be one of {', '.join(FORMATS)}", code="invalid_format")
        expected = {"listenbrainz": ("zip", "array", "jsonl"), "lastfm": ("csv",)}
        if fmt is not None and self.kind not in expected[fmt]:
            what = "a ListenBrainz export (zip, JSON or JSON lines)" if fmt == "listenbrainz" else "a CSV file"
            raise ValidationError(f"the file is not {what}", code="invalid_import_file")
        self.format = "lastfm" if self.kind == "csv" else "listenbrainz"
        if self.kind == "zip":
            with path.open("rb") as f:
                _listen_members(_open_zip(f))  # a broken zip or one without listens is refused at once


    def __iter__(self) -> Iterator[Listen | Rejected]:
        with self.path.open("rb") as f:
            if self.kind == "zip":
                yield from self._zip(f)
            elif self.kind == "array":
                yield from self._array(f, f)
            elif self.kind == "jsonl":
                yield from self._lines(f, f)
            else:
                yield from self._csv(f)
        self.position = self.total

    # ---- ListenBrainz ----

    def _listen(self, obj: Any) -> Listen | Rejected:
        try:
            return listen_from_json(obj, "import", self.now, exported=True)
        except ValidationError as e:
            return Rejected(e.message)

    def _zip(self, f: IO[bytes]) -> Iterator[Listen | Rejected]:
        with _open_zip(f) as archive:
            for m in _listen_members(archive):
                try:
                    with archive.open(m) as member:
                        head = member.peek(64)[:64]
                        if _sniff(head) == "array":
                            yield from self._array(member, f)
                        else:
                            yield from self._lines(member, f)
                except (zipfile.BadZipFile, EOFError, OSError, zlib.error) as e:
                    yield Rejected(f"{m.filename} in the zip is damaged ({e}); the rest of it was not read")

    def _array(self, stream: IO[bytes], raw: IO[bytes]) -> Iterator[Listen | Rejected]:
        try:
            for obj in ijson.items(stream, "item", use_float=True):
                self.position = raw.tell()
                yield self._listen(obj)
        except ijson.JSONError as e:
            yield Rejected(f"the JSON stops being valid here ({e}); the rest of the file was not read")

    def _lines(self, stream: IO[bytes], raw: IO[bytes]) -> Iterator[Listen | Rejected]:
        while True:
            line = stream.readline(_MAX_LINE)
            if not line:
                return
            self.position = raw.tell()
            if len(line) >= _MAX_LINE and not line.endswith(b"\n"):
                while (rest := stream.readline(_MAX_LINE)) and not rest.endswith(b"\n"):
                    pass  # skip the rest of an endless line without holding it
                yield Rejected(f"a line longer than {_MAX_LINE} bytes")
                continue
            if not line.strip():
                continue
            if len(line) > MAX_LISTEN_SIZE * 4:
                yield Rejected(f"a listen larger than {MAX_LISTEN_SIZE * 4} bytes")
                continue
            try:
                obj = _JSON.decode(line)
            except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as e:
                yield Rejected(f"a line that is not JSON: {e}")
                continue
            yield self._listen(obj)

    # ---- Last.fm ----

    def _csv(self, f: IO[bytes]) -> Iterator[Listen | Rejected]:
        text = io.TextIOWrapper(f, encoding="utf-8-sig", errors="replace", newline="")
        reader = csv.reader(_bounded_lines(text))
        cols: dict[str, int] | None = None
        first = True
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as e:
                yield Rejected(f"a CSV row that cannot be read: {e}")
                continue
            self.position = f.tell()
            if not row or not any(c.strip() for c in row):
                continue
            if first:
                first = False
                cols = _header(row)
                if cols is not None:
                    continue
            yield self._csv_listen(row, cols)

    def _csv_listen(self, row: list[str], cols: dict[str, int] | None) -> Listen | Rejected:
        def col(*names: str) -> str:
            for n in names:
                if cols is not None and n in cols and cols[n] < len(row):
                    return row[cols[n]].strip()
            return ""

        if cols is None:  # lastfm-to-csv: artist, album, track, date
            if len(row) < 4:
                return Rejected("a CSV row with fewer than 4 columns (artist, album, track, date)")
            artist, album, title, when = (c.strip() for c in row[:4])
            mbid = ""
        else:
            artist, album, title, mbid = col("artist", "artist_name"), col("album", "release_name"), \
                col(*_TITLE_COLS), col(*_MBID_COLS)
            when = col(*_TIME_COLS)
        if not artist or not title:
            return Rejected("a CSV row without artist or track")
        if "\x00" in artist + title + album:
            return Rejected("a CSV row with a NUL character")
        at = _parse_time(when)
        if at is None:
            return Rejected(f"a CSV row whose time cannot be read: {when[:40]!r}")
        if at >= self.now + FUTURE_SKEW_S:
            return Rejected("a listen in the future")
        if at < LISTEN_MIN_TS:
            return Rejected("a listen before 2002-10-01 (Last.fm did not exist yet)")
        return Listen(listened_at=at, artist=artist[:1000], title=title[:1000], release=album[:1000] or None,
                      recording_mbid=mbid.lower() if len(mbid) == 36 else None, client="lastfm")


def _open_zip(f: IO[bytes]) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(f)
    except (zipfile.BadZipFile, OSError) as e:
        raise ValidationError(f"the file is not a readable zip archive: {e}", code="invalid_import_file") from None


def _listen_members(archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    members = [m for m in archive.infolist() if not m.is_dir() and m.filename.startswith("listens/")
               and m.filename.endswith((".jsonl", ".json"))]
    if not members:
        raise ValidationError("the zip has no listens/…jsonl files: is it a ListenBrainz export?",
                              code="invalid_import_file")
    return members


def _bounded_lines(text: io.TextIOWrapper) -> Iterator[str]:
    # csv reads whole lines: an endless line is cut into pieces (they fail as rows) rather than held whole.
    while line := text.readline(_MAX_LINE):
        yield line


def _header(row: list[str]) -> dict[str, int] | None:
    names = [c.strip().lower() for c in row]
    if ("artist" in names or "artist_name" in names) and any(n in names for n in _TITLE_COLS):
        return {n: i for i, n in reversed(list(enumerate(names)))}
    return None


def _parse_time(value: str) -> int | None:
    v = value.strip()
    if not v:
        return None
    if v.isdigit():
        n = int(v)
        return n // 1000 if n > 100_000_000_000 else n  # milliseconds
    for fmt in _DATE_FORMATS:
        try:
            dt = datetime.strptime(v, fmt)
        except ValueError:
            continue
        return int(dt.replace(tzinfo=UTC).timestamp())
    try:
        dt = datetime.fromisoformat(v)
    except ValueError:
        return None
    return int((dt if dt.tzinfo else dt.replace(tzinfo=UTC)).timestamp())
