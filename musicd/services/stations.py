"""Radio stations: what a station URI names, its seeds, its pool, and pages of its endless sequence.

A station URI is `spotify:station:<kind>:<id>` (also accepted as `musicd:station:...`): kind is track,
album, artist, playlist (a stored playlist or a generated mix the user may see) or genre (the genre's id
from /v1/browse/categories or available-genre-seeds). See docs/radio.md.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from musicd.domain.catalog import TrackView
from musicd.domain.models import User
from musicd.domain.recommend import STATION_KINDS, Reason, Recommendation, StationPage, StationRef
from musicd.errors import NotFoundError, ValidationError
from musicd.services.mixes import is_mix_id
from musicd.services.radio import StationRun, StationRuns
from musicd.services.recommend_rank import Scores, Snapshot, reason_for, seed_scores

if TYPE_CHECKING:
    from musicd.services.recommend import RecommendService

__all__ = ["MAX_AFTER", "Stations", "parse_station"]

_URI = re.compile(r"^(?:spotify|musicd):station:(?P<kind>[a-z]+):(?P<id>[0-9A-Za-z_-]{1,128})$")
POOL = 300
MAX_PAGE = 100
MAX_AFTER = 10_000  # a month of listening: a station is endless in practice, bounded for the server


def parse_station(uri: str) -> StationRef:
    """A station URI; ValidationError "bad_station" for anything else."""
    m = _URI.match(uri.strip())
    if not m or m["kind"] not in STATION_KINDS:
        raise ValidationError(f"invalid station URI {uri!r} (expected spotify:station:<{'|'.join(STATION_KINDS)}>"
                              ":<id>)", code="bad_station")
    return StationRef(m["kind"], m["id"])


def _seed(ref: StationRef, user_id: str, snapshot_key: str = "") -> int:
    digest = hashlib.blake2b(f"{ref.uri}\x1f{user_id}\x1f{snapshot_key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


class _Seeds:
    """What a station starts from: seed tracks, the tracks it plays as its own, its name, its first track."""

    def __init__(self, name: str, seeds: dict[int, float], own: np.ndarray, first: int | None = None) -> None:
        self.name, self.seeds, self.own, self.first = name, seeds, own, first


@dataclass
class _Station:
    run: StationRun
    scores: Scores
    seeds: _Seeds


class Stations:
    def __init__(self, rec: RecommendService) -> None:
        self.rec = rec
        self.runs: StationRuns[_Station] = StationRuns()

    async def _seeds(self, ref: StationRef, user: User, snap: Snapshot) -> _Seeds:
        rec = self.rec
        if ref.kind == "track":
            i = snap.index.get(ref.id)
            if i is None:
                raise NotFoundError(f"no track with id {ref.id}", code="track_not_found")
            return _Seeds(snap.facts[i].title, {i: 1.0}, np.array([i]), first=i)
        if ref.kind == "album":
            album = await rec.catalog.album(ref.id)
            return self._group(snap, album.name, [snap.index[t.id] for t in await rec.catalog.album_tracks(ref.id)
                                                  if t.id in snap.index])
        if ref.kind == "artist":
            a = snap.artist_index.get(ref.id)
            artist = await rec.catalog.artist(ref.id)
            rows = [] if a is None else snap.tracks_of_artist(a).tolist()
            return self._group(snap, artist.name, rows)
        if ref.kind == "genre":
            rows = await rec.genre_tracks(snap, ref.id)
            cats = await rec.mixes.categories()
            name = next((c.name for c in cats if c.id == ref.id), snap.facts[int(rows[0])].genres[0] if len(rows)
                        else ref.id)
            return self._group(snap, name, rows.tolist())
        if is_mix_id(ref.id):
            mix = await rec.mixes.mix(ref.id, user.id)
            name, ids = mix.name, mix.track_ids
        else:
            playlist, _ = await rec.playlists.get(user, ref.id)  # NotFoundError when the user may not see it
            name, ids = playlist.name, await rec.playlists.track_ids(user, ref.id)
        return self._group(snap, name, [snap.index[t] for t in ids if t in snap.index])

    @staticmethod
    def _group(snap: Snapshot, name: str, rows: list[int]) -> _Seeds:
        """A group's ten most played tracks seed it (all of them weigh alike when nobody played them)."""
        own = np.array(sorted(set(rows)), np.int64)
        pop = snap.popularity[own] + 0.05 if len(own) else np.zeros(0)
        top = own[np.argsort(-pop, kind="stable")[:10]]
        return _Seeds(name, {int(i): float(snap.popularity[i] + 0.05) for i in top}, own)

    def _run(self, snap: Snapshot, seeds: _Seeds, seed: int) -> _Station:
        bonus = np.zeros(len(snap), np.float32)
        if len(seeds.own) > 1:
            bonus[seeds.own] = 0.6
        s = seed_scores(snap, seeds.seeds, bonus)
        total = s.total.astype(np.float64)
        if seeds.first is not None:
            total[seeds.first] = -1.0  # it opens the station (below, first in the pool); later it comes back
        # The library's unscored tracks stay in the pool (weighing little) so that a station of a small or
        # unplayed library still has enough tracks to keep its gaps.
        pool = np.argsort(-total, kind="stable")[:POOL]
        scored = np.maximum(total[pool], 0.0)
        weights = scored + 0.02 * float(scored.max(initial=0.0)) + 1e-4
        first: list[int] = []
        if seeds.first is not None:
            pool = np.concatenate([[seeds.first], pool[pool != seeds.first]])[:POOL]
            weights = np.concatenate([[1e-4], weights[: len(pool) - 1]])
            first = [0]
        run = StationRun(pool, weights, snap.artist[pool], seed, first)
        return _Station(run, s, seeds)

    async def tracks(self, context_uri: str, user: User, after: int = 0, n: int = 20) -> StationPage:
        """Tracks `after` .. `after + n - 1` of a station; the same positions name the same tracks while the
        station is in use (six hours after its last request)."""
        page, _ = await self._page(context_uri, user, after, n)
        return page

    async def page(self, context_uri: str, user: User, after: int = 0, n: int = 20
                   ) -> tuple[StationPage, list[TrackView | None]]:
        """A page of a station and its tracks as the user sees them."""
        page, _ = await self._page(context_uri, user, after, n)
        return page, await self.rec.catalog.tracks([r.track_id for r in page.items], user.id)

    async def _page(self, context_uri: str, user: User, after: int, n: int) -> tuple[StationPage, Snapshot]:
        ref = parse_station(context_uri)
        if not 0 <= after <= MAX_AFTER:
            raise ValidationError(f"offset must be between 0 and {MAX_AFTER}", code="bad_offset")
        if not 1 <= n <= MAX_PAGE:
            raise ValidationError(f"limit must be between 1 and {MAX_PAGE}", code="bad_limit")
        snap = await self.rec.snapshot()
        key = (ref.uri, user.id)
        station = self.runs.get(key)
        if station is None:
            seeds = await self._seeds(ref, user, snap)
            if not len(snap):
                raise NotFoundError("the library has no tracks", code="track_not_found")
            station = self.runs.put(key, self._run(snap, seeds, _seed(ref, user.id)))
        return StationPage(ref, f"{station.seeds.name} Radio", after,
                           self._items(snap, station, station.run.tracks_between(after, after + n))), snap

    @staticmethod
    def _items(snap: Snapshot, station: _Station, rows: list[int]) -> list[Recommendation]:
        seeds = station.seeds
        own = set(seeds.own.tolist())
        items = []
        for i in rows:
            if i in own and (seeds.first is None or i == seeds.first):
                reason = Reason("seed", f"From {seeds.name}")
            else:
                reason = reason_for(snap, station.scores, i, user=False)
            items.append(Recommendation(snap.facts[i].id, float(station.scores.total[i]), reason))
        return items

    async def similar(self, item_id: str, count: int, user: User) -> list[TrackView]:
        """The first `count` tracks of a fresh station from a track, album or artist, without the item's own
        tracks."""
        kind = await self.rec.catalog.kind_of(item_id)
        snap = await self.rec.snapshot()
        ref = StationRef(kind, item_id)
        seeds = await self._seeds(ref, user, snap)
        if count <= 0 or not len(snap):
            return []
        own = set(seeds.own.tolist())
        seeds.own = np.zeros(0, np.int64)  # no bonus for its own tracks: they are left out
        station = self._run(snap, seeds, _seed(ref, user.id))
        rows = station.run.tracks_between(0, min(count + len(own), len(snap)))
        ids = [snap.facts[i].id for i in dict.fromkeys(rows) if i not in own][:count]
        return [t for t in await self.rec.catalog.tracks(ids, user.id) if t is not None]
