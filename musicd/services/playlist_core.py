"""The core of PlaylistService: access rules, reads, create/details/delete/cover, item edits, follows, collaborators.

Who may do what: the owner reads and changes everything; invited collaborators read, and edit the items
while the playlist is collaborative; everyone else reads public playlists only. A playlist someone may not
read is "not found" to them (404, never 403), so private playlists do not leak. Guests change nothing.

Every change is one write transaction: changes to one playlist run one after another, and a change sent
with a stale snapshot_id is merged or refused by musicd.domain.playlists.check_merge.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence

from musicd.domain.catalog import Page
from musicd.domain.events import (
    CoverChange,
    DetailsChange,
    Event,
    PlaylistChanged,
    PlaylistCollaboratorsChanged,
    PlaylistCreated,
    PlaylistDeleted,
    PlaylistFollowChanged,
)
from musicd.domain.ids import random_id
from musicd.domain.models import User
from musicd.domain.playlists import (
    MAX_ITEMS,
    Append,
    EditOp,
    Insert,
    Playlist,
    PlaylistItem,
    RemoveAt,
    RemoveTracks,
    Reorder,
    Replace,
    Viewer,
    parse_snapshot,
    snapshot_id,
)
from musicd.errors import ForbiddenError, MusicdError, NotFoundError, ValidationError
from musicd.logs import get_logger
from musicd.services.bus import EventBus
from musicd.services.catalog import CatalogService
from musicd.services.metrics import Metrics
from musicd.services.playlist_ops import apply_op, merge_stale
from musicd.services.rules import require_member
from musicd.store.db import utc_now
from musicd.store.playlists import PlaylistRepository

__all__ = [
    "MAX_COVER_BASE64",
    "MAX_DESCRIPTION",
    "MAX_ITEMS",
    "MAX_NAME",
    "MAX_PAGE",
    "PayloadTooLarge",
    "PlaylistCore",
    "check_page",
    "not_found",
]

log = get_logger("musicd.playlists")

MAX_PAGE = 100  # items per page, as Spotify
MAX_LIST_PAGE = 50  # playlists per page, as Spotify
MAX_URIS = 100  # items per add / replace / remove request, as Spotify
MAX_COVER_BASE64 = 256 * 1024  # Spotify's limit on an uploaded cover's base64 payload
MAX_NAME = 200
MAX_DESCRIPTION = 2000


class PayloadTooLarge(MusicdError):
    """An upload over its size limit."""

    code = "payload_too_large"
    status = 413


def not_found(playlist_id: str) -> NotFoundError:
    """The 404 for a playlist that does not exist or that the asker may not read."""
    return NotFoundError(f"no playlist with id {playlist_id}", code="playlist_not_found")


def check_page(limit: int, offset: int, most: int) -> None:
    """400 unless 1 <= limit <= most and offset >= 0."""
    if not 1 <= limit <= most or offset < 0:
        raise ValidationError(f"limit must be 1 to {most} and offset not negative", code="bad_paging")


def _check_text(name: str | None, description: str | None) -> None:
    if name is not None and not 0 < len(name.strip()) <= MAX_NAME:
        raise ValidationError(f"name must be 1 to {MAX_NAME} characters", code="invalid_name")
    if description is not None and len(description) > MAX_DESCRIPTION:
        raise ValidationError(f"description must be at most {MAX_DESCRIPTION} characters", code="invalid_description")


class PlaylistCore:
    """Playlists as seen by one asking user (a domain User); PlaylistService adds links, files, Subsonic."""

    def __init__(self, repo: PlaylistRepository, catalog: CatalogService, bus: EventBus,
                 metrics: Metrics | None = None) -> None:
        self.repo = repo
        self.catalog = catalog
        self.bus = bus
        self.metrics = metrics

    async def _published(self, event: Event) -> None:
        """Publish a change and return once its consumers have it (a new or renamed playlist is searchable)."""
        await self.bus.publish_and_wait(event)

    # ---- access ----

    async def _load(self, user: User, playlist_id: str) -> tuple[Playlist, Viewer]:
        """The playlist and the user's relation to it; not found when the user may not read it."""
        row = await self.repo.get(playlist_id, user.id)
        if row is None:
            raise not_found(playlist_id)
        pl, viewer = row
        if not (viewer.owner or pl.public or viewer.collaborator):
            raise not_found(playlist_id)
        return pl, viewer

    async def _editable(self, user: User, playlist_id: str) -> Playlist:
        pl, viewer = await self._load(user, playlist_id)
        require_member(user)
        if not (viewer.owner or (pl.collaborative and viewer.collaborator)):
            raise ForbiddenError("only the owner and invited collaborators change this playlist's items",
                                 code="not_collaborator")
        return pl

    async def _owned(self, user: User, playlist_id: str) -> Playlist:
        pl, viewer = await self._load(user, playlist_id)
        require_member(user)
        if not viewer.owner:
            raise ForbiddenError("only the owner can do this", code="not_owner")
        return pl

    # ---- reads ----

    async def get(self, user: User, playlist_id: str) -> tuple[Playlist, Viewer]:
        return await self._load(user, playlist_id)

    async def lookup(self, ids: Sequence[str], user_id: str | None) -> list[Playlist | None]:
        """Playlists by id in order, None where unknown or not readable by `user_id` (search results)."""
        out: list[Playlist | None] = []
        for pid in ids:
            row = await self.repo.get(pid, user_id)
            ok = row is not None and (row[1].owner or row[0].public or row[1].collaborator)
            out.append(row[0] if row is not None and ok else None)
        return out

    async def items(self, user: User | None, playlist: Playlist, limit: int = MAX_PAGE,
                    offset: int = 0) -> Page[PlaylistItem]:
        """A page of a playlist's items with their tracks (call after `get`: it does no access check)."""
        check_page(limit, offset, MAX_PAGE)
        entries = await self.repo.entries(playlist.id, limit, offset)
        tracks = await self.catalog.tracks([e.track_id for e in entries], user.id if user else None)
        items = [PlaylistItem(offset + i, e, t) for i, (e, t) in enumerate(zip(entries, tracks, strict=True))]
        return Page(items=items, total=playlist.total, limit=limit, offset=offset)

    async def page(self, user: User, playlist_id: str, limit: int = MAX_PAGE, offset: int = 0
                   ) -> tuple[Playlist, Page[PlaylistItem]]:
        pl, _ = await self._load(user, playlist_id)
        return pl, await self.items(user, pl, limit, offset)

    async def my_playlists(self, user: User, limit: int = 20, offset: int = 0) -> Page[Playlist]:
        """The user's library: owned, followed and collaborating playlists, the newest first."""
        check_page(limit, offset, MAX_LIST_PAGE)
        items, total = await self.repo.library(user.id, user.id, limit, offset)
        return Page(items=items, total=total, limit=limit, offset=offset)

    async def user_playlists(self, user: User, owner_id: str, limit: int = 20, offset: int = 0) -> Page[Playlist]:
        """What another user's library shows publicly (their own library to themselves)."""
        check_page(limit, offset, MAX_LIST_PAGE)
        if not await self.repo.user_exists(owner_id):
            raise NotFoundError(f"no user with id {owner_id}", code="user_not_found")
        items, total = await self.repo.library(owner_id, user.id, limit, offset)
        return Page(items=items, total=total, limit=limit, offset=offset)

    # ---- create, details, delete ----

    async def create(self, user: User, name: str, description: str = "", public: bool = True,
                     collaborative: bool = False, owner_id: str | None = None) -> Playlist:
        """A new empty playlist of the user (`owner_id`, when given, must be the user)."""
        require_member(user)
        if owner_id is not None and owner_id != user.id:
            raise ForbiddenError("you can only create playlists for yourself", code="not_owner")
        _check_text(name, description)
        if collaborative and public:
            raise ValidationError("a collaborative playlist cannot be public", code="collaborative_public")
        pid = random_id()
        await self.repo.create(pid, user.id, name.strip(), description or "", public, collaborative)
        pl, _ = await self._load(user, pid)
        await self._published(PlaylistCreated(playlist_id=pid, owner_id=user.id, name=pl.name, public=pl.public,
                                              collaborative=pl.collaborative, snapshot_id=pl.snapshot_id))
        return pl

    async def change_details(self, user: User, playlist_id: str, name: str | None = None,
                             description: str | None = None, public: bool | None = None,
                             collaborative: bool | None = None) -> Playlist:
        """Rename, describe, publish or make collaborative (owner only); bumps the snapshot."""
        pl = await self._owned(user, playlist_id)
        _check_text(name, description)
        if (pl.public if public is None else public) and (pl.collaborative if collaborative is None else collaborative):
            raise ValidationError("a collaborative playlist cannot be public", code="collaborative_public")
        async with self.repo.edit(playlist_id) as ed:
            if ed is None:
                raise not_found(playlist_id)
            await ed.set_details(name=name.strip() if name is not None else None, description=description,
                                 public=public, collaborative=collaborative)
            version = await ed.commit("details", None, user.id)
        op = DetailsChange(name=name.strip() if name is not None else None, description=description, public=public,
                           collaborative=collaborative)
        await self._published(PlaylistChanged(playlist_id=playlist_id, owner_id=pl.owner_id, kind="details",
                                               snapshot_id=snapshot_id(playlist_id, version), operations=(op,),
                                               base_snapshot_id=snapshot_id(playlist_id, version - 1),
                                               by=user.id))
        return (await self._load(user, playlist_id))[0]

    async def delete(self, user: User, playlist_id: str) -> None:
        """Delete a playlist (owner only)."""
        pl = await self._owned(user, playlist_id)
        await self.repo.delete(playlist_id)
        await self._published(PlaylistDeleted(playlist_id=playlist_id, owner_id=pl.owner_id, by=user.id))

    async def set_cover(self, user: User, playlist_id: str, body: bytes) -> str:
        """Store a base64 JPEG as the playlist's cover (owner only); the new snapshot id."""
        await self._owned(user, playlist_id)
        if len(body) > MAX_COVER_BASE64:
            raise PayloadTooLarge(f"a cover upload is at most {MAX_COVER_BASE64} bytes of base64")
        try:
            data = base64.b64decode(b"".join(body.split()), validate=True)
        except (binascii.Error, ValueError):
            raise ValidationError("the body must be a base64 encoded JPEG image", code="invalid_image") from None
        if data[:3] != b"\xff\xd8\xff":
            raise ValidationError("the image must be a JPEG", code="invalid_image")
        cover_id, w, h = await self.repo.store_cover(data)
        async with self.repo.edit(playlist_id) as ed:
            if ed is None:
                raise not_found(playlist_id)
            await ed.set_cover(cover_id, len(data), w, h)
            version = await ed.commit("cover", None, user.id)
        snap = snapshot_id(playlist_id, version)
        self.bus.publish(PlaylistChanged(playlist_id=playlist_id, owner_id=user.id, kind="cover", snapshot_id=snap,
                                         base_snapshot_id=snapshot_id(playlist_id, version - 1),
                                         operations=(CoverChange(cover_id),), by=user.id))
        return snap

    # ---- item edits ----

    async def _edit(self, user: User, playlist_id: str, ops: Sequence[EditOp], snapshot: str | None,
                    kind: str, editable: bool = False) -> int:
        """Apply `ops` in one transaction, merging against a stale snapshot when they commute; the new version."""
        owner_id = (await self._editable(user, playlist_id)).owner_id if not editable else user.id
        wanted = list(dict.fromkeys(t for op in ops if not isinstance(op, RemoveTracks) for t in _op_tracks(op)))
        base = parse_snapshot(playlist_id, snapshot) if snapshot else None
        async with self.repo.edit(playlist_id) as ed:
            if ed is None:
                raise not_found(playlist_id)
            if wanted:
                found = await ed.existing_tracks(wanted)
                missing = [t for t in wanted if t not in found]
                if missing:
                    raise ValidationError(f"no track with id {missing[0]}", code="unknown_track")
            if base is not None:
                ops = await merge_stale(ed, ops, base)
            now = utc_now()
            applied: list[EditOp] = []
            low: int | None = None
            for op in ops:
                done, op_low = await apply_op(ed, op, user.id, now)
                if done is not None:
                    applied.append(done)
                if op_low is not None:
                    low = op_low if low is None else min(low, op_low)
            version = await ed.commit(kind, low, user.id)
        if self.metrics is not None:
            self.metrics.playlist_rows_written.inc(ed.rows_written)
        self.bus.publish(PlaylistChanged(playlist_id=playlist_id, owner_id=owner_id, kind=kind,
                                         snapshot_id=snapshot_id(playlist_id, version),
                                         base_snapshot_id=snapshot_id(playlist_id, version - 1),
                                         operations=tuple(applied), by=user.id))
        return version

    async def add(self, user: User, playlist_id: str, track_ids: Sequence[str], position: int | None = None,
                  snapshot: str | None = None) -> str:
        """Add tracks at `position` (the end when None); the new snapshot id."""
        _check_uris(track_ids, allow_empty=False)
        op: EditOp = Append(list(track_ids)) if position is None else Insert(list(track_ids), position)
        return snapshot_id(playlist_id, await self._edit(user, playlist_id, [op], snapshot, "add"))

    async def remove(self, user: User, playlist_id: str, tracks: Sequence[tuple[str, Sequence[int] | None]],
                     snapshot: str | None = None) -> str:
        """Remove tracks: every occurrence, or only at the given positions (which must hold that track)."""
        _check_uris([t for t, _ in tracks], allow_empty=False)
        everywhere = [t for t, ps in tracks if ps is None]
        positions: dict[int, str] = {}
        for t, ps in tracks:
            for p in ps or ():
                if positions.setdefault(p, t) != t:
                    raise ValidationError(f"position {p} is given for two different tracks", code="invalid_position")
        ops: list[EditOp] = []
        if positions:
            ps = sorted(positions)
            ops.append(RemoveAt(ps, [positions[p] for p in ps]))
        if everywhere:
            ops.append(RemoveTracks(everywhere))
        return snapshot_id(playlist_id, await self._edit(user, playlist_id, ops, snapshot, "remove"))

    async def reorder(self, user: User, playlist_id: str, range_start: int, insert_before: int,
                      range_length: int = 1, snapshot: str | None = None) -> str:
        op = Reorder(range_start=range_start, insert_before=insert_before, range_length=range_length)
        return snapshot_id(playlist_id, await self._edit(user, playlist_id, [op], snapshot, "reorder"))

    async def replace(self, user: User, playlist_id: str, track_ids: Sequence[str], snapshot: str | None = None) -> str:
        _check_uris(track_ids, allow_empty=True)
        return snapshot_id(playlist_id, await self._edit(user, playlist_id, [Replace(list(track_ids))], snapshot,
                                                         "replace"))

    # ---- follows and collaborators ----

    async def follow(self, user: User, playlist_id: str, public: bool = True) -> None:
        pl, _ = await self._load(user, playlist_id)
        require_member(user)
        await self.repo.follow(playlist_id, user.id, public)
        await self._published(PlaylistFollowChanged(playlist_id=playlist_id, owner_id=pl.owner_id, user_id=user.id,
                                                    following=True))

    async def unfollow(self, user: User, playlist_id: str) -> None:
        """Stop following; for the owner this deletes the playlist (what Spotify clients mean by it)."""
        pl, viewer = await self._load(user, playlist_id)
        require_member(user)
        if viewer.owner:
            await self.delete(user, playlist_id)
            return
        await self.repo.unfollow(playlist_id, user.id)
        await self._published(PlaylistFollowChanged(playlist_id=playlist_id, owner_id=pl.owner_id, user_id=user.id,
                                                    following=False))

    async def followers_contain(self, user: User, playlist_id: str, user_ids: Sequence[str]) -> list[bool]:
        if not 1 <= len(user_ids) <= 50:
            raise ValidationError("give 1 to 50 user ids", code="bad_ids")
        await self._load(user, playlist_id)
        found = await self.repo.followers_among(playlist_id, user_ids)
        return [u in found for u in user_ids]

    async def collaborators(self, user: User, playlist_id: str) -> list[tuple[str, str, str]]:
        """(user id, display name, invited at) of each collaborator."""
        await self._load(user, playlist_id)
        return await self.repo.collaborators(playlist_id)

    async def invite(self, user: User, playlist_id: str, user_ids: Sequence[str]) -> list[tuple[str, str, str]]:
        """Invite users to edit (owner only); they see the playlist in their library."""
        pl = await self._owned(user, playlist_id)
        wanted = list(dict.fromkeys(user_ids))
        if not 1 <= len(wanted) <= 50:
            raise ValidationError("give 1 to 50 user ids", code="bad_ids")
        roles = await self.repo.user_roles(wanted)
        for uid in wanted:
            if uid not in roles:
                raise ValidationError(f"no user with id {uid}", code="unknown_user")
            if uid == pl.owner_id:
                raise ValidationError("the owner is not a collaborator", code="owner_not_collaborator")
            if roles[uid] == "guest":
                raise ValidationError("guest accounts cannot edit playlists", code="guest_read_only")
        await self.repo.add_collaborators(playlist_id, wanted)
        self.bus.publish(PlaylistCollaboratorsChanged(playlist_id=playlist_id, owner_id=pl.owner_id,
                                                      added=tuple(wanted), by=user.id))
        return await self.repo.collaborators(playlist_id)

    async def uninvite(self, user: User, playlist_id: str, user_ids: Sequence[str]) -> list[tuple[str, str, str]]:
        """Remove collaborators (the owner removes anyone, a collaborator only themselves)."""
        pl, viewer = await self._load(user, playlist_id)
        require_member(user)
        if not viewer.owner and set(user_ids) - {user.id}:
            raise ForbiddenError("only the owner removes other collaborators", code="not_owner")
        await self.repo.remove_collaborators(playlist_id, list(user_ids))
        self.bus.publish(PlaylistCollaboratorsChanged(playlist_id=playlist_id, owner_id=pl.owner_id,
                                                      removed=tuple(dict.fromkeys(user_ids)), by=user.id))
        return await self.repo.collaborators(playlist_id)


def _op_tracks(op: EditOp) -> list[str]:
    """The track ids an edit adds (or names)."""
    return list(getattr(op, "track_ids", ()))


def _check_uris(track_ids: Sequence[str], allow_empty: bool) -> None:
    if len(track_ids) > MAX_URIS or (not track_ids and not allow_empty):
        raise ValidationError(f"give 1 to {MAX_URIS} items", code="bad_uris")
