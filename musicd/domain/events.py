"""Every domain event musicd publishes: one frozen Struct per kind of change, all listed in EVENT_TYPES.

A service publishes one of these on the bus (musicd.services.bus) after each mutation it commits; the
search index, the metrics, the transcoder, the auth caches and the realtime channel follow them. Events
carry ids and small facts, never whole read models: a consumer that needs more reads it.
`at` is when the change happened (POSIX seconds).
"""

from __future__ import annotations

import time

import msgspec

from musicd.domain.models import UserSettings
from musicd.domain.playlists import EditOp

__all__ = [
    "EVENT_TYPES",
    "CoverChange",
    "DetailsChange",
    "DevicesChanged",
    "Event",
    "FollowsChanged",
    "JamChanged",
    "LibraryChanged",
    "PlayEnded",
    "PlayEvent",
    "PlayProgressed",
    "PlayScrobbled",
    "PlayStarted",
    "PlayerStateChanged",
    "PlaylistChanged",
    "PlaylistCollaboratorsChanged",
    "PlaylistCreated",
    "PlaylistDeleted",
    "PlaylistFollowChanged",
    "PlaylistOp",
    "RatingChanged",
    "SavesChanged",
    "ScanDone",
    "ScanProgress",
    "ScanStarted",
    "SessionsRevoked",
    "TracksStored",
    "UserChanged",
    "UserCreated",
    "UserDeleted",
    "UserSettingsChanged",
]


class Event(msgspec.Struct, frozen=True, kw_only=True):
    """The base of every event."""

    at: float = msgspec.field(default_factory=time.time)


# ---- playlists ----


class DetailsChange(msgspec.Struct, frozen=True, tag="details"):
    """A playlist's name, description or flags changed (None: unchanged)."""

    name: str | None = None
    description: str | None = None
    public: bool | None = None
    collaborative: bool | None = None


class CoverChange(msgspec.Struct, frozen=True, tag="cover"):
    """A new cover image was uploaded."""

    cover_id: str


PlaylistOp = EditOp | DetailsChange | CoverChange


class PlaylistCreated(Event, frozen=True, kw_only=True):
    playlist_id: str
    owner_id: str
    name: str
    public: bool
    collaborative: bool
    snapshot_id: str


class PlaylistChanged(Event, frozen=True, kw_only=True):
    """An accepted change: the new snapshot and the operations applied, in order, by `by`."""

    playlist_id: str
    owner_id: str
    snapshot_id: str
    kind: str  # "add" | "remove" | "reorder" | "replace" | "update" | "import" | "details" | "cover"
    operations: tuple[PlaylistOp, ...]  # as applied, in order, starting from the base snapshot
    by: str
    base_snapshot_id: str | None = None  # the snapshot the operations apply to (the one before)


class PlaylistDeleted(Event, frozen=True, kw_only=True):
    playlist_id: str
    owner_id: str
    by: str


class PlaylistCollaboratorsChanged(Event, frozen=True, kw_only=True):
    playlist_id: str
    owner_id: str
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    by: str


class PlaylistFollowChanged(Event, frozen=True, kw_only=True):
    playlist_id: str
    owner_id: str
    user_id: str
    following: bool


# ---- a user's library: saves, ratings, follows ----


class SavesChanged(Event, frozen=True, kw_only=True):
    user_id: str
    kind: str  # "track" | "album" | "artist"
    ids: tuple[str, ...]
    saved: bool


class RatingChanged(Event, frozen=True, kw_only=True):
    user_id: str
    kind: str
    item_id: str
    rating: int  # 0 removes


class FollowsChanged(Event, frozen=True, kw_only=True):
    user_id: str
    kind: str  # "artist" | "user"
    ids: tuple[str, ...]
    following: bool


# ---- playback (now playing) ----


class PlayEvent(Event, frozen=True, kw_only=True):
    """What every play report has: who, what, on which device, where in the track."""

    user_id: str
    track_id: str
    device_id: str | None = None
    context_uri: str | None = None
    position_ms: int = 0


