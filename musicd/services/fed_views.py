"""Read models of items mirrored from peers: the same TrackView / AlbumView / ArtistView as local items,
with `origin` saying whose server they come from and whether it answers now."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

from musicd.domain.catalog import AlbumView, ArtistRef, ArtistView, ItemState, TrackView
from musicd.domain.federation import Origin, Peer, Sources
from musicd.errors import NotFoundError
from musicd.services.federation import FederationService
from musicd.store.fed_mirror import FedMirrorRepository, MirrorRow

__all__ = ["FedViews"]

_PEERS_TTL_S = 1.0
_CACHE_MAX = 50_000


class FedViews:
    def __init__(self, mirror: FedMirrorRepository, federation: FederationService) -> None:
        self.mirror = mirror
        self.federation = federation
        self._peers: dict[str, Peer] = {}
        self._peers_at = 0.0
        # Album and artist aggregates cost a query with subqueries each: kept until the next sync changes the
        # mirror (search pages ask for the same ones again and again).
        self._albums: dict[str, tuple[Any, ...]] = {}
        self._artists: dict[str, tuple[str, str, str, int, int]] = {}

    async def peers(self) -> dict[str, Peer]:
        """Paired peers by id (kept a second: every read of mirrored items needs their names and state)."""
        now = time.monotonic()
        if now - self._peers_at > _PEERS_TTL_S:
            self._peers = {p.id: p for p in await self.federation.peers.all(counts=False)}
            self._peers_at = now
        return self._peers

    def forget_peers(self) -> None:
        """The peers or the mirror changed: read them again."""
        self._peers_at = 0.0
        self._albums.clear()
        self._artists.clear()

    @staticmethod
    async def _cached(cache: dict[str, Any], ids: Sequence[str], fetch: Any) -> dict[str, Any]:
        missing = [i for i in dict.fromkeys(ids) if i not in cache]
        if missing:
            if len(cache) > _CACHE_MAX:
                cache.clear()
            cache.update({r[0]: r for r in await fetch(missing)})
        return {i: cache[i] for i in ids if i in cache}

    async def origin(self, peer_id: str) -> Origin | None:
        peer = (await self.peers()).get(peer_id)
        return self.federation.origin(peer) if peer is not None else None

    def _track(self, r: MirrorRow, origin: Origin, state: ItemState) -> TrackView:
        return TrackView(
            id=r.id, title=r.title, artist_display=r.artist_display,
            artists=[ArtistRef(a, n) for a, n in r.artists], album_id=r.album_id, album_name=r.album_name,
            album_artist=ArtistRef(r.album_artist_id, r.album_artist), compilation=r.compilation,
            track_number=r.track_number, track_total=r.track_total, disc_number=r.disc_number,
            disc_total=r.disc_total, disc_subtitle=None, year=r.year, genres=r.genres, duration=r.duration,
            format=r.format, size=r.size, bitrate=r.bitrate, sample_rate=r.sample_rate, channels=r.channels,
            bit_depth=r.bit_depth,
            rel_path="", cover_id=None, has_lyrics=False, isrc=r.isrc, mbid_recording=r.mbid_recording,
            rg_track_gain=None, rg_track_peak=None, rg_album_gain=None, rg_album_peak=None, bpm=None, comment=None,
            play_count=0, created_at="", state=state, origin=origin,
        )

    async def tracks(self, ids: Sequence[str], user_id: str | None = None) -> list[TrackView | None]:
        """Mirrored tracks in the order of `ids`; None where unknown."""
        if not ids:
            return []
        rows = await self.mirror.tracks_with_state(ids, user_id)
        peers = await self.peers()
        out: list[TrackView | None] = []
        for i in ids:
            found = rows.get(i)
            peer = peers.get(found[0].peer_id) if found is not None else None
            if found is None or peer is None:
                out.append(None)
                continue
            r, saved, rating = found
            out.append(self._track(r, self.federation.origin(peer), ItemState(saved_at=saved, rating=rating)))
        return out

    async def album_tracks(self, album_id: str, user_id: str | None = None) -> list[TrackView]:
        rows = await self.mirror.album_tracks([album_id])
        return [t for t in await self.tracks([r.id for r in rows], user_id) if t is not None]

    async def albums(self, ids: Sequence[str], user_id: str | None = None) -> list[AlbumView | None]:
        """Mirrored albums (aggregated from their tracks) in the order of `ids`; None where unknown."""
        if not ids:
            return []
        rows = await self._cached(self._albums, ids, self.mirror.album_rows)
        peers = await self.peers()
        out: list[AlbumView | None] = []
        for i in ids:
            r = rows.get(i)
            peer = peers.get(r[10]) if r is not None else None
            if r is None or peer is None:
                out.append(None)
                continue
            artist = ArtistRef(r[2], r[3])
            others = [ArtistRef(a, n) for a, n in json.loads(r[12] or "[]")]
            out.append(AlbumView(
                id=i, name=r[1], artist=artist, artists=[artist, *others], compilation=bool(r[4]), year=r[5],
                genres=json.loads(r[11] or "[]"), cover_id=None, track_count=r[6], duration=r[7], disc_total=r[8],
                mbid=r[9], play_count=0, created_at="", origin=self.federation.origin(peer),
            ))
        return out

    async def artists(self, ids: Sequence[str], user_id: str | None = None) -> list[ArtistView | None]:
        if not ids:
            return []
        rows = await self._cached(self._artists, ids, self.mirror.artist_rows)
        peers = await self.peers()
        out: list[ArtistView | None] = []
        for i in ids:
            r = rows.get(i)
            peer = peers.get(r[2]) if r is not None else None
            if r is None or peer is None:
                out.append(None)
                continue
            out.append(ArtistView(id=i, name=r[1], sort_name=None, album_count=r[3], track_count=r[4], cover_id=None,
                                  mbid=None, origin=self.federation.origin(peer)))
        return out

    async def artist_album_ids(self, artist_id: str) -> list[str]:
        return await self.mirror.artist_album_ids(artist_id)

    # ---- Subsonic music folders: each friend's library is one ----

    async def music_folders(self) -> list[tuple[int, str]]:
        """(folder id, name) of the peers whose libraries show here (ids stay stable: they are kept per peer)."""
        return [(p.folder_no, p.name) for p in (await self.peers()).values()
                if p.status == "active" and "library" in p.scopes_received]

    async def sources_for_folder(self, folder_id: int | None, local_folders: int) -> Sources | None:
        """What a Subsonic `musicFolderId` covers: None (everything), the local library, or one peer."""
        if folder_id is None:
            return None
        if 1 <= folder_id <= local_folders:
            return Sources(local=True, peers=False)
        for p in (await self.peers()).values():
            if p.folder_no == folder_id and p.status == "active" and "library" in p.scopes_received:
                return Sources(local=False, peers=True, peer_id=p.id)
        raise NotFoundError(f"no music folder {folder_id}", code="folder_not_found")
