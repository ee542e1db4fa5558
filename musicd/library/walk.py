"""Walk library folders: audio files with their size and mtime, .lrc sidecars, folder covers."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from musicd.library.artwork import COVER_EXTS, COVER_NAMES

__all__ = ["AUDIO_EXTENSIONS", "FileStat", "WalkResult", "walk_folder"]

# Here rather than in reader.py, the only mutagen importer: the server walks and schedules scans but
# never reads a tag itself (its scan workers do), so it need not import mutagen.
AUDIO_EXTENSIONS = frozenset(
    {".mp3", ".flac", ".ogg", ".oga", ".opus", ".m4a", ".m4b", ".mp4", ".aac", ".wav", ".aif", ".aiff",
     ".aifc", ".wma", ".wv", ".ape", ".mpc"}
)

_DISC_DIR = re.compile(r"^(?:disc|disk|cd)\s*[-_.]?\s*\d+\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class FileStat:
    size: int
    mtime_ns: int  # the later of the audio file's and its .lrc sidecar's, so a new sidecar re-reads the track
    lrc: str | None


@dataclass
class WalkResult:
    files: dict[str, FileStat] = field(default_factory=dict)
    covers: dict[str, str] = field(default_factory=dict)  # directory -> best folder image in it
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # (directory, reason)

    def folder_cover(self, audio_path: str) -> str | None:
        """The folder image for a file: beside it, or one level up when it sits in a `Disc N` folder."""
        d = os.path.dirname(audio_path)
        if d in self.covers:
            return self.covers[d]
        if _DISC_DIR.match(os.path.basename(d)):
            return self.covers.get(os.path.dirname(d))
        return None


def walk_folder(root: str) -> WalkResult:
    """Every audio file under `root`, skipping hidden entries; symlinked folders are followed once."""
    out = WalkResult()
    seen_dirs: set[tuple[int, int]] = set()
    stack = [root]
    while stack:
        d = stack.pop()
        try:
            st = os.stat(d)
            if (st.st_dev, st.st_ino) in seen_dirs:
                continue
            seen_dirs.add((st.st_dev, st.st_ino))
            with os.scandir(d) as it:
                entries = list(it)
        except OSError as e:
            out.unreadable.append((d, e.strerror or str(e)))
            continue
        audio, lrcs, covers = [], {}, {}
        for e in entries:
            if e.name.startswith("."):
                continue
            try:
                if e.is_dir():
                    stack.append(e.path)
                    continue
            except OSError:
                continue
            stem, ext = os.path.splitext(e.name)
            ext = ext.lower()
            if ext in AUDIO_EXTENSIONS:
                audio.append(e)
            elif ext == ".lrc":
                lrcs[stem] = e
            elif ext in COVER_EXTS and stem.lower() in COVER_NAMES:
                covers[stem.lower()] = e.path
        for name in COVER_NAMES:
            if name in covers:
                out.covers[d] = covers[name]
                break
        for e in audio:
            try:
                st = e.stat()
            except OSError as err:
                out.unreadable.append((e.path, err.strerror or str(err)))
                continue
            mtime = st.st_mtime_ns
            lrc = lrcs.get(os.path.splitext(e.name)[0])
            if lrc is not None:
                try:
                    mtime = max(mtime, lrc.stat().st_mtime_ns)
                except OSError:
                    lrc = None
            out.files[e.path] = FileStat(st.st_size, mtime, lrc.path if lrc is not None else None)
    return out
