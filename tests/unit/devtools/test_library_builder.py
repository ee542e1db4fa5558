"""The generated libraries are real files whose tags match the ground truth the builder reports."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
from pathlib import Path
from typing import Any

import mutagen
import pytest
from mutagen.aiff import AIFF
from mutagen.flac import FLAC, Picture
from mutagen.id3 import ID3
from mutagen.mp3 import MP3
from mutagen.mp4 import MP4
from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis
from mutagen.wave import WAVE

from musicd.devtools.library_builder import (
    FORMATS,
    BuiltLibrary,
    ExpectedTrack,
    build_bulk_library,
    build_demo_library,
    build_test_library,
    demo_tracks,
    encode_tone,
    write_tags,
)

_CLASSES: dict[str, type[Any]] = {
    "mp3": MP3,
    "flac": FLAC,
    "ogg": OggVorbis,
    "opus": OggOpus,
    "m4a": MP4,
    "wav": WAVE,
    "aiff": AIFF,
}


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("templates")


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> BuiltLibrary:
    return build_test_library(tmp_path_factory.mktemp("lib"), cache_dir=cache_dir)


def _open(path: Path) -> Any:
    audio = mutagen.File(path)
    assert audio is not None, path
    return audio


def _tag(audio: Any, fmt: str, id3: str, vorbis: str, mp4: str) -> list[str]:
    """Text values of one logical tag, whatever the container."""
    tags = audio.tags
    if tags is None:
        return []
    if fmt in ("mp3", "wav", "aiff"):
        frames = tags.getall(id3)
        # USLT keeps a single string where text frames keep a list.
        return [str(v) for f in frames for v in ([f.text] if isinstance(f.text, str) else f.text)]
    if fmt == "m4a":
        value = tags.get(mp4, [])
        values = value if isinstance(value, list) else [value]  # cpil is a bare bool
        return [v.decode() if isinstance(v, bytes) else str(v) for v in values]
    return list(tags.get(vorbis, []))


def _title(audio: Any, fmt: str) -> str:
    return _tag(audio, fmt, "TIT2", "title", "©nam")[0]


def _snapshot(path: Path) -> list[tuple[str, str]]:
    """A comparable rendering of every tag, including binary ones (hashed)."""
    audio = _open(path)
    out: list[tuple[str, str]] = []
    if audio.tags is not None:
        for key, value in audio.tags.items():
            rendered = repr(value)
            out.append((str(key), hashlib.sha256(rendered.encode()).hexdigest()))
    if isinstance(audio, FLAC):
        out += [("picture", hashlib.sha256(p.data).hexdigest()) for p in audio.pictures]
    return sorted(out)


def test_size_and_format_coverage(library: BuiltLibrary) -> None:
    assert 30 <= len(library.tracks) <= 40
    assert {t.format for t in library.tracks} == set(FORMATS)
    assert len({t.path for t in library.tracks}) == len(library.tracks)
    for rel in (*library.broken, *library.ignored, *(t.path for t in library.tracks)):
        assert (library.root / rel).is_file(), rel


def test_every_good_file_opens_with_expected_title_and_duration(library: BuiltLibrary) -> None:
    for t in library.tracks:
        audio = _open(library.root / t.path)
        assert isinstance(audio, _CLASSES[t.format]), t.path
        assert _title(audio, t.format) == t.title, t.path
        assert audio.info.length == pytest.approx(t.duration, abs=0.01), t.path
        assert 1.9 <= t.duration <= 4.2, t.path


def test_mp3_tags_are_id3v24(library: BuiltLibrary) -> None:
    for t in library.tracks:
        if t.format == "mp3":
            assert ID3(library.root / t.path).version == (2, 4, 0), t.path


def test_broken_files_do_not_parse(library: BuiltLibrary) -> None:
    assert len(library.broken) >= 5
    for rel in library.broken:
        try:
            audio: Any = mutagen.File(library.root / rel)
        except Exception:
            continue
        assert audio is None or not audio.info.length, rel


def test_ignored_files(library: BuiltLibrary) -> None:
    names = {Path(p).name for p in library.ignored}
    assert {"cover.jpg", "notes.txt", ".DS_Store"} <= names
    assert any(p.endswith(".lrc") for p in library.ignored)
    hidden = [p for p in library.ignored if p.startswith(".hidden/")]
    assert hidden and all(_open(library.root / p) is not None for p in hidden)
    assert not {t.path for t in library.tracks} & set(library.ignored)


def test_albums_grouping(library: BuiltLibrary) -> None:
    albums = library.albums()
    assert ("R.E.M.", "Greatest Hits") in albums
    assert ("AC/DC", "Greatest Hits") in albums
    assert "AC_DC/Greatest Hits/" in albums[("AC/DC", "Greatest Hits")][0].path
    va = albums[("Various Artists", "Summer Mix 2020")]
    assert all(t.compilation and t.album_artist == "Various Artists" for t in va)
    assert len({t.artist for t in va}) == len(va)
    untagged = albums[("Various Artists", "Late Night Tunes")]
    assert all(t.compilation and t.album_artist is None for t in untagged)
    discs = albums[("Aurora Symphonic", "The Four Seasons Suite")]
    assert [(t.disc, t.track) for t in discs] == [(1, 1), (1, 2), (2, 1), (2, 2)]
    assert all("/Disc " in t.path and t.disc_total == 2 for t in discs)
    flat = albums[("Night Drive", "Double Feature")]
    assert [Path(t.path).name[:4] for t in flat] == ["1-01", "1-02", "2-01", "2-02"]
    assert sum(len(v) for v in albums.values()) == len(library.tracks)


def test_feature_coverage(library: BuiltLibrary) -> None:
    tracks = library.tracks
    text = " ".join(t.artist + t.title + t.album for t in tracks)
    for sample in ("Été Çiçek", "Röyksopp", "東京", "서울", "Звёзд", "Θάλασσα", "R.E.M.", "AC/DC", "a-ha"):
        assert sample in text, sample
    assert {t.cover for t in tracks} == {"embedded", "folder", None}
    assert {t.lyrics for t in tracks} == {"lrc", "embedded_unsynced", "embedded_synced", None}
    assert all(t.lyrics_first_line for t in tracks if t.lyrics)
    assert any(len(t.genres) > 1 for t in tracks)
    assert any(not t.genres and t.year is None for t in tracks)
    assert any(t.track and t.track_total for t in tracks)
    assert any(t.track and not t.track_total for t in tracks)
    assert any(t.mbid_recording and t.mbid_album and t.mbid_artist for t in tracks)
    assert any(t.isrc for t in tracks)
    assert any(t.replaygain_track_gain is not None and t.replaygain_album_gain is not None for t in tracks)
    assert any(len(t.artists) > 1 for t in tracks)


def test_featured_artists_tags(library: BuiltLibrary) -> None:
    with_tag, without_tag = set(), set()
    for t in library.tracks:
        if len(t.artists) < 2:
            continue
        assert " feat. " in t.artist
        audio = _open(library.root / t.path)
        values = _tag(audio, t.format, "TXXX:ARTISTS", "artists", "----:com.apple.iTunes:ARTISTS")
        if values:
            assert tuple(values) == t.artists, t.path
            with_tag.add(t.format)
        else:
            without_tag.add(t.path)
    assert {"mp3", "flac", "m4a"} <= with_tag
    assert len(without_tag) == 1


def test_container_specific_tags(library: BuiltLibrary) -> None:
    root = library.root
    for t in library.tracks:
        audio = _open(root / t.path)
        assert _tag(audio, t.format, "TALB", "album", "©alb") == [t.album]
        assert _tag(audio, t.format, "TCON", "genre", "©gen") == list(t.genres)
        if t.compilation:
            flag = _tag(audio, t.format, "TCMP", "compilation", "cpil")
            assert flag in (["1"], ["True"]), t.path
        if t.mbid_recording and t.format in ("mp3", "wav", "aiff"):
            assert audio.tags["UFID:http://musicbrainz.org"].data == t.mbid_recording.encode()
        if t.replaygain_track_gain is not None:
            gain = _tag(
                audio,
                t.format,
                "TXXX:REPLAYGAIN_TRACK_GAIN",
                "replaygain_track_gain",
                "----:com.apple.iTunes:replaygain_track_gain",
            )
            assert gain == [f"{t.replaygain_track_gain:.2f} dB"], t.path
        if t.lyrics == "embedded_synced":
            sylt = audio.tags.getall("SYLT")
            assert sylt and sylt[0].text[0][0] == t.lyrics_first_line
        if t.lyrics == "embedded_unsynced":
            lyr = _tag(audio, t.format, "USLT", "lyrics", "©lyr")
            assert lyr and lyr[0].splitlines()[0] == t.lyrics_first_line, t.path
        if t.lyrics == "lrc":
            lrc = (root / t.path).with_suffix(".lrc").read_text(encoding="utf-8")
            assert "[ar:" in lrc and "[ti:" in lrc and f"]{t.lyrics_first_line}\n" in lrc


def _embedded_cover(audio: Any) -> bytes | None:
    if isinstance(audio, FLAC):
        return audio.pictures[0].data if audio.pictures else None
    if isinstance(audio, MP4):
        covr = audio.tags.get("covr") if audio.tags is not None else None
        return bytes(covr[0]) if covr else None
    if isinstance(audio, OggVorbis | OggOpus):
        blocks = audio.tags.get("metadata_block_picture") if audio.tags is not None else None
        return Picture(base64.b64decode(blocks[0])).data if blocks else None
    apic = audio.tags.getall("APIC") if audio.tags is not None else []
    return apic[0].data if apic else None


def test_covers(library: BuiltLibrary) -> None:
    by_album: dict[tuple[str, str], set[bytes]] = {}
    for t in library.tracks:
        data = _embedded_cover(_open(library.root / t.path))
        folder = (library.root / t.path).parent
        has_folder = any((d / "cover.jpg").exists() for d in (folder, folder.parent))
        assert (data is not None) == (t.cover == "embedded"), t.path
        if t.cover == "folder":
            assert has_folder, t.path
        if data is not None:
            by_album.setdefault(t.album_key, set()).add(data)
    assert any(
        t.cover == "embedded" and (library.root / t.path).parent.joinpath("cover.jpg").exists()
        for t in library.tracks
    ), "one album should have both kinds of cover"
    images = [next(iter(v)) for v in by_album.values() if len(v) == 1]
    assert len(images) != len(set(images)), "two albums should share identical cover bytes"


def test_deterministic(library: BuiltLibrary, tmp_path: Path) -> None:
    again = build_test_library(tmp_path / "again")  # fresh templates, not the shared cache
    assert again.tracks == library.tracks
    assert again.broken == library.broken
    assert again.ignored == library.ignored
    for t in library.tracks:
        assert _snapshot(again.root / t.path) == _snapshot(library.root / t.path), t.path
        assert (again.root / t.path).read_bytes() == (library.root / t.path).read_bytes(), t.path


def test_write_tags_retags_and_keeps_embedded_cover(tmp_path: Path, library: BuiltLibrary) -> None:
    for t in library.tracks:
        if t.cover != "embedded":
            continue
        dest = tmp_path / Path(t.path).name
        dest.write_bytes((library.root / t.path).read_bytes())
        changed = dataclasses.replace(t, title=t.title + " (edit)", genres=("Edited",))
        write_tags(dest, changed)
        audio = _open(dest)
        assert _title(audio, t.format) == changed.title
        assert _tag(audio, t.format, "TCON", "genre", "©gen") == ["Edited"]
        assert _embedded_cover(audio) is not None, t.path
        write_tags(dest, dataclasses.replace(changed, cover=None))
        assert _embedded_cover(_open(dest)) is None, t.path


def test_bulk_library_is_many_real_files_with_ties_and_spellings(tmp_path: Path, cache_dir: Path) -> None:
    lib = build_bulk_library(tmp_path / "a", albums=8, tracks_per_album=6, cache_dir=cache_dir)
    assert len(lib.tracks) == 48 and len(lib.albums()) == 8
    for t in lib.tracks:
        audio = _open(lib.root / t.path)
        assert isinstance(audio, _CLASSES[t.format]), t.path
        assert _title(audio, t.format) == t.title, t.path
        assert _tag(audio, t.format, "TCON", "genre", "\xa9gen") == list(t.genres), t.path
    genres = {g for t in lib.tracks for g in t.genres}
    assert {g.lower() for g in genres} != genres, "some genre should be spelt in lower case too"
    assert any(t.disc == 2 for t in lib.tracks) and any(t.cover == "folder" for t in lib.tracks)
    again = build_bulk_library(tmp_path / "b", albums=8, tracks_per_album=6, cache_dir=cache_dir)
    assert again.tracks == lib.tracks
    for t in lib.tracks:
        assert (lib.root / t.path).read_bytes() == (again.root / t.path).read_bytes(), t.path


@pytest.mark.parametrize("fmt", FORMATS)
def test_encode_tone(tmp_path: Path, fmt: str) -> None:
    dest = tmp_path / f"tone.{fmt}"
    encode_tone(dest, fmt, 1.0, freq=330.0)
    audio = _open(dest)
    assert isinstance(audio, _CLASSES[fmt])
    assert audio.info.length == pytest.approx(1.0, abs=0.1)
    t = ExpectedTrack(
        path=dest.name,
        title="Tone",
        artist="A feat. B",
        artists=("A", "B"),
        album="Tones",
        album_artist=None,
        compilation=True,
        track=1,
        track_total=None,
        disc=None,
        disc_total=None,
        year=None,
        genres=(),
        format=fmt,
        duration=1.0,
    )
    write_tags(dest, t, artists_tag=False)
    assert _title(_open(dest), fmt) == "Tone"


def check_demo_files(root: Path, tracks: tuple[ExpectedTrack, ...]) -> None:
    """The demo library's files under `root` are the planned tracks: 3 albums in flac, mp3 and ogg, lyrics
    for some, each file tagged with its title and 20-40 s long. Checked on the library `scripts/run` writes
    with `musicd demo-library` (tests/integration/test_scripts_run.py): synthesising it takes ~20 CPU-s."""
    assert len({(t.album_artist, t.album) for t in tracks}) == 3
    assert {t.format for t in tracks} == {"flac", "mp3", "ogg"}
    assert any(t.lyrics == "lrc" for t in tracks)
    for t in tracks:
        audio = _open(root / t.path)
        assert _title(audio, t.format) == t.title
        assert 20 <= audio.info.length <= 40.5
        assert t.genres and t.year and t.cover


def test_demo_library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Progress, the plan and the tags; each piece's synthesis is replaced by a 1 s tone here (the real
    pieces are checked by check_demo_files in the scripts/run test, which makes them anyway)."""
    import musicd.devtools.library_builder as builder

    monkeypatch.setattr(builder, "_render_tune", lambda dest, fmt, tune, seed: encode_tone(dest, fmt, 1.0))
    calls: list[tuple[int, int]] = []
    lib = build_demo_library(tmp_path / "demo", progress=lambda done, total: calls.append((done, total)))
    assert calls[0] == (0, len(lib.tracks)) and calls[-1] == (len(lib.tracks), len(lib.tracks))
    assert len(calls) == len(lib.tracks) + 1
    assert len(lib.albums()) == 3
    assert [dataclasses.replace(t, duration=0) for t in lib.tracks] == [
        dataclasses.replace(t, duration=0) for t in demo_tracks()]
    for t in lib.tracks:
        audio = _open(lib.root / t.path)
        assert _title(audio, t.format) == t.title
        assert t.genres and t.year and t.cover
    assert all((lib.root / p).is_file() for p in lib.ignored)
