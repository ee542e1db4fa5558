"""Read one audio file into a ScannedTrack. The only module that imports mutagen.

Runs inside scan worker processes, so it must stay picklable and free of asyncio.
"""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path
from typing import Any, BinaryIO

import mutagen
from mutagen._vorbis import VCommentDict  # documented as such: the tags of FLAC, Ogg and Opus files
from mutagen.aiff import AIFF
from mutagen.flac import FLAC, Picture
from mutagen.id3 import ID3, ID3NoHeaderError
from mutagen.mp3 import MP3
from mutagen.mp4 import MP4
from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis
from mutagen.wave import WAVE

from musicd.domain.lyrics import is_synced, lrc_language, normalise_language
from musicd.domain.models import ArtistCredit, CoverRef, Lyrics, ScannedTrack
from musicd.domain.tags import parse_gain, parse_number_pair, parse_year, split_artists, split_genres
from musicd.library.artwork import store_image
from musicd.library.walk import AUDIO_EXTENSIONS

__all__ = ["AUDIO_EXTENSIONS", "ReadError", "fingerprint", "probe", "read_track"]

_SAMPLE = 16 * 1024


class ReadError(Exception):
    """The file is not a readable audio file; the message says why."""


def fingerprint(path: str, size: int) -> str:
    """A hash of the file's first and last 16 kB (tags and audio): finds the same file again after a move or rename."""
    with open(path, "rb") as fh:
        return _fingerprint(fh, size)


def _fingerprint(fh: BinaryIO, size: int) -> str:
    h = hashlib.blake2b(digest_size=16)
    h.update(size.to_bytes(8, "little"))
    fh.seek(0)
    h.update(fh.read(_SAMPLE))
    if size > 2 * _SAMPLE:
        fh.seek(-_SAMPLE, os.SEEK_END)
        h.update(fh.read(_SAMPLE))
    return h.hexdigest()


class _Tags:
    """A format-neutral view of a file's tags: lists of strings per lower-case key, plus extras."""

    def __init__(self) -> None:
        self.values: dict[str, list[str]] = {}
        self.pictures: list[tuple[int, bytes]] = []  # (picture type, data)
        self.lyrics: list[tuple[str, str | None]] = []  # (text, language as tagged)
        self.compilation = False

    def add(self, key: str, vals: Any) -> None:
        if vals is None:
            return
        if not isinstance(vals, list | tuple):
            vals = [vals]
        out = self.values.setdefault(key.lower(), [])
        for v in vals:
            s = str(v).replace("\x00", "").strip()
            if s:
                out.append(s)

    def first(self, *keys: str) -> str | None:
        for k in keys:
            v = self.values.get(k)
            if v:
                return v[0]
        return None

    def all(self, key: str) -> list[str]:
        return self.values.get(key, [])


# ID3 TXXX descriptions and MP4 freeform names, normalised to Vorbis-comment keys.
_FREEFORM = {
    "artists": "artists",
    "musicbrainz album id": "musicbrainz_albumid",
    "musicbrainz artist id": "musicbrainz_artistid",
    "musicbrainz album artist id": "musicbrainz_albumartistid",
    "musicbrainz release track id": "musicbrainz_releasetrackid",
    "musicbrainz track id": "musicbrainz_trackid",
    "replaygain_track_gain": "replaygain_track_gain",
    "replaygain_track_peak": "replaygain_track_peak",
    "replaygain_album_gain": "replaygain_album_gain",
    "replaygain_album_peak": "replaygain_album_peak",
    "isrc": "isrc",
    "albumartist": "albumartist",
    "album artist": "albumartist",
    "compilation": "compilation",
    "discsubtitle": "discsubtitle",
    "date": "date",
    "originaldate": "originaldate",
}

_ID3_TEXT = {
    "TIT2": "title", "TPE1": "artist", "TPE2": "albumartist", "TALB": "album", "TRCK": "tracknumber",
    "TPOS": "discnumber", "TCON": "genre", "TSRC": "isrc", "TBPM": "bpm", "TSST": "discsubtitle",
    "TCMP": "compilation", "TDOR": "originaldate", "TORY": "originaldate",
}


