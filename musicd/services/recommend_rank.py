"""Scoring tracks for a user or for seeds: the catalogue snapshot the models are aligned on, the blend of
co-listening, matrix factorisation, audio similarity, taste for artists and genres, and popularity, and
the reason each pick carries. Pure numpy over in-memory arrays; the service feeds it."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from musicd.domain.recommend import Reason
from musicd.services.feature_matrix import FeatureMatrix
from musicd.services.recommend_models import Models
from musicd.store.recommend import TrackFact, UserPlay

__all__ = ["Scores", "Snapshot", "reason_for", "seed_scores", "user_scores"]

TIMBRE_WEIGHT = 0.5
RECENCY_S = 30 * 86400
PROFILE = 25  # seed tracks whose audio neighbours count for a station or seeded recommendations
W_COLISTEN, W_FACTORS, W_AUDIO, W_TASTE, W_POPULAR = 1.0, 1.0, 0.5, 0.35, 0.1
# A user's own listening weighs the parts otherwise: their taste in sound (a density over everything they
# played, below) counts as much as co-listening; the factors, which see few co-listeners in a household,
# less. Tuned on scripts/eval_recommend.py's synthetic worlds (recall@50 0.10 -> 0.13 over three seeds;
# co-listening at 0.3 instead of 1 measured 0.14, within their noise, and would hide a track played with
# the user's own behind its artist).
USER_W_AUDIO, USER_W_COLISTEN, USER_W_FACTORS = 1.0, 1.0, 0.3
# The taste density: each played track spreads exp(KDE_BETA * (cosine - 1)) around it in the audio
# embedding (scalar features standardised, and timbre, TASTE_TIMBRE of the weight); at most KDE_TRACKS
# of the user's most weighed tracks count (the cost is n x KDE_TRACKS).
KDE_BETA, TASTE_TIMBRE, KDE_TRACKS = 4.0, 0.6, 500


def _norm(x: np.ndarray) -> np.ndarray:
    top = float(x.max()) if len(x) else 0.0
    return (x / top).astype(np.float32) if top > 0 else np.zeros_like(x, np.float32)


@dataclass
class Snapshot:
    """The catalogue as arrays (one row per track, in `facts` order) with the models aligned on it."""

    facts: list[TrackFact]
    models: Models
    audio: FeatureMatrix | None = None
    index: dict[str, int] = field(default_factory=dict)
    artist: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    artist_ids: list[str] = field(default_factory=list)
    artist_names: list[str] = field(default_factory=list)
    artist_index: dict[str, int] = field(default_factory=dict)
    genre_tracks: dict[str, np.ndarray] = field(default_factory=dict)
    library_popularity: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    audio_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # fm row per track, -1 none
    audio_cats: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # track per fm row, -1 gone
    embedding: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))  # unit rows per fm row

    def __post_init__(self) -> None:
        self.index = {f.id: i for i, f in enumerate(self.facts)}
        artists: dict[str, int] = {}
        names: list[str] = []
        genres: dict[str, list[int]] = {}
        for i, f in enumerate(self.facts):
            if f.artist_id not in artists:
                artists[f.artist_id] = len(artists)
                names.append(f.artist_name)
            for g in f.genres:
                genres.setdefault(g.casefold(), []).append(i)
        self.artist_index = artists
        self.artist_ids, self.artist_names = list(artists), names
        self.artist = np.array([artists[f.artist_id] for f in self.facts], np.int32)
        self.genre_tracks = {g: np.array(v, np.int64) for g, v in genres.items()}
        pop = np.log1p(np.array([f.play_count for f in self.facts], np.float32))
        self.library_popularity = _norm(pop)
        self.set_audio(self.audio)

    def __len__(self) -> int:
        return len(self.facts)

    def set_audio(self, fm: FeatureMatrix | None) -> None:
        self.audio = fm
        n = len(self.facts)
        self.audio_rows = np.full(n, -1, np.int64)
        self.audio_cats = np.full(len(fm) if fm else 0, -1, np.int64)
        self.embedding = np.zeros((0, 0), np.float32)
        if fm is None:
            return
        self.embedding = _embedding(fm)
        for r, t in enumerate(fm.ids):
            i = self.index.get(t)
            if i is not None:
                self.audio_rows[i] = r
                self.audio_cats[r] = i

    @property
    def popularity(self) -> np.ndarray:
        """Listens with a half-life, else the library's play counts (an imported library, no history yet)."""
        return self.models.popularity if self.models.listens else self.library_popularity

    def tracks_of_artist(self, artist: int) -> np.ndarray:
        return np.nonzero(self.artist == artist)[0]

    def audio_similarity(self, track: int) -> np.ndarray | None:
        """How much each track sounds like `track`, 0..1 where only its closer half of the library counts."""
        fm, r = self.audio, int(self.audio_rows[track]) if len(self.audio_rows) else -1
        if fm is None or r < 0:
            return None
        sim = fm.similarity(fm.values[r], fm.timbre[r], TIMBRE_WEIGHT)
        median = float(np.median(sim))
        closeness = np.clip((sim - median) / max(1e-6, 1.0 - median), 0.0, 1.0) ** 2
        out = np.zeros(len(self.facts), np.float32)
        ok = self.audio_cats >= 0
        out[self.audio_cats[ok]] = closeness[ok]
        out[track] = 0.0
        return out


