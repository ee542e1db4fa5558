"""Analysed tracks as matrices, for nearest-neighbour search (radio, mixes, cold-start recommendations).

Two parts per track: `values`, the scalar features each scaled to 0..1 (so a Euclidean distance
weighs them alike), and `timbre`, the MFCC statistics standardised over the library and scaled to
unit length (so a dot product is the cosine similarity).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from musicd.domain.audio import AudioAnalysis

__all__ = ["FEATURES", "FeatureMatrix", "build_matrix", "feature_vector"]

# Columns of FeatureMatrix.values. key_x/key_y place the key on the circle of fifths (a minor key at
# its relative major), so neighbouring keys are near; a track with no clear key sits in the centre.
FEATURES = ("tempo", "loudness", "energy", "danceability", "acousticness", "valence", "brightness",
            "beat_strength", "mode", "key_x", "key_y")


def _scale(x: float | None, lo: float, hi: float, log: bool = False) -> float:
    if x is None or (log and x <= 0):
        return 0.5
    if log:
        x, lo, hi = math.log(x), math.log(lo), math.log(hi)
    return min(1.0, max(0.0, (x - lo) / (hi - lo)))


def feature_vector(a: AudioAnalysis) -> list[float]:
    """One track's FEATURES, each 0..1 (0.5 where the analyser could not tell)."""
    if a.key is None or a.key < 0:
        kx = ky = 0.5
    else:
        fifths = ((a.key + (3 if a.mode == 0 else 0)) * 7) % 12
        angle = 2 * math.pi * fifths / 12
        kx, ky = 0.5 + 0.5 * math.cos(angle), 0.5 + 0.5 * math.sin(angle)

    def unit(v: float | None) -> float:
        return 0.5 if v is None else min(1.0, max(0.0, v))

    return [
        _scale(a.tempo, 50.0, 220.0, log=True), _scale(a.loudness, -40.0, -5.0), unit(a.energy),
        unit(a.danceability), unit(a.acousticness), unit(a.valence), _scale(a.brightness, 300.0, 8000.0, log=True),
        unit(a.beat_strength), 0.5 if a.mode is None else float(a.mode), kx, ky,
    ]


@dataclass(frozen=True)
class FeatureMatrix:
    """Rows are tracks (`ids`); `values` is (n, len(FEATURES)) in 0..1, `timbre` (n, d) unit rows."""

    ids: tuple[str, ...]
    values: np.ndarray
    timbre: np.ndarray
    names: tuple[str, ...] = FEATURES
    _index: dict[str, int] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._index.update((t, i) for i, t in enumerate(self.ids))

    def __len__(self) -> int:
        return len(self.ids)

    def row(self, track_id: str) -> int | None:
        """The row of a track, None when it has no analysis."""
        return self._index.get(track_id)

    def subset(self, track_ids: Iterable[str]) -> FeatureMatrix:
        """The rows of these tracks (in that order; tracks without analysis are left out)."""
        rows = [r for r in (self.row(t) for t in track_ids) if r is not None]
        return FeatureMatrix(tuple(self.ids[r] for r in rows), self.values[rows], self.timbre[rows], self.names)

    def similarity(self, vector: np.ndarray, timbre: np.ndarray, timbre_weight: float = 0.5) -> np.ndarray:
        """Similarity 0..1 of every row to a (values, timbre) pair: a blend of the feature distance and
        the timbre cosine."""
        if not len(self.ids):
            return np.zeros(0, dtype=np.float32)
        d_values = np.linalg.norm(self.values - vector, axis=1) / math.sqrt(self.values.shape[1])
        d_timbre = (1.0 - self.timbre @ timbre) / 2.0 if self.timbre.shape[1] else np.zeros(len(self.ids))
        return (1.0 - (timbre_weight * d_timbre + (1.0 - timbre_weight) * d_values)).astype(np.float32)

    def nearest(self, track_id: str, k: int = 10, *, timbre_weight: float = 0.5,
                exclude: Sequence[str] = ()) -> list[tuple[str, float]]:
        """The `k` tracks most like this one, most similar first, as (id, similarity 0..1)."""
        i = self.row(track_id)
        if i is None or k <= 0:
            return []
        sim = self.similarity(self.values[i], self.timbre[i], timbre_weight)
        sim[i] = -np.inf
        for t in exclude:
            if (j := self.row(t)) is not None:
                sim[j] = -np.inf
        top = np.argsort(-sim, kind="stable")[:k]
        return [(self.ids[j], float(sim[j])) for j in top if np.isfinite(sim[j])]


def build_matrix(rows: Sequence[tuple[str, AudioAnalysis]]) -> FeatureMatrix:
    """The matrix of (track id, analysis) rows; timbre standardised over these rows."""
    ids = tuple(r[0] for r in rows)
    values = np.array([feature_vector(a) for _, a in rows], dtype=np.float32).reshape(len(rows), len(FEATURES))
    dims = max((len(a.timbre) for _, a in rows), default=0)
    timbre = np.zeros((len(rows), dims), dtype=np.float32)
    for i, (_, a) in enumerate(rows):
        timbre[i, : len(a.timbre)] = a.timbre
    if len(rows) > 1:
        std = timbre.std(axis=0)
        timbre = (timbre - timbre.mean(axis=0)) / np.where(std > 0, std, 1.0)
    norms = np.linalg.norm(timbre, axis=1, keepdims=True)
    timbre = (timbre / np.where(norms > 0, norms, 1.0)).astype(np.float32)
    return FeatureMatrix(ids, values, timbre)