def _from_id3(id3: ID3, t: _Tags) -> None:
    for frame in id3.values():
        fid = frame.FrameID
        if fid in _ID3_TEXT:
            if fid == "TCON":
                t.add("genre", list(frame.genres))
            else:
                t.add(_ID3_TEXT[fid], [str(x) for x in frame.text])
        elif fid in ("TDRC", "TYER", "TDAT"):
            t.add("date", [str(x) for x in frame.text])
        elif fid == "TXXX":
            key = _FREEFORM.get(frame.desc.lower())
            if key:
                t.add(key, [str(x) for x in frame.text])
        elif fid == "UFID" and frame.owner == "http://musicbrainz.org":
            t.add("musicbrainz_trackid", frame.data.decode("ascii", "replace"))
        elif fid == "APIC":
            t.pictures.append((frame.type, frame.data))
        elif fid == "USLT":
            t.lyrics.append((frame.text, frame.lang))
        elif fid == "SYLT":
            t.lyrics.append((_sylt_to_lrc(frame), frame.lang))
        elif fid == "COMM" and not frame.desc:
            t.add("comment", [str(x) for x in frame.text])
    if t.first("compilation") in ("1", "true", "True"):
        t.compilation = True


def _sylt_to_lrc(frame: Any) -> str:
    lines = []
    # format 2 = milliseconds; format 1 = MPEG frames, which we cannot place without the frame rate.
    for text, ms in frame.text:
        if frame.format != 2:
            continue
        lines.append(f"[{ms // 60000:02d}:{(ms % 60000) / 1000:05.2f}]{text.strip()}")
    return "\n".join(lines)


def _from_vorbis(f: Any, t: _Tags) -> None:
    comments: dict[str, Any] = {}  # lower-cased key -> list of values
    if isinstance(f.tags, VCommentDict):
        # In one pass, in file order: mutagen's as_dict() walks every comment once per key (a fifth of our
        # own reading time) and orders the keys by a set, differently in each process.
        for k, v in f.tags:
            comments.setdefault(k.lower(), []).append(v)
    elif f.tags is not None:
        comments = f.tags.as_dict()
    for k, vals in comments.items():
        if k == "metadata_block_picture":
            for b64 in vals if isinstance(vals, list) else [vals]:
                try:
                    pic = Picture(base64.b64decode(b64))
                    t.pictures.append((pic.type, pic.data))
                except Exception:
                    continue
        elif k in ("lyrics", "unsyncedlyrics", "syncedlyrics"):
            t.lyrics.extend((v, None) for v in (vals if isinstance(vals, list) else [vals]))
        else:
            t.add(k, vals)
    if isinstance(f, FLAC):
        for pic in f.pictures:
            t.pictures.append((pic.type, pic.data))
    if t.first("compilation") in ("1", "true", "True"):
        t.compilation = True


def _from_mp4(f: MP4, t: _Tags) -> None:
    tags = f.tags or {}
    simple = {"\xa9nam": "title", "\xa9ART": "artist", "aART": "albumartist", "\xa9alb": "album",
              "\xa9day": "date", "\xa9gen": "genre", "\xa9cmt": "comment", "\xa9grp": "grouping"}
    for atom, key in simple.items():
        if atom in tags:
            t.add(key, [str(v) for v in tags[atom]])
    if tags.get("trkn"):
        n, tot = tags["trkn"][0]
        t.add("tracknumber", f"{n}/{tot}" if tot else str(n))
    if tags.get("disk"):
        n, tot = tags["disk"][0]
        t.add("discnumber", f"{n}/{tot}" if tot else str(n))
    if tags.get("tmpo"):
        t.add("bpm", str(tags["tmpo"][0]))
    if tags.get("cpil"):
        t.compilation = bool(tags["cpil"])
    for pic in tags.get("covr", []):
        t.pictures.append((3, bytes(pic)))
    t.lyrics.extend((str(v), None) for v in tags.get("\xa9lyr", []))
    for atom, vals in tags.items():
        if atom.startswith("----:"):
            name = atom.split(":", 2)[-1].lower()
            key = _FREEFORM.get(name)
            if key:
                t.add(key, [bytes(v).decode("utf-8", "replace") for v in vals])


