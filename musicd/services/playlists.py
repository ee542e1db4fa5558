"""Playlists for both APIs: PlaylistService is the core (musicd.services.playlist_core: access, reads, item
edits with snapshot merging, follows, collaborators) plus generated mixes, M3U8/XSPF files and the Subsonic methods.

Public methods (`user` is the asking domain User; unreadable playlists are NotFoundError "playlist_not_found"):
- get(user, id) -> (Playlist, Viewer); page(user, id, limit, offset) -> (Playlist, Page[PlaylistItem]);
  items(user | None, playlist, limit, offset); lookup(ids, user_id) -> [Playlist | None] (search)
- my_playlists(user, limit, offset), user_playlists(user, owner_id, limit, offset) -> Page[Playlist]
- create(user, name, description, public, collaborative, owner_id=None); change_details(...); delete(user, id);
  set_cover(user, id, base64 JPEG bytes) -> snapshot id
- add(user, id, track_ids, position=None, snapshot=None), remove(user, id, [(track_id, positions|None)], snapshot),
  reorder(user, id, range_start, insert_before, range_length, snapshot), replace(user, id, track_ids, snapshot)
  -> new snapshot id; a stale snapshot merges or raises ConflictError "snapshot_conflict"
- follow / unfollow(user, id), followers_contain(user, id, user_ids); collaborators / invite / uninvite
- track_ids(user, id) -> the playlist's track ids in order
- view(user, id, limit, offset) -> (Playlist, Page[PlaylistItem]) or, for a generated mix's id,
  (Mix, Page[TrackView | None]) (share links are musicd.services.shares')
- export(user, id, "m3u8"|"xspf") -> (file name, media type, text); import_file(user, body, name, public)
- Subsonic: subsonic_list(user, owner_id=None) -> [(Playlist, duration)],
  subsonic_get(user, id) -> (Playlist, [PlaylistItem]),
  subsonic_create(user, name, song_ids, playlist_id=None), subsonic_update(user, id, name, comment, public,
  add, remove_indexes), delete(user, id)
"""

from __future__ import annotations

from collections.abc import Sequence

from musicd.domain.catalog import Mix, Page, TrackView
from musicd.domain.models import User
from musicd.domain.playlists import MAX_ITEMS, Append, EditOp, Playlist, PlaylistItem, RemoveAt, Replace
from musicd.errors import ValidationError
from musicd.services.bus import EventBus
from musicd.services.catalog import CatalogService
from musicd.services.metrics import Metrics
from musicd.services.mixes import MixesService, is_mix_id
from musicd.services.playlist_core import (
    MAX_COVER_BASE64,
    MAX_DESCRIPTION,
    MAX_NAME,
    MAX_PAGE,
    PayloadTooLarge,
    PlaylistCore,
    check_page,
)
from musicd.services.playlist_files import FORMATS, TrackMatcher, parse_playlist, render_m3u8, render_xspf
from musicd.services.rules import require_admin, require_member
from musicd.store.playlists import PlaylistRepository

__all__ = ["MAX_COVER_BASE64", "MAX_PAGE", "PayloadTooLarge", "PlaylistService"]


