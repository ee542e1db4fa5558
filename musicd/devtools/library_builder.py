"""Generate small but *real* music libraries for tests and for the demo.

Audio is produced by the ``ffmpeg`` binary and tags are written with mutagen, so the files are what a
scanner meets in the wild (ID3v2.4, Vorbis comments, MP4 atoms, ID3 chunks in WAV/AIFF) rather than
hand-crafted byte strings. Every good file comes with an :class:`ExpectedTrack` holding the ground truth a
scanner is expected to recover.

To stay fast, :func:`build_test_library` encodes one short template per (format, duration) and then copies
and retags it; the whole test library builds in about a second.
"""

from __future__ import annotations

import base64
import io
import math
import os
import random
import re
import shutil
import subprocess
import tempfile
import threading
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import mutagen
from mutagen.aiff import AIFF
from mutagen.flac import FLAC, Picture
from mutagen.id3 import (
    APIC,
    ID3,
    SYLT,
    TALB,
    TCMP,
    TCON,
    TDRC,
    TIT2,
    TPE1,
    TPE2,
    TPOS,
    TRCK,
    TSRC,
    TXXX,
    UFID,
    USLT,
    ID3NoHeaderError,
    PictureType,
)
from mutagen.mp4 import MP4, MP4Cover, MP4FreeForm
from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis
from mutagen.wave import WAVE
from PIL import Image, ImageDraw, ImageFont

__all__ = [
    "FORMATS",
    "BuiltLibrary",
    "ExpectedTrack",
    "build_bulk_library",
    "build_demo_library",
    "build_test_library",
    "demo_tracks",
    "encode_tone",
    "write_tags",
]

FORMATS: tuple[str, ...] = ("mp3", "flac", "ogg", "opus", "m4a", "wav", "aiff")

_EXTENSIONS: dict[str, str] = {fmt: fmt for fmt in FORMATS}

# Low bitrates keep the test library tiny; the demo library overrides these for listenable quality.
_TEST_CODEC_ARGS: dict[str, list[str]] = {
    "mp3": ["-c:a", "libmp3lame", "-b:a", "64k", "-f", "mp3"],
    "flac": ["-c:a", "flac", "-f", "flac"],
    "ogg": ["-c:a", "libvorbis", "-q:a", "0", "-f", "ogg"],
    # Opus only supports a handful of sample rates; 48 kHz avoids a silent resample inside libopus.
    "opus": ["-c:a", "libopus", "-b:a", "32k", "-ar", "48000", "-f", "opus"],
    # The ipod muxer writes the 'M4A ' brand that iTunes-style files carry.
    "m4a": ["-c:a", "aac", "-b:a", "64k", "-f", "ipod"],
    "wav": ["-c:a", "pcm_s16le", "-f", "wav"],
    "aiff": ["-c:a", "pcm_s16be", "-f", "aiff"],
}
_DEMO_CODEC_ARGS: dict[str, list[str]] = {
    **_TEST_CODEC_ARGS,
    "mp3": ["-c:a", "libmp3lame", "-q:a", "2", "-f", "mp3"],
    "ogg": ["-c:a", "libvorbis", "-q:a", "5", "-f", "ogg"],
    "opus": ["-c:a", "libopus", "-b:a", "128k", "-ar", "48000", "-f", "opus"],
    "m4a": ["-c:a", "aac", "-b:a", "192k", "-f", "ipod"],
}

_MB_NAMESPACE = uuid.UUID("6b0f2b8e-4b59-4c1a-9f0e-2f6d0c1c2a10")
_MB_UFID_OWNER = "http://musicbrainz.org"
_ITUNES = "----:com.apple.iTunes:"
_VARIOUS_ARTISTS = "Various Artists"


# --------------------------------------------------------------------------------------------------
# Public data model
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExpectedTrack:
    """Ground truth for one good audio file of a built library."""

    path: str  # relative to the library root, POSIX separators
    title: str
    artist: str  # the ARTIST tag string, e.g. "A feat. B"
    artists: tuple[str, ...]  # the individual artists, e.g. ("A", "B")
    album: str
    album_artist: str | None
    compilation: bool
    track: int | None
    track_total: int | None
    disc: int | None
    disc_total: int | None
    year: int | None
    genres: tuple[str, ...]
    format: str  # one of FORMATS
    duration: float  # seconds, as read back with mutagen from the encoded file
    mbid_recording: str | None = None
    mbid_album: str | None = None
    mbid_artist: str | None = None
    isrc: str | None = None
    replaygain_track_gain: float | None = None
    replaygain_album_gain: float | None = None
    cover: str | None = None  # "embedded" | "folder" | None; embedded wins when both exist
    lyrics: str | None = None  # "lrc" | "embedded_unsynced" | "embedded_synced" | None
    lyrics_first_line: str | None = None  # first lyric text line, without timestamp

    @property
    def album_key(self) -> tuple[str, str]:
        """Key under which a scanner should group this track into an album."""
        if self.album_artist:
            return (self.album_artist, self.album)
        if self.compilation:
            return (_VARIOUS_ARTISTS, self.album)
        return (self.artists[0] if self.artists else self.artist, self.album)


@dataclass(frozen=True)
class BuiltLibrary:
    """A library written to disk together with its ground truth."""

    root: Path
    tracks: tuple[ExpectedTrack, ...]
    broken: tuple[str, ...]  # relative paths a scanner must report as failed
    ignored: tuple[str, ...]  # relative paths a scanner must skip silently

    def track(self, path: str) -> ExpectedTrack:
        """Ground truth for ``path`` (relative, POSIX); KeyError if it is not a good track."""
        wanted = unicodedata.normalize("NFC", path)
        for t in self.tracks:
            if t.path == wanted:
                return t
        raise KeyError(path)

    def albums(self) -> dict[tuple[str, str], list[ExpectedTrack]]:
        """Group tracks by ``(album artist, album)``.

        The album artist is the ALBUMARTIST tag, or "Various Artists" for compilations without one, or the
        first track artist for ordinary albums that lack the tag. Tracks are ordered by disc, track, path.
        """
        out: dict[tuple[str, str], list[ExpectedTrack]] = {}
        for t in self.tracks:
            out.setdefault(t.album_key, []).append(t)
        for tracks in out.values():
            tracks.sort(key=lambda t: (t.disc or 0, t.track or 0, t.path))
        return out


# --------------------------------------------------------------------------------------------------
# Encoding
# --------------------------------------------------------------------------------------------------


def _ffmpeg() -> str:
    exe = shutil.which("ffmpeg")
    if exe is None:
        raise RuntimeError("ffmpeg not found on PATH; it is needed to generate audio fixtures")
    return exe