def _format_of(f: Any) -> str:
    if isinstance(f, MP3):
        return "mp3"
    if isinstance(f, FLAC):
        return "flac"
    if isinstance(f, OggOpus):
        return "opus"
    if isinstance(f, OggVorbis):
        return "ogg"
    if isinstance(f, MP4):
        return "m4a"
    if isinstance(f, WAVE):
        return "wav"
    if isinstance(f, AIFF):
        return "aiff"
    return type(f).__name__.lower()


def _front_cover(pictures: list[tuple[int, bytes]]) -> bytes | None:
    if not pictures:
        return None
    for ptype, data in pictures:
        if ptype == 3:  # front cover
            return data
    return pictures[0][1]


def _lyrics(t: _Tags, lrc_path: str | None) -> list[Lyrics]:
    """The file's lyrics, the main ones first: a sidecar .lrc wins over everything embedded; embedded
    lyrics give one entry per language (USLT/SYLT frames carry one), synced preferred over plain."""
    if lrc_path:
        try:
            raw = Path(lrc_path).read_bytes()
            text = raw.decode("utf-8-sig") if raw[:3] == b"\xef\xbb\xbf" else raw.decode("utf-8", "replace")
            if text.strip():
                return [Lyrics(text=text, synced=is_synced(text), source="lrc", lang=lrc_language(text))]
        except OSError:
            pass
    by_lang: dict[str | None, str] = {}
    for text, lang in t.lyrics:
        if not text or not text.strip():
            continue
        key = normalise_language(lang)
        if key not in by_lang or (is_synced(text) and not is_synced(by_lang[key])):
            by_lang[key] = text
    found = [Lyrics(text=x, synced=is_synced(x), source="embedded", lang=k) for k, x in by_lang.items()]
    # The main lyrics (first) are synced ones when there are (tag order says nothing about which is main).
    return sorted(found, key=lambda ly: not ly.synced)


def _float(v: str | None) -> float | None:
    try:
        return float(v) if v is not None else None
    except ValueError:
        return None


def _int(v: str | None) -> int | None:
    try:
        return int(float(v)) if v else None
    except ValueError:
        return None


# Opening by extension skips mutagen.File's probing of every format (a third of the read time);
# a file whose content does not match its extension falls back to probing.
def _mp3(filething: Any) -> MP3:
    f = MP3(filething, translate=False)
    if isinstance(f.tags, ID3) and f.tags.version < (2, 4, 0):
        f.tags.update_to_v24()  # what MP3() does by default; a v2.4 tag needs none of it (a tenth of its parse)
    return f


_BY_EXT: dict[str, Any] = {".mp3": _mp3, ".flac": FLAC, ".ogg": OggVorbis, ".oga": OggVorbis, ".opus": OggOpus,
                           ".m4a": MP4, ".m4b": MP4, ".mp4": MP4}


def _open(path: str, fh: BinaryIO | None = None) -> Any:
    """The mutagen object of `path`, read through `fh` when given (one open per file: opening a file
    costs as much as parsing a FLAC header here)."""
    cls = _BY_EXT.get(os.path.splitext(path)[1].lower())
    if cls is not None:
        try:
            return cls(fh or path)
        except Exception:
            pass
    if fh is None:
        return mutagen.File(path)
    fh.seek(0)
    return mutagen.File(fh)


def read_track(path: str, size: int, mtime_ns: int, covers_dir: Path, lrc_path: str | None = None) -> ScannedTrack:
    """Read tags, stream info, embedded cover and lyrics of one file; ReadError when it is not audio."""
    if size == 0:
        raise ReadError("empty file (0 bytes)")
    try:
        fh = open(path, "rb")  # noqa: SIM115 (closed below, after the fingerprint is read through it too)
    except OSError as e:
        raise ReadError(f"unreadable: {e.strerror or e}") from None
    with fh:
        return _read(fh, path, size, mtime_ns, covers_dir, lrc_path)


