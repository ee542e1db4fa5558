"""Radio: an endless, reproducible sequence of tracks from a pool of candidates.

A station draws from a pool (the tracks scored highest for its seeds: co-listening, audio similarity,
the seed's own tracks). Each next track is drawn at random, weighted by its score, among the pool's
tracks that did not play in the last REPEAT_GAP positions, and whose artist did not play in the last
ARTIST_GAP positions; an artist that played often lately weighs less. When the pool cannot satisfy a
rule (a small library), the artist rule is relaxed first, then the least recently played track is taken,
so a library of fewer than REPEAT_GAP + 1 tracks repeats as late as it can.

Positions are stable: a run keeps every track it made, so asking for tracks 40..60 after 0..40 continues
the same station (what `after` means in `station_tracks`). Runs are kept per (station, user) for
KEEP_S after their last use (StationRuns).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Generic, TypeVar

import numpy as np

__all__ = ["ARTIST_GAP", "REPEAT_GAP", "StationRun", "StationRuns"]

REPEAT_GAP = 50
ARTIST_GAP = 3
RECENT = 20
KEEP_S = 6 * 3600
MAX_RUNS = 256

T = TypeVar("T")


class StationRun:
    """One station's sequence: `pool` are track indexes, `weights` their scores (> 0), `artists` theirs."""

    def __init__(self, pool: np.ndarray, weights: np.ndarray, artists: np.ndarray, seed: int,
                 first: list[int] | None = None) -> None:
        self.pool = pool
        self.weights = np.maximum(weights.astype(np.float64), 1e-6)
        self.artists = artists
        self.rng = np.random.default_rng(seed)
        self.tracks: list[int] = []  # positions in `pool`
        self.last_pos = np.full(len(pool), -(10**9), np.int64)
        for p in first or []:
            self._append(p)

    def _append(self, p: int) -> None:
        self.last_pos[p] = len(self.tracks)
        self.tracks.append(p)

    def _next(self) -> int:
        n = len(self.tracks)
        fresh = n - self.last_pos >= REPEAT_GAP
        if not fresh.any():  # fewer tracks than the gap: the one played longest ago
            return int(np.argmin(self.last_pos))
        recent_artists = self.artists[[self.tracks[i] for i in range(max(0, n - ARTIST_GAP), n)]]
        spread = fresh & ~np.isin(self.artists, recent_artists)
        ok = spread if spread.any() else fresh
        w = self.weights.copy()
        if n:
            last = self.artists[[self.tracks[i] for i in range(max(0, n - RECENT), n)]]
            played, counts = np.unique(last, return_counts=True)
            lookup = dict(zip(played.tolist(), counts.tolist(), strict=True))
            w *= np.array([0.5 ** lookup.get(int(a), 0) for a in self.artists])
        w = np.where(ok, w, 0.0)
        return int(self.rng.choice(len(w), p=w / w.sum()))

    def tracks_between(self, start: int, stop: int) -> list[int]:
        """Track indexes at positions start .. stop - 1 (made as needed)."""
        while len(self.tracks) < stop:
            self._append(self._next())
        return [int(self.pool[p]) for p in self.tracks[start:stop]]


class StationRuns(Generic[T]):
    """The stations in use, by key; dropped KEEP_S after their last use, the least recently used first
    beyond MAX_RUNS."""

    def __init__(self) -> None:
        self._runs: OrderedDict[tuple[str, str], tuple[float, T]] = OrderedDict()

    def get(self, key: tuple[str, str]) -> T | None:
        now = time.monotonic()
        for k in [k for k, (used, _) in self._runs.items() if now - used > KEEP_S]:
            del self._runs[k]
        found = self._runs.get(key)
        if found is None:
            return None
        self._runs[key] = (now, found[1])
        self._runs.move_to_end(key)
        return found[1]

    def put(self, key: tuple[str, str], value: T) -> T:
        self._runs[key] = (time.monotonic(), value)
        self._runs.move_to_end(key)
        while len(self._runs) > MAX_RUNS:
            self._runs.popitem(last=False)
        return value
