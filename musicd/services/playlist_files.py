"""Playlist files: M3U8 and XSPF out, M3U/M3U8 and XSPF in, and matching their lines to library tracks."""

from __future__ import annotations

import posixpath
import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from pathlib import PurePosixPath
from urllib.parse import quote, unquote, urlparse
from xml.etree import ElementTree as ET

import msgspec
from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException

from musicd.domain.catalog import TrackView
from musicd.errors import ValidationError
from musicd.store.playlists import TrackKey

__all__ = ["FORMATS", "ImportEntry", "ParsedPlaylist", "TrackMatcher", "parse_playlist", "render_m3u8", "render_xspf",
           "with_base"]

FORMATS = {"m3u8": "audio/x-mpegurl", "xspf": "application/xspf+xml"}
_XSPF_NS = "http://xspf.org/ns/0/"
_URI_PREFIXES = ("musicd:track:", "spotify:track:")


class ImportEntry(msgspec.Struct, frozen=True):
    """One line of an imported playlist: where it points and what it says it is."""

    index: int
    location: str | None = None
    title: str | None = None
    artist: str | None = None
    album: str | None = None
    identifier: str | None = None
    extinf: str | None = None  # "Artist - Title" of an M3U #EXTINF line, split when matching


class ParsedPlaylist(msgspec.Struct, frozen=True):
    name: str | None
    description: str | None
    entries: list[ImportEntry]


def render_m3u8(name: str, tracks: Sequence[TrackView]) -> str:
    """An extended M3U (UTF-8) with paths relative to the library folder."""
    lines = ["#EXTM3U", f"#PLAYLIST:{_one_line(name)}"]
    for t in tracks:
        lines.append(f"#EXTINF:{round(t.duration)},{_one_line(t.artist_display)} - {_one_line(t.title)}")
        lines.append(f"#EXTALB:{_one_line(t.album_name)}")
        lines.append(t.rel_path)
    return "\n".join(lines) + "\n"


def render_xspf(name: str, description: str, owner: str, tracks: Sequence[TrackView]) -> str:
    """An XSPF document; locations are relative URIs (the library-relative path), identifiers musicd URIs."""
    ET.register_namespace("", _XSPF_NS)
    root = ET.Element(f"{{{_XSPF_NS}}}playlist", version="1")
    for tag, text in (("title", name), ("creator", owner), ("annotation", description)):
        if text:
            ET.SubElement(root, f"{{{_XSPF_NS}}}{tag}").text = text
    tl = ET.SubElement(root, f"{{{_XSPF_NS}}}trackList")
    for t in tracks:
        el = ET.SubElement(tl, f"{{{_XSPF_NS}}}track")
        fields = [("location", quote(t.rel_path)), ("identifier", f"spotify:track:{t.id}"), ("title", t.title),
                  ("creator", t.artist_display), ("album", t.album_name),
                  ("trackNum", str(t.track_number) if t.track_number else None),
                  ("duration", str(round(t.duration * 1000)))]
        for tag, text in fields:
            if text:
                ET.SubElement(el, f"{{{_XSPF_NS}}}{tag}").text = text
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _one_line(s: str) -> str:
    return " ".join(s.split())


def parse_playlist(data: bytes) -> ParsedPlaylist:
    """Parse an XSPF or M3U/M3U8 body (told apart by content); ValidationError when it is neither."""
    head = data.lstrip()[:200].lower()
    if head.startswith((b"<?xml", b"<playlist")) or b"xspf" in head:
        return _parse_xspf(data)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")  # plain .m3u files are often Latin-1
    return _parse_m3u(text)


def _parse_m3u(text: str) -> ParsedPlaylist:
    if any(c in text for c in "\x00\x01\x02\x03\x04\x05\x06\x07\x08"):
        raise ValidationError("the body is neither an M3U nor an XSPF playlist", code="invalid_playlist_file")
    name: str | None = None
    entries: list[ImportEntry] = []
    extinf: str | None = None
    album: str | None = None
    artist: str | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            tag, _, value = line.partition(":")
            tag = tag.upper()
            if tag == "#PLAYLIST":
                name = value.strip() or name
            elif tag == "#EXTINF":
                extinf = value.partition(",")[2].strip() or None
            elif tag == "#EXTALB":
                album = value.strip() or None
            elif tag == "#EXTART":
                artist = value.strip() or None
            continue
        entries.append(ImportEntry(index=len(entries), location=line, extinf=extinf, album=album, artist=artist))
        extinf = album = artist = None
    if not entries and not text.lstrip().startswith("#EXTM3U"):
        raise ValidationError("the body is neither an M3U nor an XSPF playlist", code="invalid_playlist_file")
    return ParsedPlaylist(name, None, entries)


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _parse_xspf(data: bytes) -> ParsedPlaylist:
    try:
        root = SafeET.fromstring(data)
    except (ET.ParseError, DefusedXmlException, ValueError) as e:
        raise ValidationError(f"the XSPF document cannot be read: {e}", code="invalid_playlist_file") from None
    if _local(root.tag) != "playlist":
        raise ValidationError("an XSPF document's root must be <playlist>", code="invalid_playlist_file")

    def text(el: ET.Element, tag: str) -> str | None:
        for child in el:
            if _local(child.tag) == tag and child.text and child.text.strip():
                return child.text.strip()
        return None

    entries: list[ImportEntry] = []
    for child in root:
        if _local(child.tag) != "trackList":
            continue
        for tr in child:
            if _local(tr.tag) == "track":
                entries.append(ImportEntry(
                    index=len(entries), location=text(tr, "location"), title=text(tr, "title"),
                    artist=text(tr, "creator"), album=text(tr, "album"), identifier=text(tr, "identifier"),
                ))
    return ParsedPlaylist(text(root, "title"), text(root, "annotation"), entries)


