"""The recommendation models, trained from the listening history (numpy, scipy and `implicit`; no I/O).

- Co-listening: tracks played close together in a session (a gap of 30 minutes starts a new one) are
  related; counted over every user, so it works with one. Each pair counts 1/distance for listens up to
  WINDOW apart, the counts are normalised like a cosine (divided by the square root of both tracks'
  listens, plus a shrinkage that keeps a single chance pair from looking certain) and each track keeps
  its TOP_NEIGHBOURS strongest.
- Matrix factorisation across users (implicit-feedback ALS by the `implicit` library, the reference
  implementation of Hu, Koren and Volinsky's method with wheels for this platform): user and track
  factors, only when at least two users listened.
- Popularity: each track's listens with a 60-day half-life, 0..1.
Audio similarity (tracks nobody played) comes from the feature matrix of the analysis, at query time.

`train` runs in a short-lived process with BLAS limited to one thread (services/recommend_train.py: training
never holds the event loop, never takes both cores, and leaves none of this in the server); `align`
re-indexes a model on the current catalogue (tracks added since are rows of zeros, removed ones are dropped).
"""

from __future__ import annotations

import io
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from musicd.domain.recommend import MODEL_VERSION

__all__ = ["MODEL_VERSION", "Models", "TrainingSet", "align", "from_bytes", "to_bytes", "train"]

SESSION_GAP_S = 30 * 60
WINDOW = 5
TOP_NEIGHBOURS = 50
SHRINK = 2.0
HALF_LIFE_S = 60 * 86400
FACTORS = 32
ALS_ITERATIONS = 15
ALS_ALPHA = 20.0


@dataclass
class TrainingSet:
    """Listens as index arrays over `track_ids` and `user_ids`, and when each happened (POSIX seconds)."""

    track_ids: tuple[str, ...]
    user_ids: tuple[str, ...]
    users: np.ndarray  # int32 per listen
    tracks: np.ndarray  # int32 per listen
    at: np.ndarray  # float64 per listen
    history_id: int = 0

    @classmethod
    def from_rows(cls, track_ids: Sequence[str], rows: Sequence[Sequence[Any]], history_id: int = 0) -> TrainingSet:
        """From history rows (id, user id, track id, POSIX seconds); listens of tracks not in `track_ids`
        (removed since) are left out."""
        index = {t: i for i, t in enumerate(track_ids)}
        users: dict[str, int] = {}
        u_list, t_list, at_list = [], [], []
        for r in rows:
            i = index.get(r[2])
            if i is None:
                continue
            u_list.append(users.setdefault(r[1], len(users)))
            t_list.append(i)
            at_list.append(float(r[3] or 0.0))
        return cls(tuple(track_ids), tuple(users), np.array(u_list, np.int32), np.array(t_list, np.int32),
                   np.array(at_list, np.float64), history_id)


@dataclass
class Models:
    """What `train` makes, indexed by `track_ids` (and `user_ids` for the user factors)."""

    track_ids: tuple[str, ...]
    user_ids: tuple[str, ...]
    popularity: np.ndarray  # (n,) float32 0..1
    colisten: sp.csr_matrix  # (n, n) float32, symmetric before the top-k cut
    user_factors: np.ndarray | None = None  # (users, k)
    item_factors: np.ndarray | None = None  # (n, k)
    history_id: int = 0
    listens: int = 0
    build_s: float = 0.0
    user_index: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.user_index = {u: i for i, u in enumerate(self.user_ids)}

    @property
    def has_factors(self) -> bool:
        return self.user_factors is not None and self.item_factors is not None

    @classmethod
    def empty(cls, track_ids: Sequence[str]) -> Models:
        n = len(track_ids)
        return cls(tuple(track_ids), (), np.zeros(n, np.float32), sp.csr_matrix((n, n), dtype=np.float32))


def _sessions(ts: TrainingSet) -> tuple[np.ndarray, np.ndarray]:
    """Listens sorted by user and time, and a session number per listen."""
    order = np.lexsort((ts.at, ts.users))
    users, at = ts.users[order], ts.at[order]
    new = np.ones(len(order), bool)
    if len(order) > 1:
        new[1:] = (users[1:] != users[:-1]) | (at[1:] - at[:-1] > SESSION_GAP_S)
    return order, np.cumsum(new)


def _colisten(ts: TrainingSet, n: int) -> sp.csr_matrix:
    order, session = _sessions(ts)
    tracks = ts.tracks[order]
    rows, cols, vals = [], [], []
    for d in range(1, WINDOW + 1):
        if len(tracks) <= d:
            break
        same = (session[d:] == session[:-d]) & (tracks[d:] != tracks[:-d])
        rows.append(tracks[:-d][same])
        cols.append(tracks[d:][same])
        vals.append(np.full(int(same.sum()), 1.0 / d, np.float32))
    if not rows:
        return sp.csr_matrix((n, n), dtype=np.float32)
    r, c, v = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
    m = sp.coo_matrix((np.concatenate([v, v]), (np.concatenate([r, c]), np.concatenate([c, r]))), shape=(n, n))
    m = m.tocsr()
    m.sum_duplicates()
    norm = np.sqrt(np.bincount(ts.tracks, minlength=n).astype(np.float32))
    coo = m.tocoo()
    data = coo.data / (norm[coo.row] * norm[coo.col] + SHRINK)
    m = sp.csr_matrix((data.astype(np.float32), (coo.row, coo.col)), shape=(n, n))
    return _top_k(m, TOP_NEIGHBOURS)


