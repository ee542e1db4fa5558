"""Frozen domain models shared by every layer."""

from __future__ import annotations

import msgspec

__all__ = [
    "ArtistCredit",
    "CoverRef",
    "KnownFile",
    "Lyrics",
    "ScannedTrack",
    "TrackChange",
    "User",
    "UserRole",
    "UserSettings",
]

UserRole = str  # "admin" | "user" | "guest"


class ArtistCredit(msgspec.Struct, frozen=True):
    """One artist credited on a track, with its role ("main" or "featured") and MusicBrainz id."""

    name: str
    role: str = "main"
    mbid: str | None = None


class CoverRef(msgspec.Struct, frozen=True):
    """An image stored once by content hash in the data dir's covers folder."""

    id: str  # content hash
    mime: str
    width: int | None
    height: int | None
    size: int
    source: str  # "embedded" | "folder" | "upload"


class Lyrics(msgspec.Struct, frozen=True):
    """Lyrics of a track as found: raw text (LRC when synced), where they came from, a language."""

    text: str
    synced: bool
    source: str  # "lrc" | "embedded"
    lang: str | None = None


class ScannedTrack(msgspec.Struct, frozen=True):
    """Everything the scanner read from one audio file, before it is stored."""

    path: str  # absolute path
    size: int
    mtime_ns: int
    fingerprint: str
    format: str
    title: str
    artist: str  # the display string, as tagged ("A feat. B")
    artists: list[ArtistCredit]
    album: str
    album_artist: str | None
    album_artist_mbid: str | None
    compilation: bool
    track_number: int | None
    track_total: int | None
    disc_number: int | None
    disc_total: int | None
    disc_subtitle: str | None
    year: int | None
    release_date: str | None
    genres: list[str]
    duration: float
    bitrate: int | None  # kbps
    sample_rate: int | None
    channels: int | None
    bit_depth: int | None
    isrc: str | None
    mbid_recording: str | None
    mbid_release_track: str | None
    mbid_album: str | None
    rg_track_gain: float | None
    rg_track_peak: float | None
    rg_album_gain: float | None
    rg_album_peak: float | None
    bpm: int | None
    comment: str | None
    cover: CoverRef | None  # embedded front cover
    lyrics: Lyrics | None
    folder_cover: CoverRef | None = None  # cover.jpg & co. beside the file (or above a Disc N folder)
    more_lyrics: list[Lyrics] = []  # the file's lyrics in other languages (`lyrics` is the main)


class UserSettings(msgspec.Struct, frozen=True):
    """Per-user preferences an admin or the user sets; stored as JSON on the user row."""

    default_quality: str = "normal"  # a tier name: low | normal | high | lossless
    download_allowed: bool = True
    share_activity: bool = False  # followers see what this user plays (off unless the user turns it on)
    private_session_until: str | None = None  # ISO time; while in the future, nothing is shared
    podcasts_allowed: bool = False  # may add podcast feeds (admins always may); set by an admin

    def sharing_at(self, now_iso: str) -> bool:
        """Whether followers may see this user's listening at `now_iso` (an ISO time like the stored one)."""
        return self.share_activity and not (self.private_session_until and self.private_session_until > now_iso)


class User(msgspec.Struct, frozen=True):
    """An account of this server."""

    id: str
    username: str
    email: str | None
    display_name: str
    role: UserRole
    disabled: bool
    created_at: str
    settings: UserSettings = UserSettings()


class KnownFile(msgspec.Struct, frozen=True):
    """What the catalogue already knows of a file: enough to tell unchanged, changed and moved apart."""

    track_id: str
    size: int
    mtime_ns: int
    fingerprint: str
    mbid_recording: str | None
    album_id: str


class TrackChange(msgspec.Struct, frozen=True):
    """A file to store: a new track (`new`), or an existing track re-read or moved."""

    track_id: str
    track: ScannedTrack
    new: bool = False
