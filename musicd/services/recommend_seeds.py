"""Spotify's tunable track attributes: parsing min_/max_/target_ values, filtering candidates by them and
ranking by closeness to the targets; artists spread in the result."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from musicd.domain.numbers import NumberError, parse_float
from musicd.domain.recommend import MAX_SEEDS, TUNABLE, Tunables
from musicd.errors import ValidationError

if TYPE_CHECKING:
    from musicd.services.analysis import AnalysisService
    from musicd.services.recommend_rank import Snapshot

__all__ = ["MAX_SEEDS", "filter_and_rank", "parse_tunables"]

PREFIXES = ("min_", "max_", "target_")
UNSUPPORTED = ("instrumentalness", "liveness", "speechiness")
# How far apart two values are "very different" (the target penalty is the distance over this).
_SCALE = {"tempo": 60.0, "loudness": 15.0, "duration_ms": 180_000.0, "popularity": 50.0, "key": 6.0,
          "time_signature": 3.0}
_AUDIO = ("acousticness", "danceability", "energy", "key", "loudness", "mode", "tempo", "time_signature", "valence")


def parse_tunables(raw: Mapping[str, str]) -> Tunables:
    """min_/max_/target_ query values: a number each, within the attribute's range, min <= target <= max."""
    out: dict[str, dict[str, float]] = {"min_": {}, "max_": {}, "target_": {}}
    for name, value in raw.items():
        prefix = next((p for p in PREFIXES if name.startswith(p)), None)
        if prefix is None:
            continue
        attr = name[len(prefix):]
        if attr in UNSUPPORTED:
            raise ValidationError(f"{name}: musicd does not measure {attr}", code="unsupported_attribute")
        if attr not in TUNABLE:
            raise ValidationError(f"{name}: unknown attribute (tunable: {', '.join(TUNABLE)})", code="bad_attribute")
        try:
            x = parse_float(value)
        except NumberError as e:
            raise ValidationError(f"{name}: {e}", code="bad_attribute") from None
        lo, hi = TUNABLE[attr]
        if not (math.isfinite(x) and lo <= x <= hi):
            raise ValidationError(f"{name} must be between {lo:g} and {hi:g}", code="bad_attribute")
        out[prefix][attr] = x
    lo_, hi_, tgt = out["min_"], out["max_"], out["target_"]
    for attr in set(lo_) & set(hi_):
        if lo_[attr] > hi_[attr]:
            raise ValidationError(f"min_{attr} ({lo_[attr]:g}) is above max_{attr} ({hi_[attr]:g})",
                                  code="contradictory_attributes")
    for attr, x in tgt.items():
        if x < lo_.get(attr, -math.inf) or x > hi_.get(attr, math.inf):
            raise ValidationError(f"target_{attr} ({x:g}) is outside min_{attr} .. max_{attr}",
                                  code="contradictory_attributes")
    return Tunables(minimum=lo_, maximum=hi_, target=tgt)


async def _values(analysis: AnalysisService, snap: Snapshot, rows: np.ndarray, attrs: set[str]
                  ) -> dict[str, np.ndarray]:
    """Each attribute's value per candidate (NaN where unknown: not analysed)."""
    out: dict[str, np.ndarray] = {}
    if "duration_ms" in attrs:
        out["duration_ms"] = np.array([snap.facts[i].duration * 1000 for i in rows], np.float64)
    if "popularity" in attrs:
        out["popularity"] = np.array([min(100, snap.facts[i].play_count) for i in rows], np.float64)
    audio = attrs & set(_AUDIO)
    if audio:
        found = await analysis.audio_features([snap.facts[i].id for i in rows])
        for attr in audio:
            vals = [getattr(f.analysis, attr) if f is not None and f.analysis.status == "ok" else None for f in found]
            out[attr] = np.array([math.nan if v is None else float(v) for v in vals], np.float64)
    return out


async def filter_and_rank(analysis: AnalysisService, snap: Snapshot, candidates: np.ndarray, scores: np.ndarray,
                          t: Tunables, limit: int) -> tuple[list[int], np.ndarray]:
    """(the `limit` best candidates within the bounds, nearest the targets, at most a third of them by one
    artist while others are left; every candidate within the bounds)."""
    rows = candidates.astype(np.int64)
    attrs = set(t.minimum) | set(t.maximum) | set(t.target)
    values = await _values(analysis, snap, rows, attrs) if attrs else {}
    ok = np.ones(len(rows), bool)
    for attr, lo in t.minimum.items():
        ok &= values[attr] >= lo  # NaN compares False: an unanalysed track cannot meet a bound
    for attr, hi in t.maximum.items():
        ok &= values[attr] <= hi
    passed = rows[ok]
    s = scores[rows].copy()
    top = float(np.max(s[np.isfinite(s)], initial=0.0))
    s = s / top if top > 0 else s
    for attr, x in t.target.items():
        d = np.abs(values[attr] - x) / _SCALE.get(attr, 0.5)
        s -= np.where(np.isnan(d), 2.0, d)
    order = [int(rows[i]) for i in np.argsort(-s, kind="stable") if ok[i]]
    cap = max(1, math.ceil(limit / 3))
    picked: list[int] = []
    per_artist: dict[int, int] = {}
    spill: list[int] = []
    for i in order:
        a = int(snap.artist[i])
        if per_artist.get(a, 0) < cap:
            per_artist[a] = per_artist.get(a, 0) + 1
            picked.append(i)
        else:
            spill.append(i)
        if len(picked) >= limit:
            break
    picked += spill[: limit - len(picked)]
    return picked, passed