def _top_k(m: sp.csr_matrix, k: int) -> sp.csr_matrix:
    """Each row's k largest entries."""
    m = m.tocsr()
    keep = np.ones(m.nnz, bool)
    lengths = np.diff(m.indptr)
    for row in np.nonzero(lengths > k)[0]:
        a, b = m.indptr[row], m.indptr[row + 1]
        drop = np.argpartition(-m.data[a:b], k)[k:]
        keep[a + drop] = False
    rows = np.repeat(np.arange(m.shape[0]), lengths)[keep]
    return sp.csr_matrix((m.data[keep].astype(np.float32), (rows, m.indices[keep])), shape=m.shape)


def _popularity(ts: TrainingSet, n: int) -> np.ndarray:
    if not len(ts.at):
        return np.zeros(n, np.float32)
    weight = np.exp2(-(ts.at.max() - ts.at) / HALF_LIFE_S)
    pop = np.log1p(np.bincount(ts.tracks, weights=weight, minlength=n))
    top = pop.max()
    return (pop / top if top > 0 else pop).astype(np.float32)


def _factors(ts: TrainingSet, n: int) -> tuple[np.ndarray, np.ndarray] | None:
    if len(ts.user_ids) < 2 or not len(ts.tracks):
        return None
    from implicit.cpu.als import AlternatingLeastSquares  # loaded by the trainer only, not at server start

    counts = sp.coo_matrix((np.ones(len(ts.tracks), np.float32), (ts.users, ts.tracks)),
                           shape=(len(ts.user_ids), n)).tocsr()
    counts.sum_duplicates()
    counts.data = (1.0 + ALS_ALPHA * np.log1p(counts.data)).astype(np.float32)
    k = max(2, min(FACTORS, n // 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # implicit's advice on BLAS threads: the caller limits them
        model = AlternatingLeastSquares(factors=k, iterations=ALS_ITERATIONS, regularization=0.05, random_state=0,
                                        num_threads=1, calculate_training_loss=False)
        model.fit(counts, show_progress=False)
    return np.asarray(model.user_factors, np.float32), np.asarray(model.item_factors, np.float32)


def train(ts: TrainingSet) -> Models:
    """Every model of one training set (call it off the event loop, with BLAS limited to one thread)."""
    t0 = time.monotonic()
    n = len(ts.track_ids)
    factors = _factors(ts, n)
    models = Models(
        ts.track_ids, ts.user_ids, _popularity(ts, n), _colisten(ts, n),
        factors[0] if factors else None, factors[1] if factors else None, ts.history_id, len(ts.tracks),
    )
    models.build_s = time.monotonic() - t0
    return models


def align(m: Models, track_ids: Sequence[str]) -> Models:
    """The same model with its rows in the order of `track_ids` (the catalogue now)."""
    if tuple(track_ids) == m.track_ids:
        return m
    index = {t: i for i, t in enumerate(track_ids)}
    to_new = np.array([index.get(t, -1) for t in m.track_ids], np.int64)
    n = len(track_ids)
    keep = to_new >= 0
    pop = np.zeros(n, np.float32)
    pop[to_new[keep]] = m.popularity[keep]
    coo = m.colisten.tocoo()
    r, c = to_new[coo.row], to_new[coo.col]
    ok = (r >= 0) & (c >= 0)
    colisten = sp.csr_matrix((coo.data[ok], (r[ok], c[ok])), shape=(n, n), dtype=np.float32)
    items = None
    if m.item_factors is not None:
        items = np.zeros((n, m.item_factors.shape[1]), np.float32)
        items[to_new[keep]] = m.item_factors[keep]
    out = Models(tuple(track_ids), m.user_ids, pop, colisten, m.user_factors, items if m.has_factors else None,
                 m.history_id, m.listens, m.build_s)
    return out


def to_bytes(m: Models) -> bytes:
    """The model as an .npz archive (arrays only)."""
    buf = io.BytesIO()
    c = m.colisten.tocsr()
    arrays: dict[str, np.ndarray] = {
        "track_ids": np.array(m.track_ids, dtype=str), "user_ids": np.array(m.user_ids, dtype=str),
        "popularity": m.popularity, "c_data": c.data, "c_indices": c.indices, "c_indptr": c.indptr,
        "meta": np.array([m.history_id, m.listens, m.build_s], np.float64),
    }
    if m.has_factors:
        arrays["user_factors"], arrays["item_factors"] = m.user_factors, m.item_factors  # type: ignore[assignment]
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


def from_bytes(data: bytes) -> Models:
    """A model stored by `to_bytes` (no pickles are loaded)."""
    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        track_ids = tuple(str(t) for t in z["track_ids"])
        n = len(track_ids)
        colisten = sp.csr_matrix((z["c_data"], z["c_indices"], z["c_indptr"]), shape=(n, n))
        meta = z["meta"]
        factors = (z["user_factors"], z["item_factors"]) if "item_factors" in z.files else (None, None)
        return Models(track_ids, tuple(str(u) for u in z["user_ids"]), z["popularity"], colisten, factors[0],
                      factors[1], int(meta[0]), int(meta[1]), float(meta[2]))