class PlayStarted(PlayEvent, frozen=True, kw_only=True):
    pass


class PlayProgressed(PlayEvent, frozen=True, kw_only=True):
    pass


class PlayEnded(PlayEvent, frozen=True, kw_only=True):
    ms_played: int = 0


class PlayScrobbled(PlayEvent, frozen=True, kw_only=True):
    """A finished play reported after the fact (a Subsonic scrobble submission)."""


class PlayerStateChanged(Event, frozen=True, kw_only=True):
    """A new version of a user's server-held playback state (musicd.domain.player); `state` is its wire form."""

    user_id: str
    version: int
    state: dict[str, object]


class DevicesChanged(Event, frozen=True, kw_only=True):
    """A device of the user came online, went offline, was renamed or removed."""

    user_id: str
    devices: list[dict[str, object]]


class JamChanged(Event, frozen=True, kw_only=True):
    """A Jam's timeline, queue or members changed; `data` is its wire form, for `users`."""

    jam_id: str
    users: list[str]
    data: dict[str, object]


# ---- the library and its scans ----


class ScanStarted(Event, frozen=True, kw_only=True):
    started_at: str


class ScanProgress(Event, frozen=True, kw_only=True):
    phase: str  # "walk" | "read" | "finalize"
    done: int
    total: int


class ScanDone(Event, frozen=True, kw_only=True):
    """A scan ended: its counts, or the error that stopped it."""

    added: int = 0
    updated: int = 0
    moved: int = 0
    removed: int = 0
    failed: int = 0
    unchanged: int = 0
    wall_s: float = 0.0
    error: str | None = None


class TracksStored(Event, frozen=True, kw_only=True):
    """A running scan stored these tracks (added, re-read or moved); LibraryChanged still follows with all
    of them. Lets the search index take them while the scan reads on, instead of all at its end."""

    started_at: str  # the scan's ScanStarted.started_at
    track_ids: tuple[str, ...]


class LibraryChanged(Event, frozen=True, kw_only=True):
    """What a scan changed in the catalogue (published only when something did)."""

    added: int
    updated: int
    moved: int
    removed: int
    changed_track_ids: tuple[str, ...]  # added, updated or moved
    removed_track_ids: tuple[str, ...]
    album_ids: tuple[str, ...]  # albums whose tracks changed, appeared or went away
    new_album_ids: tuple[str, ...]  # albums that did not exist before (new releases)
    removed_album_ids: tuple[str, ...]


# ---- accounts ----


class UserCreated(Event, frozen=True, kw_only=True):
    user_id: str
    role: str


class UserChanged(Event, frozen=True, kw_only=True):
    """Profile, role or disabled flag changed; `fields` names what."""

    user_id: str
    fields: tuple[str, ...]


class UserSettingsChanged(Event, frozen=True, kw_only=True):
    user_id: str
    settings: UserSettings


class UserDeleted(Event, frozen=True, kw_only=True):
    user_id: str


class SessionsRevoked(Event, frozen=True, kw_only=True):
    """Sessions ended: one login (`family_id`) or, when it is None, every session of the user."""

    user_id: str
    reason: str  # "logout" | "logout_everywhere" | "password_changed" | "disabled" | "role_changed" | "deleted" | ...
    family_id: str | None = None


EVENT_TYPES: tuple[type[Event], ...] = (
    PlaylistCreated, PlaylistChanged, PlaylistDeleted, PlaylistCollaboratorsChanged, PlaylistFollowChanged,
    SavesChanged, RatingChanged, FollowsChanged,
    PlayStarted, PlayProgressed, PlayEnded, PlayScrobbled, PlayerStateChanged, DevicesChanged, JamChanged,
    ScanStarted, ScanProgress, ScanDone, TracksStored, LibraryChanged,
    UserCreated, UserChanged, UserSettingsChanged, UserDeleted, SessionsRevoked,
)