def _read(fh: BinaryIO, path: str, size: int, mtime_ns: int, covers_dir: Path, lrc_path: str | None) -> ScannedTrack:
    try:
        f = _open(path, fh)
    except ID3NoHeaderError as e:
        raise ReadError(f"no audio stream: {e}") from None
    except Exception as e:  # mutagen raises many types for damaged files; each is a per-file failure
        raise ReadError(f"unreadable: {type(e).__name__}: {e}") from None
    if f is None:
        raise ReadError("not a recognised audio format")
    info = getattr(f, "info", None)
    length = float(getattr(info, "length", 0) or 0)
    if info is None or length <= 0:
        raise ReadError("no audio stream (zero duration)")

    t = _Tags()
    fmt = _format_of(f)
    if isinstance(f, MP4):
        _from_mp4(f, t)
    elif isinstance(f.tags, ID3):
        _from_id3(f.tags, t)
    elif f.tags is not None or isinstance(f, FLAC):
        _from_vorbis(f, t)

    title = t.first("title") or os.path.splitext(os.path.basename(path))[0]
    artist_tag = t.first("artist")
    names = split_artists(artist_tag, t.all("artists"))
    if not names:
        names = ["Unknown Artist"]
    artist_mbids = t.all("musicbrainz_artistid")
    credits = [
        ArtistCredit(name=n, role="main" if i == 0 else "featured",
                     mbid=artist_mbids[i] if i < len(artist_mbids) else None)
        for i, n in enumerate(names)
    ]
    track_no, track_total = parse_number_pair(t.first("tracknumber"))
    disc_no, disc_total = parse_number_pair(t.first("discnumber"))
    track_total = track_total or _int(t.first("tracktotal", "totaltracks"))
    disc_total = disc_total or _int(t.first("disctotal", "totaldiscs"))
    year, date = parse_year(t.first("date", "year", "originaldate"))

    cover: CoverRef | None = None
    if (data := _front_cover(t.pictures)) is not None:
        cover = store_image(covers_dir, data, "embedded")

    rg_track = parse_gain(t.first("replaygain_track_gain"))
    rg_album = parse_gain(t.first("replaygain_album_gain"))
    if rg_track is None and (r128 := _int(t.first("r128_track_gain"))) is not None:
        rg_track = r128 / 256 + 5.0  # Opus R128 gain is Q7.8 relative to -23 LUFS; ReplayGain is -18
    if rg_album is None and (r128 := _int(t.first("r128_album_gain"))) is not None:
        rg_album = r128 / 256 + 5.0

    bitrate = getattr(info, "bitrate", 0) or 0
    lyrics = _lyrics(t, lrc_path)
    return ScannedTrack(
        path=path, size=size, mtime_ns=mtime_ns, fingerprint=_fingerprint(fh, size), format=fmt,
        title=title, artist=artist_tag or names[0], artists=credits,
        album=t.first("album") or "Unknown Album",
        album_artist=t.first("albumartist"), album_artist_mbid=t.first("musicbrainz_albumartistid"),
        compilation=t.compilation,
        track_number=track_no, track_total=track_total, disc_number=disc_no, disc_total=disc_total,
        disc_subtitle=t.first("discsubtitle"), year=year, release_date=date,
        genres=split_genres(t.all("genre")), duration=round(length, 3),
        bitrate=round(bitrate / 1000) if bitrate else None,
        sample_rate=getattr(info, "sample_rate", None) or None,
        channels=getattr(info, "channels", None) or None,
        bit_depth=getattr(info, "bits_per_sample", None) or None,
        isrc=t.first("isrc"), mbid_recording=t.first("musicbrainz_trackid"),
        mbid_release_track=t.first("musicbrainz_releasetrackid"), mbid_album=t.first("musicbrainz_albumid"),
        rg_track_gain=rg_track, rg_track_peak=_float(t.first("replaygain_track_peak")),
        rg_album_gain=rg_album, rg_album_peak=_float(t.first("replaygain_album_peak")),
        bpm=_int(t.first("bpm")), comment=t.first("comment"), cover=cover,
        lyrics=lyrics[0] if lyrics else None, more_lyrics=lyrics[1:],
    )


def probe(path: str) -> tuple[str, float, int | None]:
    """Format, duration (s) and bitrate (kbps) of a file fetched from elsewhere (a podcast episode);
    ReadError when it is not audio, whatever its name or the server that sent it said."""
    try:
        f = _open(path)
    except Exception as e:  # mutagen raises many types for damaged files
        raise ReadError(f"unreadable: {type(e).__name__}: {e}") from None
    info = getattr(f, "info", None) if f is not None else None
    length = float(getattr(info, "length", 0) or 0)
    if f is None or info is None or length <= 0:
        raise ReadError("not audio")
    bitrate = getattr(info, "bitrate", None)
    return _format_of(f), length, round(bitrate / 1000) if bitrate else None
