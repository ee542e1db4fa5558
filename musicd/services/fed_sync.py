"""Mirroring peers' catalogues: one loop per peer, on a schedule and on the peer's "changed" notice.

A first sync (or one after the peer's change log went backwards: a restored backup) reads the whole
catalogue in keyset pages, then removes what the peer no longer has; later syncs read the change feed
from the last cursor (changes and tombstones). Pages are bounded (docs/federation.md) and a catalogue
larger than `federation.max_peer_tracks` is cut there. Each peer has its own task, client and breaker, so
one slow or dead peer never holds up another; a peer that fails is marked unavailable (its items show
so) and tried again at the next round.

The other direction: when the local catalogue changes (the change log's head moves), every active peer
gets a signed "changed" notice, so its mirror of us follows within seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Sequence

import msgspec

from musicd.config import FederationConfig
from musicd.domain.federation import CatalogPage, ChangesPage, Hello, Peer, PlaylistsPage, TrackItem
from musicd.domain.ids import federated_id
from musicd.logs import get_logger
from musicd.net.federation import PeerClient, PeerError
from musicd.search.index import normalise_words
from musicd.services.fed_search import FedIndex
from musicd.services.fed_views import FedViews
from musicd.services.federation import FederationService
from musicd.store.fed_export import FedExportRepository
from musicd.store.fed_mirror import FedMirrorRepository, MirrorRow

__all__ = ["MirrorSync", "SyncResult", "mirror_row"]

log = get_logger("musicd.federation")

PAGE = 500
_WATCH_S = 2.0  # how often the peer list and the local change head are looked at
_DURATION_SLACK_S = 2.0


class SyncResult(msgspec.Struct):
    peer_id: str
    ok: bool
    changed: int = 0
    removed: int = 0
    total: int = 0
    error: str | None = None
    full: bool = False


def mirror_row(peer_id: str, t: TrackItem, version: int) -> MirrorRow:
    """A peer's track as the mirror stores it: every id made local (F-ids), names kept."""
    artists = [[federated_id("artist", peer_id, aid), name] for aid, name in t.artists]
    return MirrorRow((
        federated_id("track", peer_id, t.id), peer_id, t.id, federated_id("album", peer_id, t.album_id), t.title,
        t.artist, json.dumps(artists), t.album, federated_id("artist", peer_id, t.album_artist_id), t.album_artist,
        int(t.compilation), t.track_number, t.track_total, t.disc_number, t.disc_total, t.year, json.dumps(t.genres),
        t.duration, t.format, t.size, t.bitrate, t.sample_rate, t.channels, t.bit_depth, t.isrc, t.mbid,
        t.album_mbid, version, None,
    ))


def _key(artist: str, title: str) -> tuple[str, str]:
    return " ".join(normalise_words(artist)), " ".join(normalise_words(title))


class _LocalKeys:
    """The local library's recordings by MusicBrainz id, ISRC and normalised artist + title."""

    def __init__(self, rows: Sequence[tuple[str, str | None, str | None, str, str, float]]) -> None:
        self.mbid: dict[str, str] = {}
        self.isrc: dict[str, str] = {}
        self.names: dict[tuple[str, str], list[tuple[float, str]]] = {}
        for tid, mbid, isrc, artist, title, duration in rows:
            if mbid:
                self.mbid.setdefault(mbid.lower(), tid)
            if isrc:
                self.isrc.setdefault(isrc.upper(), tid)
            self.names.setdefault(_key(artist, title), []).append((duration, tid))

    def match(self, mbid: str | None, isrc: str | None, artist: str, title: str, duration: float) -> str | None:
        """The local track a friend's copy collapses into, if any."""
        if mbid and (hit := self.mbid.get(mbid.lower())):
            return hit
        if isrc and (hit := self.isrc.get(isrc.upper())):
            return hit
        for d, tid in self.names.get(_key(artist, title), ()):
            if abs(d - duration) <= _DURATION_SLACK_S:
                return tid
        return None


class _Pending:
    """What a sync stored and the search index has yet to take."""

    __slots__ = ("changed", "groups", "removed")

    def __init__(self) -> None:
        self.changed: set[str] = set()
        self.removed: set[str] = set()
        self.groups: set[str] = set()


