"""Federation between friends' servers: peers, scopes, and the wire items of the protocol (docs/federation.md).

The wire Structs bound every field (lengths, ranges, list sizes): a peer's answer is decoded into them
and anything outside the bounds is refused as a whole page, so a peer sending garbage, huge strings or
a million artists on one track cannot get it into the mirror.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

__all__ = [
    "PROTOCOL",
    "SCOPES",
    "ActivityItem",
    "CatalogPage",
    "ChangeItem",
    "ChangesPage",
    "Hello",
    "Origin",
    "PairReply",
    "PairRequest",
    "Peer",
    "PlaylistItem",
    "PlaylistsPage",
    "Sources",
    "TrackItem",
    "UserItem",
    "normalise_scopes",
]

PROTOCOL = 1
# What one server may let a peer do: read its catalogue (and shared playlists), stream its tracks, see the
# activity of its users who share it.
SCOPES = ("library", "stream", "activity")

Name = Annotated[str, Meta(max_length=500)]
Id = Annotated[str, Meta(min_length=1, max_length=128, pattern=r"^[0-9A-Za-z_-]+$")]
Small = Annotated[int, Meta(ge=0, le=100_000)]
Seq = Annotated[int, Meta(ge=0, le=2**62)]


def normalise_scopes(scopes: list[str] | tuple[str, ...] | str) -> list[str]:
    """Scopes in their canonical order; a comma-separated string is accepted; unknown ones are an error."""
    items = [s.strip() for s in scopes.split(",")] if isinstance(scopes, str) else [s.strip() for s in scopes]
    items = [s for s in items if s]
    unknown = sorted(set(items) - set(SCOPES))
    if unknown:
        raise ValueError(f"unknown scope {unknown[0]!r}: use {', '.join(SCOPES)}")
    return [s for s in SCOPES if s in items]


class Sources(msgspec.Struct, frozen=True):
    """Which libraries a search or a list covers: the local one, and all peers or only one (`peer_id`)."""

    local: bool = True
    peers: bool = True
    peer_id: str | None = None


class Peer(msgspec.Struct, frozen=True):
    """A paired server, as this one knows it."""

    id: str  # their instance id
    name: str
    url: str
    public_key: bytes
    status: str  # "pending" | "active" | "revoked"
    scopes_granted: list[str]  # what we let them do
    scopes_received: list[str]  # what they let us do
    folder_no: int  # their library's Subsonic music folder id here
    created_at: str
    synced_at: str | None = None
    sync_error: str | None = None
    unreachable_since: str | None = None
    sync_cursor: int | None = None
    track_count: int = 0


class Origin(msgspec.Struct, frozen=True):
    """Where a mirrored item comes from: the peer, its name ("Alice's server"), whether it answers now."""

    peer_id: str
    name: str
    available: bool = True


# ---- the wire ----


class TrackItem(msgspec.Struct, frozen=True, forbid_unknown_fields=False):
    """One track of a server's catalogue as it offers it to its peers."""

    id: Id
    title: Name
    artist: Name
    artists: Annotated[list[tuple[Id, Name]], Meta(max_length=50)]
    album_id: Id
    album: Name
    album_artist_id: Id
    album_artist: Name
    duration: Annotated[float, Meta(ge=0, le=1_000_000)]
    format: Annotated[str, Meta(max_length=16)]
    size: Annotated[int, Meta(ge=0, le=2**48)]
    compilation: bool = False
    track_number: Small | None = None
    track_total: Small | None = None
    disc_number: Small | None = None
    disc_total: Small | None = None
    year: Annotated[int, Meta(ge=0, le=10_000)] | None = None
    genres: Annotated[list[Name], Meta(max_length=20)] = []
    bitrate: Small | None = None
    sample_rate: Annotated[int, Meta(ge=0, le=10_000_000)] | None = None
    channels: Small | None = None
    bit_depth: Small | None = None
    isrc: Annotated[str, Meta(max_length=32)] | None = None
    mbid: Annotated[str, Meta(max_length=64)] | None = None
    album_mbid: Annotated[str, Meta(max_length=64)] | None = None


class CatalogPage(msgspec.Struct, frozen=True):
    """A page of `GET /fed/v1/catalog`: tracks by id after `after`; `cursor` is the change seq to follow next."""

    items: Annotated[list[TrackItem], Meta(max_length=1000)]
    cursor: Seq
    total: Annotated[int, Meta(ge=0)]
    next: Id | None = None


class ChangeItem(msgspec.Struct, frozen=True):
    seq: Seq
    id: Id
    deleted: bool
    track: TrackItem | None = None


class ChangesPage(msgspec.Struct, frozen=True):
    """A page of `GET /fed/v1/changes`: changes after `since`, oldest first; `head` is the newest seq there is."""

    items: Annotated[list[ChangeItem], Meta(max_length=1000)]
    head: Seq
    next: Seq | None = None


class Hello(msgspec.Struct, frozen=True):
    """`GET /fed/v1/hello`: who answers and what it lets the caller do."""

    instance_id: Id
    name: Name
    scopes: list[str]
    protocol: int = PROTOCOL


class PairRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """`POST /fed/v1/pair`, sent by the server that joins with an invite."""

    invite: Annotated[str, Meta(min_length=16, max_length=128)]
    instance_id: Id
    name: Name
    url: Annotated[str, Meta(min_length=8, max_length=500)]
    public_key: Annotated[str, Meta(min_length=40, max_length=64)]  # base64url of 32 bytes
    scopes: list[str]  # what the joiner grants the inviter


class PairReply(msgspec.Struct, frozen=True):
    instance_id: Id
    name: Name
    public_key: Annotated[str, Meta(max_length=64)]
    scopes: list[str]  # what the inviter grants the joiner
    status: str  # "active" | "pending"


class UserItem(msgspec.Struct, frozen=True):
    username: Name
    display_name: Name


class ActivityItem(msgspec.Struct, frozen=True):
    """A user's listening as their server shares it: nothing unless they turned sharing on."""

    username: Name
    display_name: Name
    sharing: bool
    track: TrackItem | None = None
    played_at: Annotated[str, Meta(max_length=40)] | None = None


class PlaylistItem(msgspec.Struct, frozen=True):
    id: Id
    name: Name
    owner: Name
    track_ids: Annotated[list[Id], Meta(max_length=10_000)]
    updated_at: Annotated[str, Meta(max_length=40)]
    description: Annotated[str, Meta(max_length=5000)] = ""


class PlaylistsPage(msgspec.Struct, frozen=True):
    items: Annotated[list[PlaylistItem], Meta(max_length=500)]