def _embedding(fm: FeatureMatrix) -> np.ndarray:
    """One unit vector per analysed track: the scalar features standardised over the library (so each
    says as much) and the timbre, blended TASTE_TIMBRE to 1 - TASTE_TIMBRE; a dot product is a cosine."""
    if not len(fm):
        return np.zeros((0, 0), np.float32)
    v = fm.values.astype(np.float32)
    v = (v - v.mean(axis=0)) / (v.std(axis=0) + 1e-6)
    v /= np.linalg.norm(v, axis=1, keepdims=True) + 1e-9
    t = fm.timbre.astype(np.float32)
    t = t / (np.linalg.norm(t, axis=1, keepdims=True) + 1e-9)
    e = np.hstack([math.sqrt(1 - TASTE_TIMBRE) * v, math.sqrt(TASTE_TIMBRE) * t])
    return (e / (np.linalg.norm(e, axis=1, keepdims=True) + 1e-9)).astype(np.float32)


def _taste_density(snap: Snapshot, weights: dict[int, float]) -> tuple[np.ndarray, np.ndarray]:
    """How much each track sounds like what the user plays, 0..1: a kernel density over all their played
    tracks in the audio embedding (several tastes stay apart, where one mean would blur them), and which
    played track each score owes most to (for its reason)."""
    n = len(snap)
    out, who = np.zeros(n, np.float32), np.full(n, -1, np.int64)
    e = snap.embedding
    played = [(t, w) for t, w in sorted(weights.items(), key=lambda kv: -kv[1])[:KDE_TRACKS]
              if snap.audio_rows[t] >= 0 and w > 0]
    if not played or not len(e):
        return out, who
    rows = snap.audio_rows[[t for t, _ in played]]
    w = np.array([x for _, x in played], np.float32)
    kernel = np.exp(KDE_BETA * (e @ e[rows].T - 1.0)) * w  # (analysed tracks, played)
    density = kernel.sum(axis=1)
    top = float(density.max())
    ok = snap.audio_cats >= 0
    cats = snap.audio_cats[ok]
    out[cats] = (density / top)[ok] if top > 0 else 0.0
    who[cats] = np.array([t for t, _ in played], np.int64)[kernel.argmax(axis=1)][ok]
    return out, who


@dataclass
class Scores:
    """Each component per track (0..1) and which seed each audio score came from."""

    colisten: np.ndarray
    factors: np.ndarray
    audio: np.ndarray
    audio_seed: np.ndarray  # track index of the seed it sounds like, -1 none
    taste: np.ndarray
    popular: np.ndarray
    seeds: dict[int, float]
    w_factors: float = 0.0
    w_colisten: float = W_COLISTEN
    w_audio: float = W_AUDIO

    @property
    def total(self) -> np.ndarray:
        return (self.w_colisten * self.colisten + self.w_factors * self.factors + self.w_audio * self.audio
                + W_TASTE * self.taste + W_POPULAR * self.popular)


def _audio(snap: Snapshot, seeds: dict[int, float]) -> tuple[np.ndarray, np.ndarray]:
    n = len(snap)
    best, who = np.zeros(n, np.float32), np.full(n, -1, np.int64)
    top = sorted(seeds.items(), key=lambda kv: -kv[1])[:PROFILE]
    strongest = top[0][1] if top else 1.0
    for t, w in top:
        sim = snap.audio_similarity(t)
        if sim is None:
            continue
        sim *= w / strongest
        better = sim > best
        best[better], who[better] = sim[better], t
    return best, who


def _colisten(snap: Snapshot, seeds: dict[int, float]) -> np.ndarray:
    n = len(snap)
    if not seeds or snap.models.colisten.nnz == 0:
        return np.zeros(n, np.float32)
    w = np.zeros(n, np.float32)
    for t, v in seeds.items():
        w[t] = v
    return _norm(np.asarray(snap.models.colisten.T @ w).ravel())


def _item_factors(snap: Snapshot, seeds: dict[int, float]) -> np.ndarray:
    items = snap.models.item_factors
    n = len(snap)
    if items is None or not seeds:
        return np.zeros(n, np.float32)
    norms = np.linalg.norm(items, axis=1)
    unit = items / np.where(norms > 0, norms, 1.0)[:, None]
    centre = sum(unit[t] * w for t, w in seeds.items())
    return _norm(np.clip(unit @ centre, 0.0, None))


