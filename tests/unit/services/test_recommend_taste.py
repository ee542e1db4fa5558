"""A user's taste in sound (services/recommend_rank.py): a density over everything they played keeps two
tastes apart, where the nearest few of their most played tracks would follow only the bigger one."""

from __future__ import annotations

import numpy as np

from musicd.services.feature_matrix import FeatureMatrix
from musicd.services.recommend_models import Models
from musicd.services.recommend_rank import Snapshot, user_scores
from musicd.store.recommend import TrackFact


def _snapshot(points: np.ndarray) -> Snapshot:
    ids = [f"t{i}" for i in range(len(points))]
    facts = [TrackFact(t, t, f"a{i}", f"Artist {i}", f"al{i}", (), 0, 200.0, "") for i, t in enumerate(ids)]
    values = np.full((len(ids), 11), 0.5, np.float32)
    values[:, 0] = np.arange(len(ids)) % 2 * 0.01  # scalars say next to nothing
    timbre = (points / np.linalg.norm(points, axis=1, keepdims=True)).astype(np.float32)
    snap = Snapshot(facts, Models.empty(ids))
    snap.set_audio(FeatureMatrix(tuple(ids), values, timbre))
    return snap


def test_a_smaller_taste_still_counts_and_names_its_own_reason() -> None:
    rng = np.random.default_rng(3)
    big, small, far = np.eye(6)[0], np.eye(6)[1], -np.eye(6)[0] - np.eye(6)[1]
    # 30 played tracks near `big`, 3 near `small`; unplayed: one near each, one far from both.
    points = np.vstack([big + 0.1 * rng.standard_normal((30, 6)), small + 0.1 * rng.standard_normal((3, 6)),
                        [big + 0.05], [small + 0.05], [far]])
    snap = _snapshot(points)
    weights = {i: 2.0 for i in range(30)} | {i: 1.0 for i in range(30, 33)}
    s = user_scores(snap, "u", weights)
    near_big, near_small, away = 33, 34, 35
    assert s.audio[near_big] > s.audio[near_small] > s.audio[away] >= 0
    assert s.audio[near_small] > 0.05  # the small taste is not drowned by the big one
    assert 30 <= int(s.audio_seed[near_small]) < 33 and 0 <= int(s.audio_seed[near_big]) < 30
