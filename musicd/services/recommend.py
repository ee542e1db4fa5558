"""Recommendations, radio and made-for-you mixes, for both APIs, from the listening history and the audio.

Public methods (`user` is the asking domain User):
- for_me(user, limit) -> [(TrackView, Reason)]: tracks the user has not played, best first
- recommendations(user, seed_artists, seed_tracks, seed_genres, limit, attributes) ->
  ([(TrackView, Reason)], [SeedResult]): Spotify's recommendations; `attributes` are the raw
  min_/max_/target_ query values (ValidationError for contradictory or unknown ones, NotFoundError
  "track_not_found" / "artist_not_found" / "genre_not_found" for unknown seeds)
- genre_seeds() -> [genre id]; station_tracks(context_uri, user, after, n) -> StationPage and
  station_page(...) -> (StationPage, [TrackView | None]) (see services/stations.py)
- similar_tracks(item_id, count, user), top_tracks(artist_id, count, user) -> [TrackView];
  similar_artists(artist_id, count, user) -> [ArtistView] (Subsonic getSimilarSongs, getTopSongs, getArtistInfo)
- personal_mixes(user_id) / personal_mix(kind, key, user_id): the made-for-you mixes (services/made_for_you.py)
- loop(): the background trainer; rebuild() trains now; status() says what the model was built from.

The models (services/recommend_models.py) are trained in a short-lived niced process with BLAS limited to
one thread (services/recommend_train.py), stored in the database (a restart recommends at once), and
rebuilt every `rebuild_hours`, after `rebuild_after_plays` new plays and after a scan that changed the
library. Plays are followed on the bus (on_event: every API's finished plays, ListenBrainz scrobblers'
included) and, for what reaches the history without an event (ListenBrainz and Last.fm imports, rematched
listens), the history table is compared every `check_seconds`. A build first folds the play journal, so
the plays that made it due are in it. Until a first model exists, and for users and tracks it does not
know, audio similarity and the library's own play counts answer.

numpy (and the model, the scoring modules, stations and mixes) is loaded on the first request that needs
it, never to serve the rest of the APIs, and never to decide or make a build.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from musicd.config import RecommendConfig
from musicd.domain import events as ev
from musicd.domain.catalog import ArtistView, Mix, TrackView
from musicd.domain.models import User
from musicd.domain.recommend import MAX_SEEDS, MODEL_VERSION, Reason, SeedResult, StationPage
from musicd.errors import NotFoundError, ValidationError
from musicd.logs import get_logger
from musicd.services.analysis import AnalysisService
from musicd.services.catalog import CatalogService
from musicd.services.metrics import Metrics
from musicd.services.mixes import MixesService
from musicd.services.playlists import PlaylistService
from musicd.services.recommend_train import build_in_process
from musicd.store.recommend import ModelInfo, RecommendRepository

if TYPE_CHECKING:  # numpy and everything over it: loaded on first use (see the module's docstring)
    import numpy as np

    from musicd.services.made_for_you import MadeForYou
    from musicd.services.recommend_models import Models
    from musicd.services.recommend_rank import Snapshot
    from musicd.services.stations import Stations

__all__ = ["ModelStatus", "RecommendService"]

log = get_logger("musicd.recommend")

MODEL_NAME = "main"
POOL = 250
MAX_LIMIT = 100


@dataclass
class ModelStatus:
    built_at: float | None  # time.time() of the build this process made or loaded, None before any
    history_id: int
    listens: int
    users: int
    tracks: int
    build_s: float


class RecommendService:
    def __init__(self, repo: RecommendRepository, analysis: AnalysisService, catalog: CatalogService,
                 playlists: PlaylistService, mixes: MixesService, cfg: RecommendConfig, metrics: Metrics,
                 fold_plays: Callable[[], Awaitable[int]] | None = None) -> None:
        self.repo = repo
        self.analysis = analysis
        self.catalog = catalog
        self.playlists = playlists
        self.mixes = mixes
        self.cfg = cfg
        self.metrics = metrics
        self._models: Models | None = None
        self._loaded = False  # the stored model was loaded (or found missing) for serving
        self._info: ModelInfo | None = None  # what the current model was built from
        self._info_loaded = False
        self._build_s = 0.0
        self._snap: Snapshot | None = None
        self._dirty = True  # the catalogue or the model changed: the snapshot is made again
        self._lock = asyncio.Lock()
        self._build_lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._library_changed = False
        self._new_plays = 0  # finished plays seen on the bus since the last build started
        self._fold_plays = fold_plays
        self._built_at: float | None = None

    @cached_property
    def stations(self) -> Stations:
        from musicd.services.stations import Stations

        return Stations(self)

    @cached_property
    def made_for_you(self) -> MadeForYou:
        from musicd.services.made_for_you import MadeForYou

        return MadeForYou(self)

    # ---- the model ----

    async def snapshot(self) -> Snapshot:
        """The catalogue with the current model aligned on it and the analysed tracks' features."""
        async with self._lock:
            if not self._loaded:
                self._loaded = True
                await self._load_stored()
            if self._snap is None or self._dirty:
                from musicd.services.recommend_models import Models, align
                from musicd.services.recommend_rank import Snapshot

                facts = await self.repo.track_facts()
                ids = [f.id for f in facts]
                models = align(self._models, ids) if self._models else Models.empty(ids)
                self._snap = Snapshot(facts, models)
                self._dirty = False
            fm = await self.analysis.features()
            if fm is not self._snap.audio:
                self._snap.set_audio(fm)
            return self._snap

    async def _load_stored(self) -> None:
        from musicd.services.recommend_models import from_bytes

        stored = await self.repo.model(MODEL_NAME)
        if stored is None or stored.version != MODEL_VERSION:
            return
        try:
            self._models = await asyncio.to_thread(from_bytes, stored.data)
        except Exception as e:  # a damaged row is rebuilt, never fatal
            log.warning("recommend.model_unreadable", error=str(e))
            self._info, self._info_loaded = None, True
            return
        self._set_info(ModelInfo(stored.version, stored.history_id, stored.listens, stored.tracks, stored.users))
        self._build_s = self._models.build_s

    def _set_info(self, info: ModelInfo) -> None:
        if self._info != info or self._built_at is None:
            self._built_at = time.time()
        self._info, self._info_loaded = info, True
        self.metrics.recommend_listens.set(info.listens)

    async def _load_info(self) -> None:
        """What the stored model was built from (one small row, no arrays), once."""
        if self._info_loaded:
            return
        self._info_loaded = True
        info = await self.repo.model_info(MODEL_NAME)
        if info is not None and info.version == MODEL_VERSION:
            self._set_info(info)

    def status(self) -> ModelStatus:
        i = self._info
        return ModelStatus(self._built_at, i.history_id if i else 0, i.listens if i else 0, i.users if i else 0,
                           i.tracks if i else 0, self._build_s)

    async def rebuild(self) -> ModelStatus:
        """Train every model from the whole history now (one build at a time), store it and use it."""
        async with self._build_lock:
            t0 = time.monotonic()
            self._new_plays = 0
            if self._fold_plays is not None:
                await self._fold_plays()  # the journaled plays reach the history first
            history_id = await self.repo.last_listen_id()
            built = await build_in_process(self.repo.db.path, history_id)
            await self.repo.save_model(MODEL_NAME, MODEL_VERSION, built.history_id, built.listens, built.tracks,
                                       built.users, built.data)
            async with self._lock:  # the next request that needs the model loads this one
                self._models, self._dirty, self._loaded = None, True, False
                self._built_at = None
                self._set_info(ModelInfo(MODEL_VERSION, built.history_id, built.listens, built.tracks, built.users))
                self._build_s = built.build_s
            if "made_for_you" in self.__dict__:  # made already: its mixes are of the old model
                self.made_for_you.forget()
            wall = time.monotonic() - t0
            self.metrics.recommend_builds.labels("done").inc()
            self.metrics.recommend_build_seconds.set(wall)
            log.info("recommend.built", listens=built.listens, users=built.users, tracks=built.tracks,
                     train_s=round(built.build_s, 2), wall_s=round(wall, 2))
            return self.status()

    async def _due(self) -> bool:
        await self._load_info()
        if self._new_plays >= self.cfg.rebuild_after_plays:
            return True  # plays seen on the bus may still be in the journal, which a build folds first
        last = await self.repo.last_listen_id()
        if last == 0 and (self._info is None or self._info.listens == 0):
            return False  # no history, none learnt: a build would make the empty model serving starts from
        if self._library_changed:
            return True
        if self._info is None or self._built_at is None:
            return True
        if time.time() - self._built_at >= self.cfg.rebuild_hours * 3600:
            return True
        return last - self._info.history_id >= self.cfg.rebuild_after_plays

    def wake(self) -> None:
        self._wake.set()

    async def on_event(self, e: ev.Event) -> None:
        """Bus consumer: a library change, or enough finished plays since the last build, wake the trainer."""
        if isinstance(e, ev.LibraryChanged):
            await self.on_scanned(e)
        elif isinstance(e, ev.PlayEnded | ev.PlayScrobbled):
            self._new_plays += 1
            if self._new_plays >= self.cfg.rebuild_after_plays:
                self.wake()

    async def on_overflow(self) -> None:
        """Events were lost: assume the library changed (the history is compared anyway)."""
        await self.on_scanned(ev.LibraryChanged(added=1, updated=0, moved=0, removed=0, changed_track_ids=(),
                                                removed_track_ids=(), album_ids=(), new_album_ids=(),
                                                removed_album_ids=()))

    async def on_scanned(self, summary: Any) -> None:
        """A scan finished (LibraryChanged): a library that changed means a new model and catalogue snapshot."""
        if any(getattr(summary, k, 0) for k in ("added", "updated", "moved", "removed")):
            self._library_changed = True
            async with self._lock:
                self._dirty = True
            self.wake()

    async def loop(self) -> None:
        """Background task: a build when due (checked every `check_seconds` and when woken)."""
        while True:
            try:
                if await self._due():
                    self._library_changed = False
                    await self.rebuild()
            except asyncio.CancelledError:
                raise
            except Exception as e:
                self.metrics.recommend_builds.labels("failed").inc()
                log.error("recommend.build_failed", error=str(e))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.cfg.check_seconds)
            self._wake.clear()

    # ---- recommendations ----

    async def _views(self, picks: Sequence[tuple[int, Reason]], snap: Snapshot, user: User
                     ) -> list[tuple[TrackView, Reason]]:
        views = await self.catalog.tracks([snap.facts[i].id for i, _ in picks], user.id)
        return [(v, r) for v, (_, r) in zip(views, picks, strict=True) if v is not None]

    async def for_me(self, user: User, limit: int = 20) -> list[tuple[TrackView, Reason]]:
        """Tracks the user has never played, best first, each with its reason."""
        if not 1 <= limit <= MAX_LIMIT:
            raise ValidationError(f"limit must be between 1 and {MAX_LIMIT}", code="bad_limit")
        return await self._views(await self.for_me_indexes(user.id, limit), await self.snapshot(), user)

    async def for_me_indexes(self, user_id: str, limit: int, *, exclude: Sequence[int] = ()
                             ) -> list[tuple[int, Reason]]:
        """Track indexes (of the snapshot) and reasons of the user's recommendations."""
        import numpy as np

        from musicd.services.recommend_rank import reason_for, user_scores, user_weights

        snap = await self.snapshot()
        plays = await self.repo.user_plays(user_id)
        weights = user_weights(snap, plays, time.time())
        # A pass over every track (tens of ms at 10k): in a thread, so the event loop keeps serving.
        s = await asyncio.to_thread(user_scores, snap, user_id, weights)
        total = s.total.astype(np.float64)
        played = [snap.index[p.track_id] for p in plays if p.track_id in snap.index]
        total[played] = -np.inf
        total[list(exclude)] = -np.inf
        top = [int(i) for i in np.argsort(-total, kind="stable")[:limit] if np.isfinite(total[i])]
        return [(i, reason_for(snap, s, i, user=True)) for i in top]

    async def recommendations(
        self, user: User, seed_artists: Sequence[str], seed_tracks: Sequence[str], seed_genres: Sequence[str],
        limit: int = 20, attributes: Mapping[str, str] | None = None,
    ) -> tuple[list[tuple[TrackView, Reason]], list[SeedResult]]:
        """Spotify's recommendations: tracks like the seeds, within the min/max bounds, nearest the targets."""
        total_seeds = len(seed_artists) + len(seed_tracks) + len(seed_genres)
        if not 1 <= total_seeds <= MAX_SEEDS:
            raise ValidationError(f"give 1 to {MAX_SEEDS} seeds in all (seed_artists, seed_tracks, seed_genres)",
                                  code="bad_seeds")
        if not 1 <= limit <= MAX_LIMIT:
            raise ValidationError(f"limit must be between 1 and {MAX_LIMIT}", code="bad_limit")
        import numpy as np

        from musicd.services.recommend_seeds import filter_and_rank, parse_tunables

        tunables = parse_tunables(attributes or {})
        snap = await self.snapshot()
        seeds = [("artist", a, await self._artist_seed(snap, a)) for a in seed_artists]
        seeds += [("track", t, self._track_seed(snap, t)) for t in seed_tracks]
        seeds += [("genre", g, await self._genre_seed(snap, g)) for g in seed_genres]
        combined = np.zeros(len(snap), np.float64)
        pools: list[np.ndarray] = []
        scored = []
        own: set[int] = set()
        from musicd.services.recommend_rank import seed_scores

        for _kind, _id, (weights, bonus) in seeds:
            s = await asyncio.to_thread(seed_scores, snap, weights, bonus)
            total = s.total.astype(np.float64)
            if bonus is None:
                own.update(weights)
            top = float(total.max()) if len(total) else 0.0
            if top > 0:
                combined += total / top
            order = np.argsort(-total, kind="stable")[:POOL]
            pools.append(order[total[order] > 0])
            scored.append(s)
        combined[list(own)] = -np.inf
        candidates = np.unique(np.concatenate(pools)) if pools else np.zeros(0, np.int64)
        candidates = candidates[np.isfinite(combined[candidates])]
        ranked, passed = await filter_and_rank(self.analysis, snap, candidates, combined, tunables, limit)
        results = [SeedResult(kind, sid, len(pool), int(np.isin(pool, passed).sum()))
                   for (kind, sid, _), pool in zip(seeds, pools, strict=True)]
        picks = [(i, self._seed_reason(snap, scored, i)) for i in ranked]
        return await self._views(picks, snap, user), results

    @staticmethod
    def _seed_reason(snap: Snapshot, scored: list[Any], i: int) -> Reason:
        from musicd.services.recommend_rank import reason_for

        best = max(scored, key=lambda s: float(s.total[i]))
        return reason_for(snap, best, i, user=False)

    @staticmethod
    def _track_seed(snap: Snapshot, track_id: str) -> tuple[dict[int, float], None]:
        i = snap.index.get(track_id)
        if i is None:
            raise NotFoundError(f"no track with id {track_id}", code="track_not_found")
        return {i: 1.0}, None

    async def _artist_seed(self, snap: Snapshot, artist_id: str) -> tuple[dict[int, float], np.ndarray]:
        import numpy as np

        a = snap.artist_index.get(artist_id)
        if a is None:
            await self.catalog.artist(artist_id)  # NotFoundError "artist_not_found" for an unknown one
            return {}, np.zeros(len(snap), np.float32)
        return self._group_seed(snap, snap.tracks_of_artist(a))

    async def _genre_seed(self, snap: Snapshot, genre: str) -> tuple[dict[int, float], np.ndarray]:
        return self._group_seed(snap, await self.genre_tracks(snap, genre))

    async def genre_tracks(self, snap: Snapshot, genre: str) -> np.ndarray:
        """The tracks of a genre named by its id (available-genre-seeds, browse categories) or its name."""
        rows = snap.genre_tracks.get(genre.casefold())
        if rows is None:
            cats = await self.mixes.categories()
            name = next((c.name for c in cats if c.id == genre.casefold() or c.id == genre), None)
            rows = snap.genre_tracks.get(name.casefold()) if name else None
        if rows is None:
            raise NotFoundError(f"no genre {genre!r} in the library", code="genre_not_found")
        return rows

    @staticmethod
    def _group_seed(snap: Snapshot, rows: np.ndarray) -> tuple[dict[int, float], np.ndarray]:
        """The ten most played of a group of tracks as seeds, and a bonus for the whole group."""
        import numpy as np

        pop = snap.popularity[rows] + 0.05
        top = rows[np.argsort(-pop, kind="stable")[:10]]
        bonus = np.zeros(len(snap), np.float32)
        bonus[rows] = 0.6
        return {int(i): float(snap.popularity[i] + 0.05) for i in top}, bonus

    async def genre_seeds(self) -> list[str]:
        """The genres a recommendation can be seeded with: the ids of the library's genres."""
        return sorted(c.id for c in await self.mixes.categories())

    # ---- Subsonic: similar songs, top songs, similar artists ----

    async def similar_tracks(self, item_id: str, count: int, user: User) -> list[TrackView]:
        """Tracks like a track, an album or an artist (radio's blend, artists spread), never the item's own."""
        return await self.stations.similar(item_id, count, user)

    async def top_tracks(self, artist_id: str, count: int, user: User) -> list[TrackView]:
        """An artist's most listened tracks: listens with a half-life first, then the catalogue's order (play
        counts, newest albums first)."""
        tracks = await self.catalog.artist_top_tracks(artist_id, user.id, 10_000)  # NotFoundError when unknown
        snap = await self.snapshot()
        pop = {t.id: float(snap.popularity[i]) for t in tracks if (i := snap.index.get(t.id)) is not None}
        return sorted(tracks, key=lambda t: -pop.get(t.id, 0.0))[: max(0, count)]

    async def similar_artists(self, artist_id: str, count: int, user: User) -> list[ArtistView]:
        """Artists whose tracks are played with, sound like, or are liked with theirs; then the artists
        credited with them or sharing their genres."""
        import numpy as np

        from musicd.services.recommend_rank import seed_scores

        snap = await self.snapshot()
        a = snap.artist_index.get(artist_id)
        if a is None:
            await self.catalog.artist(artist_id)
            return []
        weights, _ = self._group_seed(snap, snap.tracks_of_artist(a))
        total = seed_scores(snap, weights).total.astype(np.float64)
        ranked: list[str] = []
        if total.max(initial=0.0) > 0:
            # An artist's mean over its (up to) three best tracks: a big catalogue does not outweigh a close one.
            per_artist = np.zeros(len(snap.artist_ids))
            seen = np.zeros(len(snap.artist_ids), np.int64)
            for i in np.argsort(-total, kind="stable")[: POOL * 4]:
                b = snap.artist[i]
                if b != a and seen[b] < 3 and total[i] > 0:
                    per_artist[b] += total[i]
                    seen[b] += 1
            per_artist /= np.maximum(np.minimum(np.bincount(snap.artist, minlength=len(seen)), 3), 1)
            ranked = [snap.artist_ids[b] for b in np.argsort(-per_artist, kind="stable") if per_artist[b] > 0]
        for other in await self.catalog.related_artists(artist_id, count, user.id):
            if other.id not in ranked and other.id != artist_id:
                ranked.append(other.id)
        return [v for v in await self.catalog.artists(ranked[: max(0, count)], user.id) if v is not None]

    # ---- stations and mixes (delegated) ----

    async def station_tracks(self, context_uri: str, user: User, after: int = 0, n: int = 20) -> StationPage:
        """Tracks `after` .. `after + n - 1` of the station a context URI names (spotify:station:<kind>:<id>),
        each with its reason: what a player asks for the next tracks of a station (services/stations.py)."""
        return await self.stations.tracks(context_uri, user, after, n)

    async def station_page(self, context_uri: str, user: User, after: int = 0, n: int = 20
                           ) -> tuple[StationPage, list[TrackView | None]]:
        """station_tracks with the tracks as the user sees them."""
        return await self.stations.page(context_uri, user, after, n)

    async def personal_mixes(self, user_id: str) -> list[Mix]:
        """The user's made-for-you mixes (services/made_for_you.py)."""
        return await self.made_for_you.mixes(user_id)

    async def personal_mix(self, kind: str, key: str, user_id: str) -> Mix | None:
        return await self.made_for_you.mix(kind, key, user_id)
