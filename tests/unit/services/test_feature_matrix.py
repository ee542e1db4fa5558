"""The feature matrices recommendations will search: scaling, timbre standardisation, neighbours."""

from __future__ import annotations

import numpy as np

from musicd.domain.audio import AudioAnalysis
from musicd.services.feature_matrix import FEATURES, build_matrix, feature_vector


def _a(tempo: float, energy: float, timbre: tuple[float, ...], key: int = 0, mode: int = 1) -> AudioAnalysis:
    return AudioAnalysis(status="ok", tempo=tempo, loudness=-12.0, energy=energy, danceability=0.5,
                         acousticness=0.5, valence=0.5, brightness=2000.0, beat_strength=0.7, key=key, mode=mode,
                         timbre=timbre)


def test_values_are_scaled_to_0_1_and_keys_sit_on_the_circle_of_fifths() -> None:
    v = dict(zip(FEATURES, feature_vector(_a(50.0, 0.3, ())), strict=True))
    assert v["tempo"] == 0.0 and v["energy"] == 0.3 and all(0 <= x <= 1 for x in v.values())
    assert dict(zip(FEATURES, feature_vector(_a(220.0, 2.0, ())), strict=True))["tempo"] == 1.0

    def key_point(key: int, mode: int) -> np.ndarray:
        return np.array(feature_vector(_a(120, 0.5, (), key, mode))[-2:])

    c_major, g_major, f_sharp_major, a_minor = key_point(0, 1), key_point(7, 1), key_point(6, 1), key_point(9, 0)
    assert np.allclose(c_major, a_minor)  # relative keys share their notes
    assert np.linalg.norm(c_major - g_major) < np.linalg.norm(c_major - f_sharp_major)  # a fifth is near, a tritone far
    unknown = AudioAnalysis(status="ok", key=-1)
    assert feature_vector(unknown)[-2:] == [0.5, 0.5] and feature_vector(unknown)[0] == 0.5


def test_nearest_neighbours_blend_features_and_timbre() -> None:
    rows = [
        ("a", _a(120, 0.8, (1.0, 0.0, 0.0))),
        ("b", _a(122, 0.75, (0.9, 0.1, 0.0))),  # like a in both
        ("c", _a(70, 0.1, (0.0, 0.0, 1.0))),  # unlike a in both
        ("d", _a(121, 0.8, (0.0, 1.0, 0.0))),  # like a in features, unlike in timbre
    ]
    m = build_matrix(rows)
    assert m.ids == ("a", "b", "c", "d") and m.values.shape == (4, len(FEATURES)) and m.timbre.shape == (4, 3)
    assert np.allclose(np.linalg.norm(m.timbre, axis=1), 1.0, atol=1e-5)
    assert [t for t, _ in m.nearest("a", 3)] == ["b", "d", "c"]
    assert [t for t, _ in m.nearest("a", 3, timbre_weight=0.0)][:2] in (["b", "d"], ["d", "b"])
    assert m.nearest("a", 3, timbre_weight=1.0)[0][0] == "b"
    assert [t for t, _ in m.nearest("a", 5, exclude=["b"])] == ["d", "c"]
    assert m.nearest("zzz") == [] and m.row("c") == 2
    sub = m.subset(["d", "zzz", "a"])
    assert sub.ids == ("d", "a") and np.array_equal(sub.values[1], m.values[0])
    scores = [s for _, s in m.nearest("a", 3)]
    assert scores == sorted(scores, reverse=True) and all(0 <= s <= 1 for s in scores)


def test_an_empty_library_gives_an_empty_matrix() -> None:
    m = build_matrix([])
    assert len(m) == 0 and m.values.shape == (0, len(FEATURES)) and m.nearest("a") == []