class MirrorSync:
    def __init__(self, federation: FederationService, mirror: FedMirrorRepository, export: FedExportRepository,
                 index: FedIndex, views: FedViews, cfg: FederationConfig) -> None:
        self.fed = federation
        self.mirror = mirror
        self.export = export
        self.index = index
        self.views = views
        self.cfg = cfg
        self._wakes: dict[str, asyncio.Event] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._local: tuple[int, _LocalKeys] | None = None
        self.last: dict[str, SyncResult] = {}
        self.peers_seen: dict[str, Peer] = {}  # as of the last look (for metrics)
        self._pending: dict[str, _Pending] = {}

    # ---- the loops ----

    async def run(self) -> None:
        """Watch the peers (start or stop their loops) and the local change head (tell peers); runs until cancelled."""
        head = await self.export.head()
        await self._notify_all("started")
        try:
            while True:
                peers = self.peers_seen = {p.id: p for p in await self.fed.list_peers()}
                for pid, p in peers.items():
                    if p.status == "revoked" and (p.track_count or pid in self._tasks):
                        await self._stop(pid)
                        await self.purge(pid)
                    elif p.status == "active" and pid not in self._tasks:
                        self._tasks[pid] = asyncio.create_task(self._peer_loop(pid), name=f"fed-sync-{pid}")
                for pid in [p for p in self._tasks if p not in peers]:
                    await self._stop(pid)
                now_head = await self.export.head()
                if now_head != head:
                    head = now_head
                    await self._local_changed()
                    await self._notify_all("changed")
                await asyncio.sleep(_WATCH_S)
        finally:
            for pid in list(self._tasks):
                await self._stop(pid)

    async def _stop(self, peer_id: str) -> None:
        task = self._tasks.pop(peer_id, None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task

    def wake(self, peer_id: str) -> None:
        """A peer said its catalogue changed: sync it now rather than at the next round."""
        self._wakes.setdefault(peer_id, asyncio.Event()).set()

    async def _peer_loop(self, peer_id: str) -> None:
        wake = self._wakes.setdefault(peer_id, asyncio.Event())
        while True:
            wake.clear()
            try:
                result = await self.sync(peer_id)
            except Exception as e:  # never let one peer's surprise end its loop
                log.error("federation.sync_crashed", peer=peer_id, error=repr(e))
                result = SyncResult(peer_id, False, error=repr(e))
            # A peer that failed is tried again sooner than the schedule (when its breaker lets us).
            wait = self.cfg.sync_minutes * 60 if result.ok else min(self.cfg.sync_minutes * 60,
                                                                    max(1.0, self.cfg.breaker_seconds))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), wait)

    async def _notify_all(self, reason: str) -> None:
        peers = [p for p in await self.fed.list_peers() if p.status == "active"]
        await asyncio.gather(*(self._notify(p, reason) for p in peers))

    async def _notify(self, peer: Peer, reason: str) -> None:
        with contextlib.suppress(PeerError):
            await self.fed.client(peer).request("POST", "/fed/v1/notify", body=json.dumps({"reason": reason}).encode(),
                                                idempotent=False, max_bytes=64 << 10)

    # ---- one sync ----

    async def sync(self, peer_id: str) -> SyncResult:
        """Bring the mirror of one peer up to date (one sync of a peer at a time)."""
        async with self._locks.setdefault(peer_id, asyncio.Lock()):
            peer = await self.fed.peers.get(peer_id)
            if peer is None or peer.status != "active":
                return SyncResult(peer_id, False, error="not an active peer")
            result = await self._sync(peer)
            self.last[peer_id] = result
            self.views.forget_peers()
            return result

    async def _sync(self, peer: Peer) -> SyncResult:
        client = self.fed.client(peer)
        try:
            hello = await self._get(client, "/fed/v1/hello", {}, Hello)
            if hello is None:  # they revoked us: our pairing is over
                await self.fed.peers.set_status(peer.id, "revoked")
                await self.purge(peer.id)
                return SyncResult(peer.id, False, error="the peer revoked this server")
            peer = await self.fed.learn_scopes(peer, hello)
            if "library" not in peer.scopes_received:
                removed = await self.purge(peer.id) if peer.track_count else 0
                await self.fed.peers.sync_done(peer.id, None, "the peer does not share its library with us")
                self.fed.mark(peer.id, True)
                return SyncResult(peer.id, True, removed=removed)
            self._pending[peer.id] = _Pending()
            try:
                if peer.sync_cursor is None:
                    result = await self._full(peer, client)
                else:
                    result = await self._delta(peer, client, peer.sync_cursor)
            finally:
                await self._index_pending(peer.id)  # what was stored is searchable, even after a failure
            await self._playlists(peer, client)
        except PeerError as e:
            self.fed.mark(peer.id, False)
            await self.fed.peers.unreachable(peer.id, f"{e.code}: {e.message}")
            log.warning("federation.sync_failed", peer=peer.id, error=e.message)
            return SyncResult(peer.id, False, error=f"{e.code}: {e.message}")
        self.fed.mark(peer.id, True)
        return result

    async def _get(self, client: PeerClient, path: str, params: dict[str, object], kind: type) -> object:
        reply = await client.request("GET", path, params=params)
        if reply.status == 401:
            code = _code(reply.body)
            if code in ("peer_revoked", "unknown_peer"):
                return None
            raise PeerError(f"the peer refused our signature ({code})", code="peer_refused", http_status=401)
        if reply.status != 200:
            raise PeerError(f"the peer answered {reply.status} to {path}", http_status=reply.status,
                            remote_code=_code(reply.body))
        try:
            return msgspec.json.decode(reply.body, type=kind)
        except (msgspec.DecodeError, msgspec.ValidationError) as e:
            raise PeerError(f"the peer answered garbage to {path}: {str(e)[:200]}", code="peer_bad_response") from None

    async def _full(self, peer: Peer, client: PeerClient) -> SyncResult:
        seen: set[str] = set()
        after, cursor, changed, capped = "", None, 0, False
        while True:
            page = await self._get(client, "/fed/v1/catalog", {"after": after, "limit": PAGE}, CatalogPage)
            if not isinstance(page, CatalogPage):
                raise PeerError("the peer stopped answering during a full sync")
            if len(page.items) > PAGE or (page.next is not None and page.next <= after):
                raise PeerError("the peer's catalogue pages do not advance", code="peer_bad_response")
            cursor = page.cursor if cursor is None else cursor
            room = self.cfg.max_peer_tracks - len(seen)
            items = page.items[:max(0, room)]
            capped = capped or len(items) < len(page.items)
            rows = [mirror_row(peer.id, t, cursor) for t in items]
            seen.update(r.id for r in rows)
            changed += await self._apply(peer.id, rows, [])
            if page.next is None or capped:
                break
            after = page.next
        stale = list((await self.mirror.ids_of_peer(peer.id)) - seen)
        removed = await self._apply(peer.id, [], stale)
        await self.fed.peers.set_cursor(peer.id, cursor)
        result = await self._delta(peer, client, cursor or 0, capped=capped, changed=changed, removed=removed,
                                   after_full=True)
        result.full = True
        return result

    async def _delta(self, peer: Peer, client: PeerClient, since: int, capped: bool = False, changed: int = 0,
                     removed: int = 0, after_full: bool = False) -> SyncResult:
        cursor = since
        while True:
            page = await self._get(client, "/fed/v1/changes", {"since": cursor, "limit": PAGE}, ChangesPage)
            if not isinstance(page, ChangesPage):
                raise PeerError("the peer stopped answering during a sync")
            if page.head < since:
                if after_full:  # it went backwards during the full sync itself: not a peer to trust now
                    raise PeerError("the peer's change log went backwards during a full sync",
                                    code="peer_bad_response")
                # Their change log went backwards (a restored backup): start over.
                await self.fed.peers.set_cursor(peer.id, None)
                return await self._full(peer, client)
            if any(c.seq <= cursor for c in page.items):
                raise PeerError("the peer's change feed does not advance", code="peer_bad_response")
            count = await self.mirror.count(peer.id)
            known = set(await self.mirror.tracks([federated_id("track", peer.id, c.id) for c in page.items]))
            rows, gone = [], []
            for c in page.items:
                fid = federated_id("track", peer.id, c.id)
                if c.deleted or c.track is None:
                    gone.append(fid)
                elif fid in known or count < self.cfg.max_peer_tracks:
                    rows.append(mirror_row(peer.id, c.track, c.seq))
                    count += fid not in known
                else:
                    capped = True
            changed += await self._apply(peer.id, rows, [])
            removed += await self._apply(peer.id, [], gone)
            if page.items:
                cursor = page.items[-1].seq
            if page.next is None or not page.items:
                break
        error = f"catalogue larger than {self.cfg.max_peer_tracks} tracks: mirrored that many" if capped else None
        await self.fed.peers.sync_done(peer.id, cursor, error)
        total = await self.mirror.count(peer.id)
        if changed or removed:
            log.info("federation.synced", peer=peer.id, changed=changed, removed=removed, total=total)
        return SyncResult(peer.id, True, changed, removed, total, error)

    async def _apply(self, peer_id: str, rows: list[MirrorRow], deleted: list[str]) -> int:
        """Store a batch with its collapse against the local library; its indexing waits for the sync's end
        (one index commit per sync rather than per page)."""
        if not rows and not deleted:
            return 0
        local = await self._local_keys()
        for r in rows:
            r.local_track_id = local.match(r.mbid_recording, r.isrc, r.artist_display, r.title, r.duration)
        pending = self._pending.setdefault(peer_id, _Pending())
        if deleted:
            for old in (await self.mirror.tracks(deleted)).values():
                pending.groups.update((old.album_id, old.album_artist_id, *(a for a, _ in old.artists)))
        for r in rows:
            pending.groups.update((r.album_id, r.album_artist_id, *(a for a, _ in r.artists)))
        await self.mirror.apply(rows, deleted)
        pending.changed.update(r.id for r in rows)
        pending.changed.difference_update(deleted)
        pending.removed.update(deleted)
        return len(rows) + len(deleted)

    async def _index_pending(self, peer_id: str) -> None:
        pending = self._pending.pop(peer_id, None)
        if pending is not None and (pending.changed or pending.removed):
            await self.index.update(sorted(pending.changed), sorted(pending.removed), sorted(pending.groups))

    async def _local_keys(self) -> _LocalKeys:
        head = await self.export.head()
        if self._local is None or self._local[0] != head:
            self._local = (head, _LocalKeys(await self.mirror.local_match_rows()))
        return self._local[1]

    async def _local_changed(self) -> None:
        """The local library changed: friends' copies may collapse now (or no longer)."""
        local = await self._local_keys()
        current = await self.mirror.current_matches()
        if not current:
            return
        flips: list[tuple[str | None, str]] = []
        for tid, mbid, isrc, artist, title, duration in await self.mirror.match_rows():
            now = local.match(mbid, isrc, artist, title, duration)
            if now != current.get(tid):
                flips.append((now, tid))
        if flips:
            await self.mirror.set_matches(flips)
            rows = await self.mirror.tracks([t for _, t in flips])
            groups = {g for r in rows.values() for g in (r.album_id, r.album_artist_id)}
            await self.index.update([t for _, t in flips], [], sorted(groups))
            log.info("federation.collapsed", changed=len(flips))

    async def _playlists(self, peer: Peer, client: PeerClient) -> None:
        page = await self._get(client, "/fed/v1/playlists", {}, PlaylistsPage)
        if not isinstance(page, PlaylistsPage):
            return
        await self.mirror.replace_playlists(peer.id, [
            (federated_id("playlist", peer.id, p.id), p.id, p.name, p.description, p.owner,
             [federated_id("track", peer.id, t) for t in p.track_ids], p.updated_at) for p in page.items])

    async def purge(self, peer_id: str) -> int:
        """Forget a peer's mirror and its index entries (revoked, or no longer shared with us)."""
        ids = await self.mirror.purge(peer_id)
        if ids:
            await self.index.update([], ids, [])
        await self.fed.peers.set_cursor(peer_id, None)
        self.views.forget_peers()
        log.info("federation.purged", peer=peer_id, items=len(ids))
        return len(ids)

    def status(self) -> dict[str, object]:
        return {pid: msgspec.structs.asdict(r) | {"at": time.time()} for pid, r in self.last.items()}


def _code(body: bytes) -> str | None:
    try:
        return str(json.loads(body)["error"]["code"])
    except Exception:
        return None