def with_base(e: ImportEntry, base_dir: str) -> ImportEntry:
    """An entry whose relative file path is made absolute against `base_dir` (the playlist file's folder)."""
    loc = (e.location or "").strip()
    if not loc or loc.startswith("/") or "://" in loc or loc.lower().startswith("file:") or loc.startswith(
            _URI_PREFIXES):
        return e
    parts = _path_parts(loc)
    return msgspec.structs.replace(e, location=posixpath.normpath(posixpath.join(base_dir, *parts)))


def _norm(s: str | None) -> str:
    return " ".join(unicodedata.normalize("NFKC", s or "").casefold().split())


def _path_parts(location: str) -> tuple[str, ...]:
    loc = location.strip()
    if loc.lower().startswith("file:"):
        loc = unquote(urlparse(loc).path)
    elif "%" in loc:
        loc = unquote(loc)
    loc = loc.replace("\\", "/")
    if len(loc) > 1 and loc[1] == ":":  # a Windows drive letter
        loc = loc[2:]
    return tuple(p for p in PurePosixPath(loc).parts if p not in ("/", ".", ""))


class TrackMatcher:
    """Finds the library track an imported line means: by musicd id, by path, then by title and artist."""

    def __init__(self, keys: Sequence[TrackKey]) -> None:
        self._ids = {k.id for k in keys}
        self._by_abs = {k.path: k.id for k in keys}
        # Candidates by file name, with their path parts below the library folder (for suffix matching).
        self._by_name: dict[str, list[tuple[tuple[str, ...], str]]] = defaultdict(list)
        self._by_meta: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
        for k in keys:
            rel = k.path[len(k.folder):].lstrip("/") if k.path.startswith(k.folder) else k.path
            parts = _path_parts(rel)
            if parts:
                self._by_name[parts[-1].casefold()].append((tuple(p.casefold() for p in parts), k.id))
            self._by_meta[(_norm(k.title), _norm(k.artist))].append((_norm(k.album), k.id))

    def match(self, e: ImportEntry) -> str | None:
        """The id of the track `e` names, or None."""
        for ident in (e.identifier, e.location):
            if ident:
                for prefix in _URI_PREFIXES:
                    if ident.startswith(prefix) and ident[len(prefix):] in self._ids:
                        return ident[len(prefix):]
        if e.location:
            found = self._by_path(e.location)
            if found:
                return found
        if e.title and e.artist:
            found = self._by_names(e.title, e.artist, e.album)
            if found:
                return found
        if e.extinf:
            # "Artist - Title": the artist or the title may itself contain " - ", so try every split.
            pieces = e.extinf.split(" - ")
            for i in range(1, len(pieces)):
                found = self._by_names(" - ".join(pieces[i:]), " - ".join(pieces[:i]), e.album)
                if found:
                    return found
        return None

    def _by_path(self, location: str) -> str | None:
        if location.startswith("/") and location in self._by_abs:
            return self._by_abs[location]
        parts = tuple(p.casefold() for p in _path_parts(location))
        if not parts:
            return None
        best: list[str] = []
        best_len = 0
        for cand_parts, tid in self._by_name.get(parts[-1], ()):
            n = 0
            while n < min(len(parts), len(cand_parts)) and parts[-1 - n] == cand_parts[-1 - n]:
                n += 1
            if n > best_len:
                best, best_len = [tid], n
            elif n == best_len:
                best.append(tid)
        # A bare file name shared by several tracks ("01 Intro.flac") says too little: only a unique best counts,
        # and at least two path parts must agree unless the line itself is only a file name.
        if len(best) == 1 and best_len >= min(2, len(parts)):
            return best[0]
        return None

    def _by_names(self, title: str, artist: str, album: str | None) -> str | None:
        cands = self._by_meta.get((_norm(title), _norm(artist)))
        if not cands:
            return None
        if album:
            want = _norm(album)
            for alb, tid in cands:
                if alb == want:
                    return tid
        return cands[0][1]
