"""Shares, for both APIs: public, read-only links to songs, albums, artists or playlists.

Subsonic's createShare & co and /v1's playlist share links are one thing: a share, in one table, found by
one rule. Whoever has a share's link token may list and play what it shares, and nothing else. The
database keeps only the SHA-256 of a token; a token made here is derived from the share's id with the
server's token key, so the server can show a share's link to its maker again (Subsonic's getShares lists
them). Shares made before migration 0012 keep their tokens: a Subsonic share's token is its id; an older
/v1 link's token is known by its hash only, so its link works but cannot be shown again.

A share shows what its maker may still see: a playlist shared by someone other than its owner stops showing
once the owner makes it private, and a share of one playlist is gone with the playlist. Visitors get 404
`share_not_found` for an unknown link, 410 `share_revoked` / `share_expired` for a revoked or expired one.
The maker (or an admin) lists, changes, revokes (410 for visitors) or deletes (404) their shares; guests
make none (musicd.services.rules).

Public methods (`user` is the asking domain User):
- create(user, ids, description, expires_at) -> Share (Subsonic: ids of any kind, never expiring unless told)
- share_playlist(user, playlist_id, expires_in) -> Share (/v1: the owner's link, 30 days unless told)
- list(user) -> [Share] with tracks (Subsonic: the user's, revoked ones and old /v1 links left out)
- playlist_links(user, playlist_id) -> [Share]; revoke_playlist_links(user, playlist_id, link_id=None) -> int
- update(user, token, description, expires_at, keep_expiry); delete(user, token)
- open(token, limit, offset, count_visit) -> SharedPage; shared_track(token, track_id); shared_cover(token, id)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import msgspec

from musicd.domain.catalog import Page, TrackView
from musicd.domain.ids import random_id
from musicd.domain.models import User
from musicd.domain.playlists import Playlist, PlaylistEntry, PlaylistItem
from musicd.domain.stamps import token_digest, utc_iso
from musicd.errors import ForbiddenError, MusicdError, NotFoundError, ValidationError
from musicd.services.accounts import AccountService
from musicd.services.catalog import CatalogService
from musicd.services.playlist_core import check_page
from musicd.services.playlists import MAX_PAGE, PlaylistService
from musicd.services.rules import is_admin, require_member
from musicd.store.shares import ShareRecord, ShareRepository

__all__ = ["DEFAULT_LINK_SECONDS", "MAX_LINK_SECONDS", "MAX_SHARE_TRACKS", "Share", "ShareGone", "ShareService",
           "SharedPage"]

MAX_SHARE_TRACKS = 1000
DEFAULT_LINK_SECONDS = 30 * 24 * 3600
MAX_LINK_SECONDS = 366 * 24 * 3600
_MAX_ITEMS = 100
_MAX_DESCRIPTION = 1000


class ShareGone(MusicdError):
    """A share that was revoked or has expired."""

    code = "share_gone"
    status = 410


class Share(msgspec.Struct, frozen=True):
    """A share as its maker sees it; `token` is None for a /v1 link made before 0012 (only its hash is kept)."""

    id: str
    token: str | None
    user_id: str
    username: str
    description: str | None
    created_at: str
    expires_at: str | None
    revoked_at: str | None
    last_visited_at: str | None
    visit_count: int
    items: list[tuple[str, str]]
    tracks: list[TrackView] = []

    @property
    def playlist_id(self) -> str | None:
        """The playlist of a share of one playlist."""
        return self.items[0][1] if len(self.items) == 1 and self.items[0][0] == "playlist" else None


class SharedPage(msgspec.Struct, frozen=True):
    """What a visitor sees: the shared playlist, or the share shown as one, and a page of its items."""

    share: Share
    playlist: Playlist
    items: Page[PlaylistItem]


def _now() -> str:
    return utc_iso(datetime.now(UTC))




def _expired(rec: ShareRecord) -> bool:
    return rec.expires_at is not None and rec.expires_at <= _now()


class ShareService:
    def __init__(self, repo: ShareRepository, catalog: CatalogService, playlists: PlaylistService,
                 accounts: AccountService, token_key: bytes) -> None:
        self.repo = repo
        self.catalog = catalog
        self.playlists = playlists
        self.accounts = accounts
        self._key = hmac.new(token_key, b"musicd share links", hashlib.sha256).digest()

    # ---- tokens ----

    def _derive(self, share_id: str) -> str:
        mac = hmac.new(self._key, share_id.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac[:18]).decode()  # 144 bits, 24 URL-safe characters

    def _token(self, rec: ShareRecord) -> str | None:
        for candidate in (self._derive(rec.id), rec.id):  # made here; a Subsonic share made before 0012
            if hmac.compare_digest(token_digest(candidate), rec.token_hash):
                return candidate
        return None

    def _share(self, rec: ShareRecord, tracks: list[TrackView] | None = None) -> Share:
        return Share(rec.id, self._token(rec), rec.user_id, rec.username, rec.description, rec.created_at,
                     rec.expires_at, rec.revoked_at, rec.last_visited_at, rec.visit_count, rec.items, tracks or [])

    # ---- making shares ----

    async def _kind(self, user: User, item_id: str) -> str:
        try:
            return await self.catalog.kind_of(item_id)
        except NotFoundError:
            await self.playlists.get(user, item_id)  # NotFoundError unless the user may read it
            return "playlist"

    @staticmethod
    def _check(description: str | None, expires_at: str | None) -> None:
        if description is not None and len(description) > _MAX_DESCRIPTION:
            raise ValidationError(f"description: at most {_MAX_DESCRIPTION} characters", code="bad_description")
        if expires_at is not None and expires_at <= _now():
            raise ValidationError("expiry must be in the future", code="bad_expiry")

    async def _insert(self, user: User, items: list[tuple[str, str]], description: str | None,
                      expires_at: str | None) -> ShareRecord:
        share_id = random_id()
        token_hash = token_digest(self._derive(share_id))
        created = await self.repo.insert(share_id, token_hash, user.id, description, expires_at, items)
        return ShareRecord(share_id, token_hash, user.id, user.username, description, created, expires_at, None,
                           None, 0, items)

    async def create(self, user: User, ids: Sequence[str], description: str | None = None,
                     expires_at: str | None = None) -> Share:
        """Share songs, albums, artists or playlists the user can see."""
        require_member(user)
        ids = list(dict.fromkeys(ids))
        if not ids or len(ids) > _MAX_ITEMS:
            raise ValidationError(f"share 1 to {_MAX_ITEMS} items", code="bad_items")
        self._check(description, expires_at)
        items = [(await self._kind(user, i), i) for i in ids]
        rec = await self._insert(user, items, description, expires_at)
        return self._share(rec, await self._tracks(user, rec.items, user.id))

    async def _own_playlist(self, user: User, playlist_id: str) -> None:
        _, viewer = await self.playlists.get(user, playlist_id)  # not found first: private playlists do not leak
        require_member(user)
        if not viewer.owner:
            raise ForbiddenError("only the owner can do this", code="not_owner")

    async def share_playlist(self, user: User, playlist_id: str, expires_in: int | None = None) -> Share:
        """A read-only link to one of the user's playlists, for `expires_in` seconds (30 days unless told)."""
        await self._own_playlist(user, playlist_id)
        seconds = DEFAULT_LINK_SECONDS if expires_in is None else expires_in
        if not 1 <= seconds <= MAX_LINK_SECONDS:
            raise ValidationError(f"expires_in must be 1 to {MAX_LINK_SECONDS} seconds", code="invalid_expiry")
        expires = utc_iso(datetime.now(UTC) + timedelta(seconds=seconds))
        return self._share(await self._insert(user, [("playlist", playlist_id)], None, expires))

    # ---- the maker's side ----

    async def list(self, user: User) -> list[Share]:
        """The user's shares with their tracks, expired ones included, oldest first (those it can name)."""
        out = []
        for rec in await self.repo.for_user(user.id):
            share = self._share(rec)
            if share.token is not None:
                out.append(msgspec.structs.replace(share, tracks=await self._tracks(user, rec.items, user.id)))
        return out

    async def playlist_links(self, user: User, playlist_id: str) -> list[Share]:
        """The links to one playlist (the owner only), revoked ones included."""
        await self._own_playlist(user, playlist_id)
        return [self._share(r) for r in await self.repo.for_playlist(playlist_id)]

    async def revoke_playlist_links(self, user: User, playlist_id: str, link_id: str | None = None) -> int:
        """Revoke one link or every link to a playlist (the owner only); how many were live."""
        await self._own_playlist(user, playlist_id)
        links = [r.id for r in await self.repo.for_playlist(playlist_id)]
        if link_id is not None:
            if link_id not in links:
                raise NotFoundError(f"no share link {link_id}", code="share_not_found")
            links = [link_id]
        return await self.repo.revoke(links) if links else 0

    async def _own(self, user: User, token: str) -> ShareRecord:
        require_member(user)
        rec = await self.repo.by_hash(token_digest(token)) if 8 <= len(token) <= 128 else None
        if rec is None or rec.revoked_at is not None or (rec.user_id != user.id and not is_admin(user)):
            raise NotFoundError("no such share", code="share_not_found")
        return rec

    async def update(self, user: User, token: str, description: str | None, expires_at: str | None,
                     keep_expiry: bool = False) -> None:
        """Change the description and expiry (None: never expires; `keep_expiry` leaves it as is)."""
        rec = await self._own(user, token)
        expires = rec.expires_at if keep_expiry else expires_at
        self._check(description, None if keep_expiry else expires_at)
        await self.repo.update(rec.id, description if description is not None else rec.description, expires)

    async def delete(self, user: User, token: str) -> None:
        await self.repo.delete((await self._own(user, token)).id)

    # ---- the visitors' side ----

    async def _live(self, token: str) -> ShareRecord:
        rec = await self.repo.by_hash(token_digest(token)) if 8 <= len(token) <= 128 else None
        if rec is None:
            raise NotFoundError("no such share link", code="share_not_found")
        if rec.revoked_at is not None:
            raise ShareGone("this share link was revoked", code="share_revoked")
        if _expired(rec):
            raise ShareGone("this share link has expired", code="share_expired")
        return rec

    async def _maker(self, rec: ShareRecord) -> User:
        try:
            return await self.accounts.get(rec.user_id)
        except NotFoundError:
            raise NotFoundError("no such share link", code="share_not_found") from None

    async def _shared_playlist(self, rec: ShareRecord) -> Playlist | None:
        """The playlist of a share of one playlist, as its maker may still see it."""
        if not (len(rec.items) == 1 and rec.items[0][0] == "playlist"):
            return None
        try:
            pl, _ = await self.playlists.get(await self._maker(rec), rec.items[0][1])
        except NotFoundError:
            raise NotFoundError("no such share link", code="share_not_found") from None
        return pl

    async def _tracks(self, maker: User, items: Sequence[tuple[str, str]], viewer_id: str | None) -> list[TrackView]:
        out: list[TrackView] = []
        for kind, item_id in items:
            try:
                if kind == "track":
                    out.append(await self.catalog.track(item_id, viewer_id))
                elif kind == "album":
                    out += await self.catalog.album_tracks(item_id, viewer_id)
                elif kind == "artist":
                    page = await self.catalog.artist_albums(item_id, viewer_id, limit=200, include_groups=("album",))
                    for album in page.items:
                        out += await self.catalog.album_tracks(album.id, viewer_id)
                else:
                    _, entries = await self.playlists.subsonic_get(maker, item_id)
                    out += [e.track for e in entries if e.track is not None]
            except (NotFoundError, ForbiddenError):
                continue  # removed from the library, or no longer visible to the maker, since it was shared
            if len(out) >= MAX_SHARE_TRACKS:
                break
        return out[:MAX_SHARE_TRACKS]

    async def open(self, token: str, limit: int = MAX_PAGE, offset: int = 0, count_visit: bool = False
                   ) -> SharedPage:
        """A share as its visitors see it, with a page of its items."""
        check_page(limit, offset, MAX_PAGE)
        rec = await self._live(token)
        pl = await self._shared_playlist(rec)
        if pl is not None:
            page = await self.playlists.items(None, pl, limit, offset)
        else:
            tracks = await self._tracks(await self._maker(rec), rec.items, None)
            title = rec.description or (tracks[0].album_name if tracks else "Shared music")
            pl = Playlist(id=rec.id, owner_id=rec.user_id, owner_name=rec.username, name=title,
                          description=rec.description or "", public=False, collaborative=False, version=0,
                          cover_id=None, first_cover_id=next((t.cover_id for t in tracks if t.cover_id), None),
                          total=len(tracks), followers=0, created_at=rec.created_at, updated_at=rec.created_at)
            page = Page(items=[PlaylistItem(offset + i, PlaylistEntry(t.id, rec.user_id, rec.created_at), t)
                               for i, t in enumerate(tracks[offset:offset + limit])],
                        total=len(tracks), limit=limit, offset=offset)
        if count_visit:
            await self.repo.visited(rec.id)
        return SharedPage(self._share(rec), pl, page)

    async def shared_track(self, token: str, track_id: str) -> TrackView:
        """A track of a share, for a visitor to play; NotFoundError when it is not part of it."""
        rec = await self._live(token)
        pl = await self._shared_playlist(rec)
        if pl is not None:
            shared = track_id in await self.playlists.track_ids(await self._maker(rec), pl.id)
        else:
            shared = any(t.id == track_id for t in await self._tracks(await self._maker(rec), rec.items, None))
        if not shared:
            raise NotFoundError("no such track in this share", code="track_not_found")
        return await self.catalog.track(track_id)

    async def shared_cover(self, token: str, cover_id: str) -> str:
        """The cover a share's page shows, for a visitor; NotFoundError for any other image."""
        page = await self.open(token, 1, 0)
        if cover_id != page.playlist.image_id:
            raise NotFoundError("no such cover in this share", code="cover_not_found")
        return cover_id
