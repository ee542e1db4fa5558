"""Made for you: each user's daily mixes (clusters of their taste), a weekly Discover of tracks they never
played, On Repeat (most played lately) and Rediscover (favourites not played for a while).

They are generated mixes (services/mixes.py ids: mix_id("daily", "1"), mix_id("discover", "weekly"),
mix_id("repeat", "me"), mix_id("rediscover", "me")), relative to the asking user like "top-me". Built on
request and kept until the model is rebuilt or the day changes; the Discover of a week stays the same
all week (its picks are shuffled with the week as the seed)."""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import numpy as np

from musicd.domain.catalog import Mix
from musicd.services.mixes import mix_id
from musicd.services.recommend_rank import Snapshot, seed_scores, user_weights

if TYPE_CHECKING:
    from musicd.services.recommend import RecommendService

__all__ = ["MadeForYou"]

MAX_DAILY = 4
DAILY_SIZE = 50
LIST_SIZE = 30
REPEAT_DAYS = 30
REDISCOVER_DAYS = 60
_DAY = 86400.0


def _stable_seed(*parts: str) -> int:
    return int.from_bytes(hashlib.blake2b("\x1f".join(parts).encode(), digest_size=4).digest(), "big")


def _names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


class MadeForYou:
    def __init__(self, rec: RecommendService) -> None:
        self.rec = rec
        self._cache: dict[str, tuple[str, list[Mix]]] = {}

    def forget(self) -> None:
        """A new model: every user's mixes are made again on their next request."""
        self._cache.clear()

    async def mixes(self, user_id: str) -> list[Mix]:
        """The user's made-for-you mixes that have tracks, daily mixes first."""
        day = datetime.now(UTC).date().isoformat()
        stamp = f"{day}|{self.rec.status().history_id}|{self.rec.status().built_at}"
        cached = self._cache.get(user_id)
        if cached and cached[0] == stamp:
            return cached[1]
        mixes = await self._build(user_id, day)
        if len(self._cache) > 1000:
            self._cache.clear()
        self._cache[user_id] = (stamp, mixes)
        return mixes

    async def mix(self, kind: str, key: str, user_id: str) -> Mix | None:
        wanted = mix_id(kind, key)
        return next((m for m in await self.mixes(user_id) if m.id == wanted), None)

    async def _build(self, user_id: str, day: str) -> list[Mix]:
        rec = self.rec
        snap = await rec.snapshot()
        plays = await rec.repo.user_plays(user_id)
        now = time.time()
        weights = user_weights(snap, plays, now)
        out: list[tuple[str, str, str, str, list[str]]] = []  # kind, key, name, description, track ids
        for n, (tracks, artists) in enumerate(self._daily(snap, weights, user_id, day), start=1):
            out.append(("daily", str(n), f"Daily Mix {n}", f"Because you play {_names(artists)}", tracks))
        week = datetime.now(UTC).strftime("%G-W%V")
        picks = await rec.for_me_indexes(user_id, LIST_SIZE * 3)
        rng = np.random.default_rng(_stable_seed(user_id, week))
        keyed = sorted(range(len(picks)), key=lambda k: k + rng.uniform(0, LIST_SIZE))  # the best, shuffled a little
        per_artist: Counter[int] = Counter()
        discover = []
        for k in keyed:
            i = picks[k][0]
            if per_artist[int(snap.artist[i])] < 2 and len(discover) < LIST_SIZE:
                per_artist[int(snap.artist[i])] += 1
                discover.append(snap.facts[i].id)
        out.append(("discover", "weekly", "Discover Weekly",
                    "Tracks you have never played, picked for you each week", discover))
        recent = Counter(t for t, _ in await rec.repo.recent_listens(user_id, now - REPEAT_DAYS * _DAY))
        repeat = [t for t, c in recent.most_common() if c >= 2 and t in snap.index][:LIST_SIZE]
        out.append(("repeat", "me", "On Repeat", f"What you played most in the last {REPEAT_DAYS} days", repeat))
        old = [p.track_id for p in plays
               if p.plays >= 2 and now - p.last_at > REDISCOVER_DAYS * _DAY and p.track_id in snap.index]
        out.append(("rediscover", "me", "Rediscover", f"Favourites you have not played for {REDISCOVER_DAYS} days",
                    old[:LIST_SIZE]))
        mixes = []
        for kind, key, name, desc, ids in out:
            if not ids:
                continue
            first = (await rec.catalog.tracks(ids[:1]))[0]
            mixes.append(Mix(id=mix_id(kind, key), kind=kind, key=key, name=name, description=desc, track_ids=ids,
                             cover_id=first.cover_id if first else None, snapshot=week if kind == "discover" else day))
        return mixes

    def _daily(self, snap: Snapshot, weights: dict[int, float], user_id: str, day: str
               ) -> list[tuple[list[str], list[str]]]:
        """Clusters of the user's most played tracks (k-means over sound, taste factors and genres), each
        with its favourites and unplayed tracks like them, alternating."""
        from scipy.cluster.vq import kmeans2

        played = sorted(weights, key=lambda i: -weights[i])[:150]
        k = min(MAX_DAILY, len(played) // 12)
        if k < 1:
            k = 1 if len(played) >= 3 else 0
        if k == 0:
            return []
        rows = np.array(played, np.int64)
        emb = [self._genre_part(snap, rows)]
        fm = snap.audio
        if fm is not None and len(fm):
            r = snap.audio_rows[rows]
            audio = np.zeros((len(rows), fm.values.shape[1] + fm.timbre.shape[1]), np.float32)
            ok = r >= 0
            audio[ok] = np.hstack([fm.values[r[ok]], 0.5 * fm.timbre[r[ok]]])
            emb.append(audio)
        if snap.models.item_factors is not None:
            f = snap.models.item_factors[rows]
            emb.append(f / np.maximum(np.linalg.norm(f, axis=1, keepdims=True), 1e-6))
        data = np.hstack(emb).astype(np.float64)
        if k > 1:
            _, labels = kmeans2(data, k, minit="++", seed=_stable_seed(user_id, day))
        else:
            labels = np.zeros(len(rows), np.int64)
        clusters = [rows[labels == c] for c in range(k)]
        clusters = [c for c in clusters if len(c)]
        clusters.sort(key=lambda c: -sum(weights[int(i)] for i in c))
        played_set = set(weights)
        out = []
        for members in clusters:
            fav = sorted((int(i) for i in members), key=lambda i: -weights[i])
            total = seed_scores(snap, {i: weights[i] for i in fav[:10]}).total.astype(np.float64)
            total[list(played_set)] = -np.inf
            new = [int(i) for i in np.argsort(-total, kind="stable")[: DAILY_SIZE] if np.isfinite(total[i])
                   and total[i] > 0]
            mixed: list[int] = []
            for a, b in zip(fav[: DAILY_SIZE // 2], new[: DAILY_SIZE // 2], strict=False):
                mixed += [a, b]
            rest = fav[len(mixed) // 2:] + new[len(mixed) // 2:]
            mixed += rest[: DAILY_SIZE - len(mixed)]
            artists = [snap.artist_names[a] for a, _ in Counter(int(snap.artist[i]) for i in fav).most_common(3)]
            out.append(([snap.facts[i].id for i in mixed], artists))
        return out

    @staticmethod
    def _genre_part(snap: Snapshot, rows: np.ndarray) -> np.ndarray:
        genres = sorted({g.casefold() for i in rows for g in snap.facts[int(i)].genres})[:32]
        col = {g: c for c, g in enumerate(genres)}
        out = np.zeros((len(rows), max(1, len(genres))), np.float32)
        for r, i in enumerate(rows):
            for g in snap.facts[int(i)].genres:
                if g.casefold() in col:
                    out[r, col[g.casefold()]] = 0.7
        return out