class PlaylistService(PlaylistCore):
    """Everything both APIs do with playlists, for one asking user (a domain User)."""

    def __init__(self, repo: PlaylistRepository, catalog: CatalogService, bus: EventBus, mixes: MixesService,
                 metrics: Metrics | None = None) -> None:
        super().__init__(repo, catalog, bus, metrics)
        self.mixes = mixes

    # ---- any playlist by id: a stored one, or a generated mix (read-only, ids "mix-...") ----

    async def view(self, user: User, playlist_id: str, limit: int = MAX_PAGE, offset: int = 0
                   ) -> tuple[Playlist, Page[PlaylistItem]] | tuple[Mix, Page[TrackView | None]]:
        """A playlist and a page of its items, or a mix and a page of its tracks (None where one is gone)."""
        check_page(limit, offset, MAX_PAGE)
        if not is_mix_id(playlist_id):
            return await self.page(user, playlist_id, limit, offset)
        mix = await self.mixes.mix(playlist_id, user.id)
        tracks = await self.catalog.tracks(mix.track_ids[offset:offset + limit], user.id)
        return mix, Page(items=list(tracks), total=len(mix.track_ids), limit=limit, offset=offset)

    async def track_ids(self, user: User, playlist_id: str) -> list[str]:
        """The ids of a playlist's tracks in order, without reading the tracks."""
        pl, _ = await self._load(user, playlist_id)
        return [e.track_id for e in await self.repo.entries(pl.id)]

    # ---- files ----

    async def export(self, user: User, playlist_id: str, fmt: str) -> tuple[str, str, str]:
        """(file name, media type, text) of the playlist as M3U8 or XSPF."""
        if fmt not in FORMATS:
            raise ValidationError("format must be m3u8 or xspf", code="bad_format")
        pl, _ = await self._load(user, playlist_id)
        tracks = [t for t in await self.catalog.tracks([e.track_id for e in await self.repo.entries(pl.id)])
                  if t is not None]
        text = (render_m3u8(pl.name, tracks) if fmt == "m3u8"
                else render_xspf(pl.name, pl.description, pl.owner_name, tracks))
        safe = "".join(c if c.isalnum() or c in " -_." else "_" for c in pl.name).strip() or "playlist"
        return f"{safe}.{fmt}", FORMATS[fmt], text

    async def import_file(self, user: User, body: bytes, name: str | None = None, public: bool = False
                          ) -> tuple[Playlist, int, list[dict[str, object]]]:
        """Create a playlist from an M3U8/XSPF body; (playlist, matched count, the lines not matched)."""
        require_member(user)
        parsed = parse_playlist(body)
        if len(parsed.entries) > MAX_ITEMS:
            raise ValidationError(f"a playlist holds at most {MAX_ITEMS} items", code="playlist_full")
        matcher = TrackMatcher(await self.repo.track_keys())
        matched: list[str] = []
        unmatched: list[dict[str, object]] = []
        for e in parsed.entries:
            tid = matcher.match(e)
            if tid is None:
                unmatched.append({"index": e.index, "location": e.location, "title": e.title,
                                  "artist": e.artist, "album": e.album, "extinf": e.extinf})
            else:
                matched.append(tid)
        pl = await self.create(user, (name or parsed.name or "Imported playlist")[:MAX_NAME],
                               (parsed.description or "")[:MAX_DESCRIPTION], public=public)
        if matched:
            await self._edit(user, pl.id, [Append(matched)], None, "import", editable=True)
        return (await self._load(user, pl.id))[0], len(matched), unmatched

    # ---- Subsonic (getPlaylists, getPlaylist, createPlaylist, updatePlaylist, deletePlaylist) ----

    async def subsonic_list(self, user: User, owner_id: str | None = None) -> list[tuple[Playlist, float]]:
        """The user's own, collaborating and everyone's public playlists, each with its duration in
        seconds; an admin may ask for one owner's."""
        if owner_id is not None and owner_id != user.id:
            require_admin(user)
            items, _ = await self.repo.library(owner_id, owner_id, -1, 0)
        else:
            items = await self.repo.visible(user.id)
        durations = await self.repo.durations([p.id for p in items]) if items else {}
        return [(p, durations.get(p.id, 0.0)) for p in items]

    async def subsonic_get(self, user: User, playlist_id: str) -> tuple[Playlist, list[PlaylistItem]]:
        """The playlist and every item with its track (the user's state filled in)."""
        pl, _ = await self._load(user, playlist_id)
        entries = await self.repo.entries(pl.id)
        tracks = await self.catalog.tracks([e.track_id for e in entries], user.id)
        return pl, [PlaylistItem(i, e, t) for i, (e, t) in enumerate(zip(entries, tracks, strict=True))]

    async def subsonic_create(self, user: User, name: str | None, track_ids: Sequence[str],
                              playlist_id: str | None = None) -> Playlist:
        """createPlaylist: a new playlist with these songs, or (with playlist_id) replace an existing one's songs."""
        if playlist_id is None:
            if not name:
                raise ValidationError("a new playlist needs a name", code="invalid_name")
            pl = await self.create(user, name, public=False)
            playlist_id = pl.id
            if track_ids:
                await self._edit(user, playlist_id, [Append(list(track_ids))], None, "add", editable=True)
        else:
            pl, viewer = await self._load(user, playlist_id)
            if name and name != pl.name and viewer.owner:
                await self.change_details(user, playlist_id, name=name)
            await self._edit(user, playlist_id, [Replace(list(track_ids))], None, "replace")
        return (await self._load(user, playlist_id))[0]

    async def subsonic_update(self, user: User, playlist_id: str, name: str | None = None,
                              comment: str | None = None, public: bool | None = None,
                              add: Sequence[str] = (), remove_indexes: Sequence[int] = ()) -> Playlist:
        """updatePlaylist: details (owner only), then remove songs by index (of the list before) and append."""
        if name is not None or comment is not None or public is not None:
            await self.change_details(user, playlist_id, name=name, description=comment, public=public)
        ops: list[EditOp] = []
        if remove_indexes:
            ps = sorted(set(remove_indexes))
            ops.append(RemoveAt(ps, [None] * len(ps)))
        if add:
            ops.append(Append(list(add)))
        if ops:
            await self._edit(user, playlist_id, ops, None, "update")
        return (await self._load(user, playlist_id))[0]