def _encode(
    dest: Path,
    fmt: str,
    source: str,
    *,
    filters: str | None = None,
    channels: int = 1,
    codec_args: dict[str, list[str]] = _TEST_CODEC_ARGS,
) -> None:
    if fmt not in codec_args:
        raise ValueError(f"unsupported format {fmt!r}; expected one of {FORMATS}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    # Encode next to the destination and rename: a shared template cache may be read by another
    # process (pytest-xdist) while we write, and it must never see a half-written file.
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.{threading.get_ident()}.part")
    cmd = [_ffmpeg(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", source]
    if filters:
        cmd += ["-af", filters]
    # bitexact + no copied metadata makes output byte-for-byte reproducible (no encoder version tags,
    # no random Ogg serial numbers), which the determinism guarantee relies on.
    cmd += ["-ac", str(channels), "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:a", "+bitexact"]
    cmd += [*codec_args[fmt], str(tmp)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"ffmpeg failed encoding {dest.name}: {proc.stderr.strip()}")
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def encode_tone(dest: Path, fmt: str, seconds: float, freq: float = 440.0) -> None:
    """Encode a mono sine tone of ``seconds`` at ``freq`` Hz into ``dest`` as ``fmt`` (one of FORMATS).

    The file carries no tags; use :func:`write_tags` afterwards.
    """
    source = f"sine=frequency={freq:g}:sample_rate=44100:duration={seconds:g}"
    _encode(Path(dest), fmt, source)


class _Templates:
    """Encodes each (format, seconds) tone once, so tracks are cheap copies."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    def path(self, fmt: str, seconds: float) -> Path:
        return self.directory / f"tone-{seconds:.2f}s.{_EXTENSIONS[fmt]}"

    def prepare(self, wanted: Iterable[tuple[str, float]]) -> None:
        missing = sorted({w for w in wanted if not self.path(*w).exists()})
        if not missing:
            return
        with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
            futures = [pool.submit(encode_tone, self.path(fmt, s), fmt, s) for fmt, s in missing]
            for fut in futures:
                fut.result()


def _read_duration(path: Path) -> float:
    audio = mutagen.File(path)
    if audio is None or audio.info is None:
        raise RuntimeError(f"mutagen cannot read back {path}")
    return round(float(audio.info.length), 6)


# --------------------------------------------------------------------------------------------------
# Tag writing
# --------------------------------------------------------------------------------------------------

_LRC_LINE = re.compile(r"^((?:\[\d+:\d+(?:[.:]\d+)?\])+)(.*)$")
_LRC_STAMP = re.compile(r"\[(\d+):(\d+)(?:[.:](\d+))?\]")


def _parse_lrc(text: str) -> list[tuple[str, int]]:
    """Return (line, milliseconds) pairs of an LRC document, in time order."""
    out: list[tuple[str, int]] = []
    for raw in text.splitlines():
        m = _LRC_LINE.match(raw.strip())
        if not m:
            continue
        for mm, ss, frac in _LRC_STAMP.findall(m.group(1)):
            ms = (int(mm) * 60 + int(ss)) * 1000 + (int(frac.ljust(3, "0")[:3]) if frac else 0)
            out.append((m.group(2).strip(), ms))
    out.sort(key=lambda p: p[1])
    return out


def _strip_lrc(text: str) -> str:
    """Plain lyric text of an LRC document (headers and timestamps removed)."""
    return "\n".join(line for line, _ in _parse_lrc(text))


def _number(n: int | None, total: int | None) -> str | None:
    if n is None:
        return None
    return f"{n}/{total}" if total else str(n)


def _gain(db: float) -> str:
    return f"{db:.2f} dB"


def _wants_artists_tag(t: ExpectedTrack) -> bool:
    return tuple(t.artists) != (t.artist,)


def _album_artist_mbid(t: ExpectedTrack) -> str | None:
    # The artist id only identifies the album artist when both are the same person.
    return t.mbid_artist if t.album_artist and t.album_artist == t.artist else None


def write_tags(
    path: Path,
    t: ExpectedTrack,
    *,
    cover: tuple[str, bytes] | None = None,
    lyrics_text: str | None = None,
    artists_tag: bool = True,
) -> None:
    """Replace the tags of the existing audio file ``path`` with those described by ``t``.

    ``t.format`` selects the tag flavour (ID3v2.4 for mp3/wav/aiff, Vorbis comments for flac/ogg/opus,
    MP4 atoms for m4a). ``t.path`` and ``t.duration`` are ignored.

    ``cover`` is ``(mime, bytes)`` embedded as the front cover. When it is None an already embedded cover is
    kept if ``t.cover == "embedded"`` and removed otherwise. ``lyrics_text`` follows ``t.lyrics``: plain
    text for "embedded_unsynced", an LRC document for "embedded_synced" (an ID3 SYLT frame for ID3 formats,
    LRC text in LYRICS/©lyr elsewhere) and for "lrc" (written as a sidecar ``.lrc`` next to the file).
    When it is None, existing embedded lyrics are kept if ``t.lyrics`` says they are embedded.

    A multi-valued ARTISTS tag is written when ``t.artists`` differs from ``(t.artist,)``, unless
    ``artists_tag`` is False (to produce files a scanner has to split "A feat. B" on its own).
    """
    path = Path(path)
    keep_cover = cover is None and t.cover == "embedded"
    keep_lyrics = lyrics_text is None and (t.lyrics or "").startswith("embedded")
    embedded_lyrics = lyrics_text if (t.lyrics or "").startswith("embedded") else None
    fmt = t.format
    if fmt in ("mp3", "wav", "aiff"):
        _write_id3(path, t, cover, embedded_lyrics, artists_tag, keep_cover, keep_lyrics)
    elif fmt in ("flac", "ogg", "opus"):
        _write_vorbis(path, t, cover, embedded_lyrics, artists_tag, keep_cover, keep_lyrics)
    elif fmt == "m4a":
        _write_mp4(path, t, cover, embedded_lyrics, artists_tag, keep_cover, keep_lyrics)
    else:
        raise ValueError(f"unsupported format {fmt!r}")
    if t.lyrics == "lrc" and lyrics_text is not None:
        path.with_suffix(".lrc").write_text(lyrics_text, encoding="utf-8")


def _write_id3(
    path: Path,
    t: ExpectedTrack,
    cover: tuple[str, bytes] | None,
    lyrics: str | None,
    artists_tag: bool,
    keep_cover: bool,
    keep_lyrics: bool,
) -> None:
    container: Any = None
    if t.format == "mp3":
        try:
            tags: Any = ID3(path)
        except ID3NoHeaderError:
            tags = ID3()
    else:
        container = WAVE(path) if t.format == "wav" else AIFF(path)
        if container.tags is None:
            container.add_tags()
        tags = container.tags

    kept = (("APIC",) if keep_cover else ()) + (("USLT", "SYLT") if keep_lyrics else ())
    for key in list(tags.keys()):
        if not (kept and key.startswith(kept)):
            del tags[key]

    tags.add(TIT2(encoding=3, text=[t.title]))
    tags.add(TPE1(encoding=3, text=[t.artist]))
    if artists_tag and _wants_artists_tag(t):
        tags.add(TXXX(encoding=3, desc="ARTISTS", text=list(t.artists)))
    tags.add(TALB(encoding=3, text=[t.album]))
    if t.album_artist:
        tags.add(TPE2(encoding=3, text=[t.album_artist]))
    if t.compilation:
        tags.add(TCMP(encoding=3, text=["1"]))
    if (trck := _number(t.track, t.track_total)) is not None:
        tags.add(TRCK(encoding=3, text=[trck]))
    if (tpos := _number(t.disc, t.disc_total)) is not None:
        tags.add(TPOS(encoding=3, text=[tpos]))
    if t.year is not None:
        tags.add(TDRC(encoding=3, text=[str(t.year)]))
    if t.genres:
        tags.add(TCON(encoding=3, text=list(t.genres)))
    if t.mbid_recording:
        tags.add(UFID(owner=_MB_UFID_OWNER, data=t.mbid_recording.encode("ascii")))
    if t.mbid_album:
        tags.add(TXXX(encoding=3, desc="MusicBrainz Album Id", text=[t.mbid_album]))
    if t.mbid_artist:
        tags.add(TXXX(encoding=3, desc="MusicBrainz Artist Id", text=[t.mbid_artist]))
    if aa_mbid := _album_artist_mbid(t):
        tags.add(TXXX(encoding=3, desc="MusicBrainz Album Artist Id", text=[aa_mbid]))
    if t.isrc:
        tags.add(TSRC(encoding=3, text=[t.isrc]))
    if t.replaygain_track_gain is not None:
        tags.add(TXXX(encoding=3, desc="REPLAYGAIN_TRACK_GAIN", text=[_gain(t.replaygain_track_gain)]))
    if t.replaygain_album_gain is not None:
        tags.add(TXXX(encoding=3, desc="REPLAYGAIN_ALBUM_GAIN", text=[_gain(t.replaygain_album_gain)]))
    if cover is not None:
        mime, data = cover
        tags.add(APIC(encoding=3, mime=mime, type=PictureType.COVER_FRONT, desc="", data=data))
    if lyrics is not None:
        if t.lyrics == "embedded_synced":
            # format=2: timestamps in milliseconds; type=1: the content is lyrics.
            tags.add(SYLT(encoding=3, lang="eng", format=2, type=1, desc="", text=_parse_lrc(lyrics)))
        else:
            tags.add(USLT(encoding=3, lang="eng", desc="", text=lyrics))

    if container is None:
        tags.save(path, v2_version=4)
    else:
        container.save(v2_version=4)


def _picture(cover: tuple[str, bytes]) -> Picture:
    mime, data = cover
    pic = Picture()
    pic.type = PictureType.COVER_FRONT
    pic.mime = mime
    pic.desc = ""
    pic.data = data
    with Image.open(io.BytesIO(data)) as img:
        pic.width, pic.height = img.size
        pic.depth = 24
    return pic


def _write_vorbis(
    path: Path,
    t: ExpectedTrack,
    cover: tuple[str, bytes] | None,
    lyrics: str | None,
    artists_tag: bool,
    keep_cover: bool,
    keep_lyrics: bool,
) -> None:
    audio: Any
    if t.format == "flac":
        audio = FLAC(path)
        if audio.tags is None:
            audio.add_tags()
        if not keep_cover:
            audio.clear_pictures()
    else:
        audio = OggVorbis(path) if t.format == "ogg" else OggOpus(path)

    kept = ({"METADATA_BLOCK_PICTURE"} if keep_cover else set()) | ({"LYRICS"} if keep_lyrics else set())
    old = {k.upper(): list(v) for k, v in audio.tags.as_dict().items() if k.upper() in kept}
    audio.tags.clear()
    tags: dict[str, list[str]] = dict(old)

    tags["TITLE"] = [t.title]
    tags["ARTIST"] = [t.artist]
    if artists_tag and _wants_artists_tag(t):
        tags["ARTISTS"] = list(t.artists)
    tags["ALBUM"] = [t.album]
    if t.album_artist:
        tags["ALBUMARTIST"] = [t.album_artist]
    if t.compilation:
        tags["COMPILATION"] = ["1"]
    # Both numbering conventions exist in the wild: Ogg Vorbis files get "3/12" in TRACKNUMBER, FLAC and
    # Opus get separate TRACKTOTAL/DISCTOTAL fields. Scanners must understand both.
    if t.format == "ogg":
        if (trck := _number(t.track, t.track_total)) is not None:
            tags["TRACKNUMBER"] = [trck]
        if (tpos := _number(t.disc, t.disc_total)) is not None:
            tags["DISCNUMBER"] = [tpos]
    else:
        if t.track is not None:
            tags["TRACKNUMBER"] = [str(t.track)]
        if t.track_total is not None:
            tags["TRACKTOTAL"] = [str(t.track_total)]
        if t.disc is not None:
            tags["DISCNUMBER"] = [str(t.disc)]
        if t.disc_total is not None:
            tags["DISCTOTAL"] = [str(t.disc_total)]
    if t.year is not None:
        tags["DATE"] = [str(t.year)]
    if t.genres:
        tags["GENRE"] = list(t.genres)
    if t.mbid_recording:
        tags["MUSICBRAINZ_TRACKID"] = [t.mbid_recording]
    if t.mbid_album:
        tags["MUSICBRAINZ_ALBUMID"] = [t.mbid_album]
    if t.mbid_artist:
        tags["MUSICBRAINZ_ARTISTID"] = [t.mbid_artist]
    if aa_mbid := _album_artist_mbid(t):
        tags["MUSICBRAINZ_ALBUMARTISTID"] = [aa_mbid]
    if t.isrc:
        tags["ISRC"] = [t.isrc]
    if t.replaygain_track_gain is not None:
        tags["REPLAYGAIN_TRACK_GAIN"] = [_gain(t.replaygain_track_gain)]
    if t.replaygain_album_gain is not None:
        tags["REPLAYGAIN_ALBUM_GAIN"] = [_gain(t.replaygain_album_gain)]
    if lyrics is not None:
        tags["LYRICS"] = [lyrics]
    if cover is not None:
        pic = _picture(cover)
        if t.format == "flac":
            audio.add_picture(pic)
        else:
            tags["METADATA_BLOCK_PICTURE"] = [base64.b64encode(pic.write()).decode("ascii")]

    for key, values in tags.items():
        audio.tags[key] = values
    audio.save()


def _freeform(values: Iterable[str]) -> list[MP4FreeForm]:
    return [MP4FreeForm(v.encode("utf-8")) for v in values]


def _write_mp4(
    path: Path,
    t: ExpectedTrack,
    cover: tuple[str, bytes] | None,
    lyrics: str | None,
    artists_tag: bool,
    keep_cover: bool,
    keep_lyrics: bool,
) -> None:
    audio: Any = MP4(path)
    if audio.tags is None:
        audio.add_tags()
    tags = audio.tags
    kept = ({"covr"} if keep_cover else set()) | ({"©lyr"} if keep_lyrics else set())
    for key in list(tags.keys()):
        if key not in kept:
            del tags[key]

    tags["©nam"] = [t.title]
    tags["©ART"] = [t.artist]
    if artists_tag and _wants_artists_tag(t):
        tags[_ITUNES + "ARTISTS"] = _freeform(t.artists)
    tags["©alb"] = [t.album]
    if t.album_artist:
        tags["aART"] = [t.album_artist]
    if t.compilation:
        tags["cpil"] = True
    if t.track is not None:
        tags["trkn"] = [(t.track, t.track_total or 0)]
    if t.disc is not None:
        tags["disk"] = [(t.disc, t.disc_total or 0)]
    if t.year is not None:
        tags["©day"] = [str(t.year)]
    if t.genres:
        tags["©gen"] = list(t.genres)
    if t.mbid_recording:
        tags[_ITUNES + "MusicBrainz Track Id"] = _freeform([t.mbid_recording])
    if t.mbid_album:
        tags[_ITUNES + "MusicBrainz Album Id"] = _freeform([t.mbid_album])
    if t.mbid_artist:
        tags[_ITUNES + "MusicBrainz Artist Id"] = _freeform([t.mbid_artist])
    if aa_mbid := _album_artist_mbid(t):
        tags[_ITUNES + "MusicBrainz Album Artist Id"] = _freeform([aa_mbid])
    if t.isrc:
        tags[_ITUNES + "ISRC"] = _freeform([t.isrc])
    if t.replaygain_track_gain is not None:
        tags[_ITUNES + "replaygain_track_gain"] = _freeform([_gain(t.replaygain_track_gain)])
    if t.replaygain_album_gain is not None:
        tags[_ITUNES + "replaygain_album_gain"] = _freeform([_gain(t.replaygain_album_gain)])
    if cover is not None:
        mime, data = cover
        kind = MP4Cover.FORMAT_PNG if mime == "image/png" else MP4Cover.FORMAT_JPEG
        tags["covr"] = [MP4Cover(data, imageformat=kind)]
    if lyrics is not None:
        tags["©lyr"] = [lyrics]
    audio.save()


# --------------------------------------------------------------------------------------------------
# Images
# --------------------------------------------------------------------------------------------------


def _image_bytes(img: Image.Image, fmt: str) -> tuple[str, bytes]:
    buf = io.BytesIO()
    if fmt == "png":
        img.save(buf, format="PNG", optimize=False)
        return ("image/png", buf.getvalue())
    img.convert("RGB").save(buf, format="JPEG", quality=85)
    return ("image/jpeg", buf.getvalue())


def _gradient(size: int, top: tuple[int, int, int], bottom: tuple[int, int, int]) -> Image.Image:
    # Build one column and stretch it: per-pixel Python loops would dominate the build time.
    column = Image.new("RGB", (1, size))
    for y in range(size):
        f = y / max(1, size - 1)
        column.putpixel((0, y), tuple(round(a + (b - a) * f) for a, b in zip(top, bottom, strict=True)))
    return column.resize((size, size))


def _test_cover(color: tuple[int, int, int], fmt: str = "png") -> tuple[str, bytes]:
    """A small, recognisable cover: a gradient from ``color`` to black with a white diagonal."""
    img = _gradient(64, color, (0, 0, 0))
    ImageDraw.Draw(img).line([(0, 63), (63, 0)], fill=(255, 255, 255), width=3)
    return _image_bytes(img, fmt)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow < 10.1 or built without FreeType: fixed bitmap font
        return ImageFont.load_default()


def _demo_cover(album: str, artist: str, top: tuple[int, int, int], bottom: tuple[int, int, int]) -> bytes:
    size = 600
    img = _gradient(size, top, bottom)
    draw = ImageDraw.Draw(img)
    # A few soft circles so the covers are not just flat gradients.
    rng = random.Random(album)
    for _ in range(6):
        r = rng.randint(40, 160)
        x, y = rng.randint(0, size), rng.randint(0, size)
        shade = tuple(min(255, c + 40) for c in top)
        draw.ellipse([x - r, y - r, x + r, y + r], outline=shade, width=4)
    big, small = _font(54), _font(30)
    draw.text((size // 2, size - 150), album, font=big, fill=(255, 255, 255), anchor="mm")
    draw.text((size // 2, size - 90), artist, font=small, fill=(235, 235, 235), anchor="mm")
    return _image_bytes(img, "jpeg")[1]


# --------------------------------------------------------------------------------------------------
# Test library
# --------------------------------------------------------------------------------------------------


def _safe(name: str) -> str:
    """A path component that is valid on every common filesystem ("AC/DC" -> "AC_DC")."""
    name = re.sub(r'[/\\:*?"<>|]', "_", name)
    return unicodedata.normalize("NFC", name)


def _mbid(kind: str, key: str) -> str:
    return str(uuid.uuid5(_MB_NAMESPACE, f"{kind}:{key}"))


@dataclass(frozen=True)
class _Song:
    title: str
    number: int | None
    fmt: str | None = None  # defaults to the album format
    artist: str | None = None  # ARTIST tag; defaults to the album artist
    artists: tuple[str, ...] | None = None  # individual artists; defaults to (artist,)
    artists_tag: bool = True
    disc: int | None = None
    stem: str | None = None  # file name without extension, relative to the album folder
    lyrics: str | None = None  # kind, see ExpectedTrack.lyrics
    lyrics_text: str | None = None
    genres: tuple[str, ...] | None = None  # overrides the album genres
    no_year: bool = False
    isrc: str | None = None


@dataclass(frozen=True)
class _Album:
    folder: str
    album: str
    artist: str  # default track artist
    album_artist: str | None
    fmt: str
    seconds: float
    songs: tuple[_Song, ...]
    year: int | None = None
    genres: tuple[str, ...] = ()
    compilation: bool = False
    track_total: bool = True
    disc_total: int | None = None
    embedded: tuple[str, bytes] | None = None
    folder_cover: tuple[str, bytes] | None = None
    mbids: bool = False
    replaygain: tuple[float, float] | None = None  # (first track gain, album gain)


@dataclass
class _Plan:
    track: ExpectedTrack
    seconds: float
    cover: tuple[str, bytes] | None = None
    lyrics_text: str | None = None
    artists_tag: bool = True


def _plan_album(a: _Album) -> list[_Plan]:
    plans: list[_Plan] = []
    for i, s in enumerate(a.songs):
        fmt = s.fmt or a.fmt
        artist = s.artist or a.artist
        artists = s.artists or (artist,)
        if s.stem is not None:
            stem = s.stem
        elif s.number is None:
            stem = _safe(s.title)
        else:
            stem = f"{s.number:02d} {_safe(s.title)}"
        rel = f"{a.folder}/{stem}.{_EXTENSIONS[fmt]}"
        first_line = None
        if s.lyrics_text is not None:
            lines = _strip_lrc(s.lyrics_text) if s.lyrics in ("lrc", "embedded_synced") else s.lyrics_text
            first_line = next((ln.strip() for ln in lines.splitlines() if ln.strip()), None)
        cover_kind = "embedded" if a.embedded else ("folder" if a.folder_cover else None)
        rg_track = rg_album = None
        if a.replaygain is not None:
            rg_track, rg_album = a.replaygain[0] - 0.75 * i, a.replaygain[1]
        t = ExpectedTrack(
            path=unicodedata.normalize("NFC", rel),
            title=s.title,
            artist=artist,
            artists=artists,
            album=a.album,
            album_artist=a.album_artist,
            compilation=a.compilation,
            track=s.number,
            track_total=len([x for x in a.songs if x.disc == s.disc]) if a.track_total and s.number else None,
            disc=s.disc,
            disc_total=a.disc_total if s.disc is not None else None,
            year=None if s.no_year else a.year,
            genres=a.genres if s.genres is None else s.genres,
            format=fmt,
            duration=a.seconds,
            mbid_recording=_mbid("recording", rel) if a.mbids else None,
            mbid_album=_mbid("release", a.folder) if a.mbids else None,
            mbid_artist=_mbid("artist", artists[0]) if a.mbids else None,
            isrc=s.isrc,
            replaygain_track_gain=rg_track,
            replaygain_album_gain=rg_album,
            cover=cover_kind,
            lyrics=s.lyrics,
            lyrics_first_line=first_line,
        )
        plans.append(_Plan(t, a.seconds, a.embedded, s.lyrics_text, s.artists_tag))
    return plans


def _lrc(artist: str, title: str, lines: Sequence[str], step: float = 0.5) -> str:
    head = [f"[ar:{artist}]", f"[ti:{title}]", "[by:musicd library_builder]", ""]
    body = []
    for i, line in enumerate(lines):
        at = i * step
        body.append(f"[{int(at // 60):02d}:{at % 60:05.2f}]{line}")
    return "\n".join(head + body) + "\n"


def _test_albums() -> list[_Album]:
    shared = _test_cover((200, 40, 40), "png")  # embedded in two albums: a content-hash store dedupes it
    return [
        _Album(
            folder="Röyksopp/Melody A.M. (2001)",
            album="Melody A.M.",
            artist="Röyksopp",
            album_artist="Röyksopp",
            fmt="flac",
            seconds=3.0,
            year=2001,
            genres=("Electronic", "Downtempo"),
            embedded=shared,
            mbids=True,
            replaygain=(-6.5, -7.25),
            songs=(
                _Song("Northern Lights", 1, isrc="NOA010100001"),
                _Song(
                    "Fjord Song",
                    2,
                    lyrics="embedded_unsynced",
                    lyrics_text="Cold water under a silver sky\nThe fjord is singing\nAnd so am I\n",
                    isrc="NOA010100002",
                ),
                _Song(
                    "Midnight Sun",
                    3,
                    artist="Röyksopp feat. Kari Nordmann",
                    artists=("Röyksopp", "Kari Nordmann"),
                ),
                _Song("Polar Drift", 4),
            ),
        ),
        _Album(
            folder="Été Çiçek/Chansons d'été",
            album="Chansons d'été",
            artist="Été Çiçek",
            album_artist="Été Çiçek",
            fmt="mp3",
            seconds=2.5,
            year=2015,
            genres=("Chanson",),
            folder_cover=_test_cover((240, 200, 40), "jpeg"),
            mbids=True,
            replaygain=(-4.0, -4.5),
            songs=(
                _Song(
                    "Où est l'été?",
                    1,
                    lyrics="embedded_unsynced",
                    lyrics_text="Où est l'été, mon cœur?\nLe soleil s'est caché\n",
                    isrc="FRZ011500001",
                ),
                _Song(
                    "Çà et là",
                    2,
                    artist="Été Çiçek feat. Zoë Ångström",
                    artists=("Été Çiçek", "Zoë Ångström"),
                    lyrics="embedded_synced",
                    lyrics_text=_lrc("Été Çiçek", "Çà et là", ["Çà et là, ici et là", "Toujours là"]),
                ),
                _Song(
                    "Crème brûlée",
                    3,
                    lyrics="lrc",
                    lyrics_text=_lrc(
                        "Été Çiçek", "Crème brûlée", ["Sucre et feu sur la crème", "Brûlée, brûlée", "Fin"]
                    ),
                ),
            ),
        ),
        _Album(
            folder="山田花子/東京の夜",
            album="東京の夜",
            artist="山田花子",
            album_artist="山田花子",
            fmt="m4a",
            seconds=3.0,
            year=2019,
            genres=("J-Pop", "City Pop"),
            embedded=_test_cover((40, 160, 220), "jpeg"),
            mbids=True,
            replaygain=(-8.0, -8.25),
            songs=(
                _Song("夜明け", 1, isrc="JPA011900001"),
                _Song("桜の道", 2, artist="山田花子 feat. 王芳", artists=("山田花子", "王芳")),
                _Song(
                    "雨の日",
                    3,
                    lyrics="embedded_unsynced",
                    lyrics_text="雨が降る\n静かな夜に\n",
                ),
            ),
        ),
        _Album(
            folder="김민수/서울 이야기",
            album="서울 이야기",
            artist="김민수",
            album_artist="김민수",
            fmt="opus",
            seconds=2.0,
            year=2021,
            genres=("K-Indie",),
            track_total=False,
            songs=(_Song("첫눈", 1), _Song("한강", 2)),
        ),
        _Album(
            folder="Виктор Орлов/Звёздная ночь",
            album="Звёздная ночь",
            artist="Виктор Орлов",
            album_artist="Виктор Орлов",
            fmt="ogg",
            seconds=3.5,
            year=1988,
            genres=("Rock",),
            embedded=_test_cover((120, 40, 200), "png"),
            folder_cover=_test_cover((40, 200, 120), "jpeg"),
            songs=(
                _Song("Звезда", 1),
                _Song(
                    "Дорога домой",
                    2,
                    lyrics="lrc",
                    lyrics_text=_lrc("Виктор Орлов", "Дорога домой", ["Дорога домой", "Длинная ночь"]),
                ),
                _Song("Зима", 3),
            ),
        ),
        _Album(
            folder="Ελένη Παπαδοπούλου/Θάλασσα",
            album="Θάλασσα",
            artist="Ελένη Παπαδοπούλου",
            album_artist="Ελένη Παπαδοπούλου",
            fmt="wav",
            seconds=2.0,
            year=2010,
            genres=("Greek Folk",),
            embedded=shared,
            songs=(_Song("Κύματα", 1), _Song("Ήλιος", 2)),
        ),
        _Album(
            folder="R.E.M./Greatest Hits",
            album="Greatest Hits",
            artist="R.E.M.",
            album_artist="R.E.M.",
            fmt="mp3",
            seconds=3.0,
            year=2003,
            genres=("Alternative Rock", "Rock"),
            folder_cover=_test_cover((60, 60, 230), "jpeg"),
            songs=(_Song("Southern Static", 1), _Song("Athens Rain", 2)),
        ),
        _Album(
            folder="AC_DC/Greatest Hits",
            album="Greatest Hits",
            artist="AC/DC",
            album_artist="AC/DC",
            fmt="aiff",
            seconds=2.0,
            year=2004,
            genres=("Hard Rock",),
            embedded=_test_cover((230, 120, 0), "png"),
            mbids=True,
            songs=(_Song("Thunder Road Blues", 1), _Song("High Voltage Hum", 2)),
        ),
        _Album(
            # Ordinary album without an ALBUMARTIST tag: a scanner falls back to the track artist.
            folder="a-ha/Hunting High and Low",
            album="Hunting High and Low",
            artist="a-ha",
            album_artist=None,
            fmt="ogg",
            seconds=2.5,
            year=1985,
            genres=("Synth-pop", "Pop"),
            track_total=False,
            songs=(_Song("Take Me Home", 1), _Song("Sun Always Sets", 2)),
        ),
        _Album(
            folder="Various Artists/Summer Mix 2020",
            album="Summer Mix 2020",
            artist="DJ Solaris",
            album_artist="Various Artists",
            compilation=True,
            fmt="mp3",
            seconds=2.5,
            year=2020,
            genres=("Dance",),
            folder_cover=_test_cover((255, 140, 180), "jpeg"),
            songs=(
                _Song("Sunshine", 1, artist="DJ Solaris"),
                _Song(
                    "Waves",
                    2,
                    fmt="flac",
                    artist="Marina Bay feat. Coral Reef",
                    artists=("Marina Bay", "Coral Reef"),
                ),
                _Song("Heatwave", 3, fmt="m4a", artist="The Sandcastles"),
                # No ARTISTS tag: a scanner has to split "feat." itself.
                _Song(
                    "Last Dance", 4, artist="Nova feat. Stella", artists=("Nova", "Stella"), artists_tag=False
                ),
            ),
        ),
        _Album(
            # Compilation flag but no album artist tag at all.
            folder="Compilations/Late Night Tunes",
            album="Late Night Tunes",
            artist="Quiet Trio",
            album_artist=None,
            compilation=True,
            fmt="flac",
            seconds=3.0,
            year=2018,
            genres=("Jazz", "Lounge"),
            songs=(
                _Song("Blue Hour", 1, artist="Quiet Trio"),
                _Song("Smoke Rings", 2, fmt="opus", artist="Lena Marsh"),
                # No track number, no genre, no year.
                _Song("After Midnight", None, artist="The Owls", genres=(), no_year=True),
            ),
        ),
        _Album(
            folder="Aurora Symphonic/The Four Seasons Suite",
            album="The Four Seasons Suite",
            artist="Aurora Symphonic",
            album_artist="Aurora Symphonic",
            fmt="mp3",
            seconds=4.0,
            year=2012,
            genres=("Classical",),
            disc_total=2,
            folder_cover=_test_cover((180, 180, 180), "jpeg"),  # in the album folder, above Disc N/
            songs=(
                _Song("Spring", 1, disc=1, stem="Disc 1/01 Spring"),
                _Song("Summer", 2, disc=1, stem="Disc 1/02 Summer"),
                _Song("Autumn", 1, disc=2, stem="Disc 2/01 Autumn"),
                _Song("Winter", 2, disc=2, stem="Disc 2/02 Winter"),
            ),
        ),
        _Album(
            folder="Night Drive/Double Feature",
            album="Double Feature",
            artist="Night Drive",
            album_artist="Night Drive",
            fmt="flac",
            seconds=2.0,
            year=2017,
            genres=("Synthwave", "Electronic"),
            disc_total=2,
            embedded=_test_cover((20, 220, 220), "png"),
            replaygain=(-9.0, -9.5),
            songs=(
                _Song("Neon Highway", 1, disc=1, stem="1-01 Neon Highway"),
                _Song("Tail Lights", 2, disc=1, stem="1-02 Tail Lights"),
                _Song("Overpass", 1, disc=2, stem="2-01 Overpass"),
                _Song("Dawn Exit", 2, disc=2, stem="2-02 Dawn Exit"),
            ),
        ),
        _Album(
            # The web player's end-to-end test searches "hone", plays "Home", seeks in it and follows its
            # synced lyrics: its LRC lines are 0.6 s apart, so a seek lands on a known line.
            folder="Ósk Harbour/Heimkoma",
            album="Heimkoma",
            artist="Ósk Harbour",
            album_artist="Ósk Harbour",
            fmt="ogg",
            seconds=4.0,
            year=2022,
            genres=("Pop",),
            embedded=_test_cover((230, 90, 60), "jpeg"),
            songs=(
                _Song(
                    "Home",
                    1,
                    lyrics="lrc",
                    lyrics_text=_lrc(
                        "Ósk Harbour",
                        "Home",
                        ["Home is where the kettle sings", "Lamplight on the harbour wall",
                         "Every road bends back to you", "Open the door, the fire is lit", "Home", "Home again"],
                        step=0.6,
                    ),
                ),
            ),
        ),
    ]


def _garbage(seed: str, size: int) -> bytes:
    # No 0xFF bytes: random data would otherwise contain MPEG frame syncs that lenient parsers
    # (ffprobe, mutagen's MP3 sync search) might mistake for audio.
    rng = random.Random(seed)
    return bytes(rng.randrange(0, 0xFF) for _ in range(size))


def _materialise(root: Path, plans: Sequence[_Plan], templates: _Templates) -> list[ExpectedTrack]:
    out: list[ExpectedTrack] = []
    for plan in plans:
        t = plan.track
        dest = root / t.path
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(templates.path(t.format, plan.seconds), dest)
        write_tags(dest, t, cover=plan.cover, lyrics_text=plan.lyrics_text, artists_tag=plan.artists_tag)
        out.append(replace(t, duration=_read_duration(dest)))
    return out


def build_test_library(root: Path, *, cache_dir: Path | None = None) -> BuiltLibrary:
    """Write the scanner test library under ``root`` and return its ground truth.

    About 40 good tracks in every supported format, with unicode names, compilations, multi-disc albums,
    same-named albums, featured artists, covers, lyrics, ReplayGain and MusicBrainz tags, plus broken and
    ignorable files. ``cache_dir`` keeps the encoded tone templates between calls (safe to share between
    processes); by default they live in a temporary directory removed on return. The output is
    deterministic: two builds produce byte-identical files.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    albums = _test_albums()
    plans = [p for a in albums for p in _plan_album(a)]

    with tempfile.TemporaryDirectory(prefix="musicd-templates-") as tmp:
        templates = _Templates(Path(cache_dir) if cache_dir is not None else Path(tmp))
        hidden_seconds = 2.0
        templates.prepare([(p.track.format, p.seconds) for p in plans] + [("mp3", hidden_seconds)])
        tracks = _materialise(root, plans, templates)

        ignored: list[str] = []
        for a in albums:
            if a.folder_cover is not None:
                (root / a.folder / "cover.jpg").write_bytes(a.folder_cover[1])
                ignored.append(f"{a.folder}/cover.jpg")
        ignored += [t.path.rsplit(".", 1)[0] + ".lrc" for t in tracks if t.lyrics == "lrc"]

        (root / "notes.txt").write_text("Test library generated by musicd.devtools.library_builder.\n")
        ignored.append("notes.txt")
        # Finder litter: starts with the "Bud1" magic of a real .DS_Store.
        ds_store = "Röyksopp/Melody A.M. (2001)/.DS_Store"
        (root / ds_store).write_bytes(b"\x00\x00\x00\x01Bud1" + bytes(56))
        ignored.append(ds_store)
        # A perfectly valid file, but in a hidden folder that scanners must not descend into.
        hidden = ".hidden/Hidden Track.mp3"
        (root / hidden).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(templates.path("mp3", hidden_seconds), root / hidden)
        write_tags(
            root / hidden,
            ExpectedTrack(
                path=hidden,
                title="Hidden Track",
                artist="Nobody",
                artists=("Nobody",),
                album="Hidden",
                album_artist=None,
                compilation=False,
                track=1,
                track_total=None,
                disc=None,
                disc_total=None,
                year=None,
                genres=(),
                format="mp3",
                duration=hidden_seconds,
            ),
        )
        ignored.append(hidden)

        broken: dict[str, bytes] = {
            "Broken Files/empty.mp3": b"",
            # The first 200 bytes of a real, tagged FLAC: the stream header is fine but the metadata
            # blocks that follow are cut short.
            "Broken Files/truncated.flac": (
                root / next(t.path for t in tracks if t.format == "flac")
            ).read_bytes()[:200],
            "Broken Files/random.ogg": _garbage("ogg", 4096),
            "Broken Files/not really.m4a": b"This is a text file pretending to be an M4A.\n" * 20,
            "Broken Files/id3 garbage.mp3": b"ID3" + _garbage("id3", 2048),
            # A failure inside an otherwise healthy album folder must not take the album down with it.
            "R.E.M./Greatest Hits/03 Corrupt.mp3": b"",
        }
        for rel, data in broken.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_bytes(data)

    return BuiltLibrary(
        root=root,
        tracks=tuple(sorted(tracks, key=lambda t: t.path)),
        broken=tuple(sorted(broken)),
        ignored=tuple(sorted(ignored)),
    )


_BULK_GENRES = ("Ambient", "Blues", "Country", "Disco", "Electronic", "Folk", "Funk", "Jazz", "Metal", "Pop",
                "Punk", "Reggae", "Rock", "Soul", "Techno", "Zydeco")


def _bulk_albums(albums: int, tracks_per_album: int, seed: str) -> list[_Album]:
    rng = random.Random(seed)
    fmts = ("mp3", "flac", "ogg", "opus", "m4a")  # wav/aiff are large and add nothing here
    out: list[_Album] = []
    for i in range(albums):
        artist = f"Bulk Artist {i % 37:02d}"
        # A few albums spell a shared artist or genre in another case: which spelling the catalogue
        # keeps must not depend on which file happened to be stored first.
        spelled = artist.upper() if i % 37 == i % 41 == 5 else artist
        palette = rng.sample(_BULK_GENRES, 4)
        discs = 2 if i % 10 == 3 else 1
        songs = []
        for n in range(tracks_per_album):
            disc = n % discs + 1 if discs > 1 else None
            number = n // discs + 1
            # Tracks carry one or two of the album's genres, in tag order, so counts and first
            # positions tie often: the album's genre order has to break those ties by name.
            genres = tuple(rng.sample(palette, rng.choice((1, 1, 2))))
            if i % 29 == 7 and n == 0:
                genres = tuple(g.lower() for g in genres)
            songs.append(_Song(
                f"Song {number:02d}", number, disc=disc, artist=spelled if n == 1 else None,
                fmt=fmts[(i + n) % len(fmts)] if i % 7 == 0 else None, genres=genres, no_year=n % 11 == 5,
                stem=f"Disc {disc}/{number:02d} Song {number:02d}" if disc else None,
                lyrics="embedded_unsynced" if n % 9 == 4 else None,
                lyrics_text=f"Line one of song {number}\nLine two\n" if n % 9 == 4 else None,
            ))
        cover = _test_cover((rng.randrange(256), rng.randrange(256), rng.randrange(256)), "png")
        out.append(_Album(
            folder=f"{artist}/Bulk Album {i:03d}", album=f"Bulk Album {i:03d}", artist=artist,
            album_artist=artist if i % 4 else None, fmt=fmts[i % len(fmts)], seconds=(0.4, 0.6, 0.8)[i % 3],
            songs=tuple(songs), year=1960 + rng.randrange(60), disc_total=discs if discs > 1 else None,
            embedded=cover if i % 3 == 0 else None, folder_cover=cover if i % 3 == 1 else None,
        ))
    return out


def build_bulk_library(
    root: Path, *, albums: int = 200, tracks_per_album: int = 15, cache_dir: Path | None = None, seed: str = "bulk"
) -> BuiltLibrary:
    """Write many small real files under ``root`` (``albums`` x ``tracks_per_album``) and return their truth.

    For tests that need a scan to take a while (a crash part-way through) and for ties a scanner must
    break the same way every time: shared artists, genres that tie within an album, a few spellings in
    another case, multi-disc albums, embedded and folder covers, years missing on some tracks. Deterministic
    for a given ``seed``; ``cache_dir`` keeps the encoded tone templates as in :func:`build_test_library`.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    plan_albums = _bulk_albums(albums, tracks_per_album, seed)
    plans = [p for a in plan_albums for p in _plan_album(a)]
    with tempfile.TemporaryDirectory(prefix="musicd-templates-") as tmp:
        templates = _Templates(Path(cache_dir) if cache_dir is not None else Path(tmp))
        templates.prepare([(p.track.format, p.seconds) for p in plans])
        tracks = _materialise(root, plans, templates)
    ignored = []
    for a in plan_albums:
        if a.folder_cover is not None:
            (root / a.folder / "cover.jpg").write_bytes(a.folder_cover[1])
            ignored.append(f"{a.folder}/cover.jpg")
    return BuiltLibrary(root=root, tracks=tuple(sorted(tracks, key=lambda t: t.path)), broken=(),
                        ignored=tuple(sorted(ignored)))


# --------------------------------------------------------------------------------------------------
# Demo library: short synthesised pieces that sound like music
# --------------------------------------------------------------------------------------------------

_SCALES: dict[str, tuple[int, ...]] = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
}


@dataclass(frozen=True)
class _Tune:
    title: str
    seconds: float
    root: int  # MIDI note of the tonic (bass register is one octave below)
    scale: str
    bpm: float
    progression: tuple[int, ...]  # scale degree (0-based) of each bar's chord
    lyrics: tuple[str, ...] = ()
    artist: str | None = None
    artists: tuple[str, ...] | None = None


@dataclass(frozen=True)
class _DemoAlbum:
    album: str
    artist: str
    fmt: str
    year: int
    genres: tuple[str, ...]
    colors: tuple[tuple[int, int, int], tuple[int, int, int]]
    cover_in_folder: bool
    tunes: tuple[_Tune, ...]


def _hz(midi: float) -> float:
    return 440.0 * math.pow(2.0, (midi - 69) / 12)


def _degree(tune: _Tune, degree: int) -> int:
    scale = _SCALES[tune.scale]
    return tune.root + 12 * (degree // len(scale)) + scale[degree % len(scale)]


def _select(slot: int, values: Sequence[float], lo: int = 0, hi: int | None = None) -> str:
    """An ffmpeg expression picking ``values[ld(slot)]`` through a balanced if-tree.

    ffmpeg's ``if`` only evaluates the branch taken, so lookup costs O(log n) per sample instead of
    summing one gated term per note.
    """
    hi = len(values) if hi is None else hi
    if hi - lo == 1:
        return f"{values[lo]:.3f}"
    mid = (lo + hi) // 2
    return f"if(lt(ld({slot}),{mid}),{_select(slot, values, lo, mid)},{_select(slot, values, mid, hi)})"


def _nearest_octave(degree: int, prev: int, octave: int) -> int:
    """The octave transposition of ``degree`` closest to ``prev``."""
    return min((degree + k * octave for k in range(4)), key=lambda c: abs(c - prev))


def _melody(tune: _Tune, rng: random.Random, bars: int) -> list[float]:
    """Eighth-note melody (Hz, 0 = rest): chord tones on strong beats, stepwise motion in between."""
    notes: list[float] = []
    scale_len = len(_SCALES[tune.scale])
    deg = scale_len  # start on the tonic, one octave above the root
    for bar in range(bars):
        chord = tune.progression[bar % len(tune.progression)]
        for step in range(8):
            if step == 7 and bar % 2 == 1:
                notes.append(0.0)  # breathe at the end of each two-bar phrase
                continue
            if step in (0, 4):
                target = chord + rng.choice((0, 2, 4))
                # Land on the octave of the chord tone nearest to the previous note: smooth lines.
                deg = _nearest_octave(target, deg, scale_len)
            elif rng.random() < 0.2:
                notes.append(0.0)
                continue
            else:
                deg += rng.choice((-2, -1, -1, 1, 1, 2))
            deg = min(max(deg, scale_len - 2), 2 * scale_len + 2)
            notes.append(_hz(_degree(tune, deg)))
    return notes


def _tune_expression(tune: _Tune, seed: str) -> str:
    """An ``aevalsrc`` expression playing pad chords, a plucked bass and a melody over the progression."""
    rng = random.Random(seed)
    beat = 60.0 / tune.bpm
    n_chords = len(tune.progression)
    pad = [[_hz(_degree(tune, d + k)) for d in tune.progression] for k in (0, 2, 4)]
    bass = [_hz(_degree(tune, d) - 12) for d in tune.progression]
    melody = _melody(tune, rng, bars=2 * n_chords)
    # Slots (ffmpeg offers ten): 0 beat position, 1 chord index then melody Hz, 2 position in bar,
    # 3 melody step, 4 position in step, 5 position in beat, 6-8 pad Hz, 9 bass Hz.
    parts = [
        f"st(0,t/{beat:.6f})",
        f"st(1,mod(floor(ld(0)/4),{n_chords}))",
        "st(2,mod(ld(0)/4,1))",
        f"st(3,mod(floor(ld(0)*2),{len(melody)}))",
        "st(4,mod(ld(0)*2,1))",
        "st(5,mod(ld(0),1))",
        f"st(6,{_select(1, pad[0])})",
        f"st(7,{_select(1, pad[1])})",
        f"st(8,{_select(1, pad[2])})",
        f"st(9,{_select(1, bass)})",
        f"st(1,{_select(3, melody)})",
    ]
    # Envelopes return to zero at every note boundary so frequency jumps never click.
    pad_env = "min(1,ld(2)*12)*min(1,(1-ld(2))*12)"
    pad_sum = "(sin(2*PI*ld(6)*t)+sin(2*PI*ld(7)*t)+sin(2*PI*ld(8)*t*1.002))"
    bass_env = "pow(1-ld(5),2)*min(1,ld(5)*20)"
    bass_sig = "(sin(2*PI*ld(9)*t)+0.3*sin(4*PI*ld(9)*t))"
    mel_env = "pow(1-ld(4),1.5)*min(1,ld(4)*30)"
    mel_sig = "(sin(2*PI*ld(1)*t)+0.3*sin(4*PI*ld(1)*t)+0.1*sin(6*PI*ld(1)*t))"
    intro = f"gte(t,{4 * beat * 2:.3f})"  # the melody enters after two bars of accompaniment
    mix = f"0.07*{pad_sum}*{pad_env}+0.16*{bass_sig}*{bass_env}+0.24*{mel_sig}*{mel_env}*{intro}"
    return ";".join([*parts, mix])


def _tune_lrc(tune: _Tune, artist: str) -> str:
    bar = 4 * 60.0 / tune.bpm
    head = [f"[ar:{artist}]", f"[ti:{tune.title}]", ""]
    body = []
    for i, line in enumerate(tune.lyrics):
        at = (2 + 2 * i) * bar  # a line every two bars, once the melody has entered
        body.append(f"[{int(at // 60):02d}:{at % 60:05.2f}]{line}")
    return "\n".join(head + body) + "\n"


def _demo_albums() -> list[_DemoAlbum]:
    return [
        _DemoAlbum(
            album="Evening Harbor",
            artist="The Paper Lanterns",
            fmt="flac",
            year=2022,
            genres=("Folk", "Acoustic"),
            colors=((235, 140, 60), (60, 40, 110)),
            cover_in_folder=True,
            tunes=(
                _Tune(
                    "Lanterns on the Water",
                    30,
                    57,
                    "major",
                    96,
                    (0, 4, 5, 3),
                    lyrics=(
                        "Lanterns on the water",
                        "Drifting out to sea",
                        "Every little light",
                        "Is coming home to me",
                    ),
                ),
                _Tune("Rope and Tide", 24, 55, "mixolydian", 108, (0, 6, 3, 0)),
                _Tune(
                    "Harbor Lights",
                    34,
                    60,
                    "major",
                    88,
                    (0, 5, 3, 4),
                    lyrics=(
                        "When the harbor lights are low",
                        "And the boats are sleeping",
                        "I will find my way",
                        "Back to you",
                    ),
                ),
                _Tune("Last Ferry", 28, 52, "minor", 92, (0, 5, 2, 6)),
            ),
        ),
        _DemoAlbum(
            album="Glass Garden",
            artist="Mira Solenne",
            fmt="mp3",
            year=2023,
            genres=("Dream Pop", "Electronic"),
            colors=((120, 220, 200), (90, 60, 170)),
            cover_in_folder=False,
            tunes=(
                _Tune("Glass Garden", 36, 62, "dorian", 84, (0, 3, 0, 4)),
                _Tune(
                    "Paper Moons",
                    30,
                    59,
                    "major",
                    100,
                    (0, 4, 5, 3),
                    lyrics=(
                        "Paper moons above the garden",
                        "Folded out of light",
                        "Hold them while they glow",
                        "Let them go tonight",
                    ),
                    artist="Mira Solenne feat. The Paper Lanterns",
                    artists=("Mira Solenne", "The Paper Lanterns"),
                ),
                _Tune("Slow Bloom", 26, 57, "minor", 76, (0, 5, 3, 4)),
                _Tune("Condensation", 22, 64, "mixolydian", 112, (0, 6, 0, 3)),
            ),
        ),
        _DemoAlbum(
            album="Night Signals",
            artist="Coastline Radio",
            fmt="ogg",
            year=2021,
            genres=("Synthwave",),
            colors=((250, 60, 140), (20, 20, 60)),
            cover_in_folder=False,
            tunes=(
                _Tune("Night Signals", 32, 57, "minor", 112, (0, 5, 2, 6)),
                _Tune("Coastal Highway", 38, 55, "dorian", 104, (0, 3, 6, 4)),
                _Tune(
                    "Static Hearts",
                    28,
                    60,
                    "minor",
                    96,
                    (0, 3, 5, 4),
                    lyrics=(
                        "Static in the speakers",
                        "Your voice across the bay",
                        "Tune me in tonight",
                        "Before it fades away",
                    ),
                ),
                _Tune("Afterglow", 24, 53, "major", 90, (0, 4, 3, 0)),
            ),
        ),
    ]


def _render_tune(dest: Path, fmt: str, tune: _Tune, seed: str) -> None:
    fade_out = 2.5
    filters = ",".join(
        [
            # A short multi-tap echo stands in for room reverb; it also lengthens the stream by its tail,
            # hence the trim back to the nominal length before the fades give each piece an ending.
            "aecho=0.8:0.6:90|170:0.25|0.15",
            "volume=2.5",
            "alimiter=limit=0.9:level=false",
            f"atrim=end={tune.seconds:g}",
            "afade=t=in:d=1.5",
            f"afade=t=out:st={tune.seconds - fade_out:.3f}:d={fade_out}",
        ]
    )
    source = f"aevalsrc='{_tune_expression(tune, seed)}':s=44100:d={tune.seconds:g}"
    _encode(dest, fmt, source, filters=filters, channels=2, codec_args=_DEMO_CODEC_ARGS)


_DemoJob = tuple[ExpectedTrack, _Tune, bytes, bool, str | None]  # track, tune, cover, cover in folder, lrc


def _demo_jobs() -> list[_DemoJob]:
    """What the demo library holds, before anything is encoded (durations are the nominal ones)."""
    jobs: list[_DemoJob] = []
    for a in _demo_albums():
        folder = f"{_safe(a.artist)}/{_safe(a.album)} ({a.year})"
        cover = _demo_cover(a.album, a.artist, *a.colors)
        for n, tune in enumerate(a.tunes, start=1):
            rel = f"{folder}/{n:02d} {_safe(tune.title)}.{_EXTENSIONS[a.fmt]}"
            artist = tune.artist or a.artist
            lrc = _tune_lrc(tune, artist) if tune.lyrics else None
            t = ExpectedTrack(
                path=unicodedata.normalize("NFC", rel),
                title=tune.title,
                artist=artist,
                artists=tune.artists or (artist,),
                album=a.album,
                album_artist=a.artist,
                compilation=False,
                track=n,
                track_total=len(a.tunes),
                disc=None,
                disc_total=None,
                year=a.year,
                genres=a.genres,
                format=a.fmt,
                duration=tune.seconds,
                cover="folder" if a.cover_in_folder else "embedded",
                lyrics="lrc" if lrc else None,
                lyrics_first_line=tune.lyrics[0] if tune.lyrics else None,
            )
            jobs.append((t, tune, cover, a.cover_in_folder, lrc))
    return jobs


def demo_tracks() -> tuple[ExpectedTrack, ...]:
    """The tracks `build_demo_library` writes, by path, with their nominal durations (nothing is encoded)."""
    return tuple(sorted((t for t, *_ in _demo_jobs()), key=lambda t: t.path))


def build_demo_library(root: Path, progress: Callable[[int, int], None] | None = None) -> BuiltLibrary:
    """Write a small, pleasant demo library (3 albums × 4 synthesised pieces) under ``root``.

    ``progress(done, total)`` is called once before encoding starts and after each finished track.
    Pieces are encoded in parallel, one ffmpeg process per core.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    jobs = _demo_jobs()
    ignored: list[str] = []
    for t, _, cover, in_folder, lrc in jobs:
        folder = t.path.rsplit("/", 1)[0]
        if in_folder and f"{folder}/cover.jpg" not in ignored:  # one cover per album folder
            (root / folder).mkdir(parents=True, exist_ok=True)
            (root / folder / "cover.jpg").write_bytes(cover)
            ignored.append(f"{folder}/cover.jpg")
        if lrc is not None:
            ignored.append(t.path.rsplit(".", 1)[0] + ".lrc")

    def make(job: _DemoJob) -> ExpectedTrack:
        t, tune, cover, in_folder, lrc = job
        dest = root / t.path
        _render_tune(dest, t.format, tune, seed=t.path)
        write_tags(dest, t, cover=None if in_folder else ("image/jpeg", cover), lyrics_text=lrc)
        return replace(t, duration=_read_duration(dest))

    total = len(jobs)
    if progress is not None:
        progress(0, total)
    tracks: list[ExpectedTrack] = []
    with ThreadPoolExecutor(max_workers=max(1, os.cpu_count() or 1)) as pool:
        for fut in as_completed([pool.submit(make, j) for j in jobs]):
            tracks.append(fut.result())
            if progress is not None:
                progress(len(tracks), total)

    return BuiltLibrary(
        root=root,
        tracks=tuple(sorted(tracks, key=lambda t: t.path)),
        broken=(),
        ignored=tuple(sorted(ignored)),
    )
