"""Key and mode: the mean pitch-class profile correlated with the 24 rotated key profiles.

The profiles are Krumhansl and Kessler's probe-tone ratings, the usual choice for tonal pop and
classical music; a profile too flat to prefer any key (drums, noise) gives no key.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["KeyEstimate", "estimate_key"]

_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
_MIN_CORRELATION = 0.5
_MIN_TONALITY = 0.15  # spread of the pitch-class profile (max - mean, of a unit-sum profile, x 12)


@dataclass(frozen=True)
class KeyEstimate:
    key: int  # 0 = C .. 11 = B; -1 when no key is clear
    mode: int | None  # 1 major, 0 minor; None with no key
    confidence: float  # 0..1


def _profiles() -> np.ndarray:
    rows = [np.roll(p, k) for p in (_MAJOR, _MINOR) for k in range(12)]  # major keys 0..11, minor 12..23
    m = np.array(rows)
    m = m - m.mean(axis=1, keepdims=True)
    return m / np.linalg.norm(m, axis=1, keepdims=True)


_PROFILES = _profiles()


def estimate_key(chroma: np.ndarray) -> KeyEstimate:
    """Key of (frames, 12) pitch-class energies; each frame counts by its share of the total (loud frames more)."""
    if not len(chroma) or chroma.sum() <= 0:
        return KeyEstimate(-1, None, 0.0)
    # Compress each frame (a loud chord must not drown the rest) then sum.
    frames = np.sqrt(chroma)
    norms = frames.sum(axis=1, keepdims=True)
    weights = np.sqrt(norms)
    profile = (frames / np.maximum(norms, 1e-12) * weights).sum(axis=0)
    profile = profile / profile.sum()
    tonality = float((profile.max() - profile.mean()) * 12)
    centred = profile - profile.mean()
    norm = np.linalg.norm(centred)
    if norm <= 0 or tonality < _MIN_TONALITY:
        return KeyEstimate(-1, None, 0.0)
    corr = _PROFILES @ (centred / norm)
    order = np.argsort(corr)[::-1]
    best, second = float(corr[order[0]]), float(corr[order[1]])
    if best < _MIN_CORRELATION:
        return KeyEstimate(-1, None, round(max(best, 0.0), 3))
    confidence = float(np.clip(best, 0, 1) * np.clip((best - second) / 0.2, 0, 1))
    idx = int(order[0])
    return KeyEstimate(idx % 12, 1 if idx < 12 else 0, round(confidence, 3))