def seed_scores(snap: Snapshot, seeds: dict[int, float], bonus: np.ndarray | None = None) -> Scores:
    """Scores of every track for seed tracks (track index -> weight); `bonus` adds to the taste part (the
    seed artist's or genre's own tracks)."""
    n = len(snap)
    audio, who = _audio(snap, seeds)
    factors = _item_factors(snap, seeds)
    taste = bonus if bonus is not None else np.zeros(n, np.float32)
    return Scores(_colisten(snap, seeds), factors, audio, who, taste, snap.popularity, seeds,
                  w_factors=W_FACTORS * 0.5 if snap.models.has_factors else 0.0)


def _taste(snap: Snapshot, weights: dict[int, float]) -> np.ndarray:
    """The user's share of listening per artist and per genre, given to every track of them."""
    n = len(snap)
    total = sum(weights.values()) or 1.0
    artist_share = np.zeros(len(snap.artist_ids), np.float32)
    genre_share: dict[str, float] = {}
    for t, w in weights.items():
        artist_share[snap.artist[t]] += w / total
        gs = snap.facts[t].genres
        for g in gs:
            genre_share[g.casefold()] = genre_share.get(g.casefold(), 0.0) + w / total / len(gs)
    out = artist_share[snap.artist].copy()
    genre = np.zeros(n, np.float32)
    for g, share in genre_share.items():
        rows = snap.genre_tracks.get(g)
        if rows is not None:
            genre[rows] = np.maximum(genre[rows], share)
    return _norm(out + 0.5 * genre)


def user_weights(snap: Snapshot, plays: Sequence[UserPlay], now: float) -> dict[int, float]:
    """How much each played track says about the user: more plays and recent plays weigh more."""
    out: dict[int, float] = {}
    for p in plays:
        i = snap.index.get(p.track_id)
        if i is None:
            continue
        recency = 0.5 + 0.5 * math.exp(-max(0.0, now - p.last_at) / RECENCY_S)
        out[i] = math.log1p(p.plays) * recency
    return out


def user_scores(snap: Snapshot, user_id: str, weights: dict[int, float]) -> Scores:
    """Scores of every track for a user with these play weights (played tracks are not excluded here)."""
    n = len(snap)
    m = snap.models
    factors = np.zeros(n, np.float32)
    w_factors = 0.0
    u = m.user_index.get(user_id)
    if m.user_factors is not None and m.item_factors is not None and u is not None:
        factors = _norm(np.clip(m.item_factors @ m.user_factors[u], 0.0, None))
        w_factors = USER_W_FACTORS if weights else W_FACTORS
    if not weights:  # cold start: the library's own popularity, and what sounds like its favourites
        pop = snap.popularity
        favourites = {int(i): float(pop[i]) for i in np.argsort(-pop)[:5] if pop[i] > 0}
        audio, who = _audio(snap, favourites)
        return Scores(np.zeros(n, np.float32), factors, audio, who, np.zeros(n, np.float32), pop, favourites,
                      w_factors)
    audio, who = _taste_density(snap, weights)
    return Scores(_colisten(snap, weights), factors, audio, who, _taste(snap, weights), snap.popularity, weights,
                  w_factors, USER_W_COLISTEN, USER_W_AUDIO)


def _title(snap: Snapshot, t: int) -> str:
    return snap.facts[t].title


def reason_for(snap: Snapshot, s: Scores, j: int, *, user: bool) -> Reason:
    """Why track `j` scored: its largest component, said with the seed it came from."""
    parts = {"played_with": s.w_colisten * s.colisten[j], "taste": s.w_factors * s.factors[j],
             "sounds_like": s.w_audio * s.audio[j], "artist": W_TASTE * s.taste[j], "popular": W_POPULAR * s.popular[j]}
    kind = max(parts, key=lambda k: float(parts[k]))
    seeds = list(s.seeds)
    if kind == "played_with" and seeds:
        col = snap.models.colisten[:, j].toarray().ravel()
        t = max(seeds, key=lambda i: s.seeds[i] * col[i])
        text = f"Because you played {_title(snap, t)}" if user else f"Often played with {_title(snap, t)}"
        return Reason("played_with", text, track_id=snap.facts[t].id)
    if kind == "taste" and seeds and snap.models.item_factors is not None:
        items = snap.models.item_factors
        t = max(seeds, key=lambda i: float(items[i] @ items[j]))
        text = f"Because you played {_title(snap, t)}" if user else f"Liked by listeners of {_title(snap, t)}"
        return Reason("taste", text, track_id=snap.facts[t].id)
    if kind == "sounds_like" and s.audio_seed[j] >= 0:
        t = int(s.audio_seed[j])
        return Reason("sounds_like", f"Similar tempo and timbre to {_title(snap, t)}", track_id=snap.facts[t].id)
    if kind == "artist" and s.taste[j] > 0:
        f = snap.facts[j]
        if user:
            return Reason("artist", f"Because you listen to {f.artist_name}", artist_id=f.artist_id)
        return Reason("artist", f"More from {f.artist_name}", artist_id=f.artist_id)
    return Reason("popular", "Popular in your library")
