"""Synthetic listening for the recommendation tests, benchmark and evaluation: latent tastes over a scanned
library, audio features that follow them, and listening sessions drawn from them.

Each track gets a latent vector mixing its genre's, its artist's and its own (so genres and artists say
something about a track, but not all); its synthetic audio features are a noisy projection of that
vector. Each user has a few tastes (directions in the latent space); a session follows one of them and
draws tracks with probability rising with the taste's affinity and with the track's overall popularity
(a long tail), favourites coming back. Everything is seeded.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from musicd.domain.audio import ANALYSIS_VERSION, AudioAnalysis
from musicd.domain.stamps import epoch_iso
from musicd.store.audio_features import AudioFeatureRepository
from musicd.store.db import Database
from musicd.store.recommend import RecommendRepository, TrackFact

__all__ = ["Listening", "World", "features", "iso", "make_world", "sessions", "store_features", "store_listens"]

DIM = 8


def iso(t: float) -> str:
    """POSIX seconds as the history's timestamp text."""
    return epoch_iso(t)


@dataclass
class World:
    """Latent vectors of the tracks (rows in `track_ids` order) and their popularity (log weights)."""

    track_ids: list[str]
    latent: np.ndarray
    log_pop: np.ndarray
    rng: np.random.Generator


@dataclass
class Listening:
    user: str
    track_id: str
    at: float


def make_world(facts: Sequence[TrackFact], seed: int = 7, genre_weight: float = 0.6, artist_weight: float = 0.5,
               own_weight: float = 0.7, popularity_exponent: float = 0.5,
               order: Callable[[TrackFact], Any] | None = None) -> World:
    """Latent vectors: genre + artist + the track's own part, unit length; popularity from a Zipf law
    (weight rank^-popularity_exponent). The same library and seed make the same world: tracks and artists
    are taken in the order of their names, not of their ids (a new scan makes new ids); `order` sorts
    tracks those leave tied (say, by album name)."""
    rng = np.random.default_rng(seed)
    facts = sorted(facts, key=order or (lambda f: (f.artist_name, f.title, f.duration, f.genres, f.id)))
    genres = {g.casefold() for f in facts for g in f.genres}
    g_vec = {g: rng.standard_normal(DIM) for g in sorted(genres)}
    names = {f.artist_id: f.artist_name for f in facts}
    a_vec = {a: rng.standard_normal(DIM) for a in sorted(names, key=lambda a: (names[a], a))}
    rows = []
    for f in facts:
        g = np.mean([g_vec[x.casefold()] for x in f.genres], axis=0) if f.genres else np.zeros(DIM)
        rows.append(genre_weight * g + artist_weight * a_vec[f.artist_id] + own_weight * rng.standard_normal(DIM))
    latent = np.array(rows)
    latent /= np.maximum(np.linalg.norm(latent, axis=1, keepdims=True), 1e-9)
    ranks = rng.permutation(len(facts)) + 1
    return World([f.id for f in facts], latent, -popularity_exponent * np.log(ranks), rng)


def features(world: World, noise: float = 0.35) -> dict[str, AudioAnalysis]:
    """Audio features that follow the latent vectors (a fixed random projection plus noise)."""
    rng = world.rng
    proj = rng.standard_normal((DIM, 9))
    timbre_proj = rng.standard_normal((DIM, 24))
    out = {}
    for tid, z in zip(world.track_ids, world.latent, strict=True):
        v = 1 / (1 + np.exp(-(z @ proj + noise * rng.standard_normal(9)) * 1.5))
        timbre = z @ timbre_proj + noise * 2 * rng.standard_normal(24)
        out[tid] = AudioAnalysis(
            status="ok", seconds=30.0, tempo=float(60 + 120 * v[0]), tempo_confidence=0.8,
            loudness=float(-30 + 25 * v[1]), energy=float(v[2]), brightness=float(400 + 5000 * v[3]),
            beat_strength=float(v[4]), danceability=float(v[5]), acousticness=float(v[6]), valence=float(v[7]),
            key=int(v[8] * 12) % 12, mode=int(v[8] * 24) % 2, key_confidence=0.7, time_signature=4,
            timbre=tuple(float(x) for x in timbre),
        )
    return out


def sessions(world: World, users: Sequence[str], *, listens_per_user: int | Sequence[int] = 400, tastes: int = 3,
             sharpness: float = 6.0, start: float | None = None, days: float = 120.0, favourite_share: float = 0.3,
             truth: dict[str, np.ndarray] | None = None) -> list[Listening]:
    """Listening sessions of each user over `days`, time-ordered per user. `truth`, when given, receives
    each user's true chance of picking each track (in `world.track_ids` order) when not replaying a
    favourite: what an oracle would rank by (scripts/eval_recommend.py reports it as the ceiling)."""
    rng = world.rng
    start = start if start is not None else datetime(2025, 1, 1, tzinfo=UTC).timestamp()
    out: list[Listening] = []
    counts = [listens_per_user] * len(users) if isinstance(listens_per_user, int) else list(listens_per_user)
    for user, total in zip(users, counts, strict=True):
        taste_dirs = rng.standard_normal((tastes, DIM))
        taste_dirs /= np.linalg.norm(taste_dirs, axis=1, keepdims=True)
        taste_share = rng.dirichlet(np.ones(tastes) * 2)
        logits = sharpness * world.latent @ taste_dirs.T + world.log_pop[:, None]  # (tracks, tastes)
        probs = np.exp(logits - logits.max(axis=0))
        probs /= probs.sum(axis=0)
        if truth is not None:
            truth[user] = probs @ taste_share
        favourites: list[list[int]] = [[] for _ in range(tastes)]
        t = start + rng.uniform(0, 86400)
        made = 0
        span = days * 86400 / max(1, math.ceil(total / 12))
        while made < total:
            k = int(rng.choice(tastes, p=taste_share))
            for _ in range(int(rng.integers(5, 20))):
                if made >= total:
                    break
                if favourites[k] and rng.random() < favourite_share:
                    j = favourites[k][int(rng.integers(len(favourites[k])))]
                else:
                    j = int(rng.choice(len(world.track_ids), p=probs[:, k]))
                    favourites[k].append(j)
                out.append(Listening(user, world.track_ids[j], t))
                t += rng.uniform(150, 300)
                made += 1
            t += rng.uniform(0.3, 2.0) * span
    return out


async def store_features(db: Database, found: dict[str, AudioAnalysis]) -> int:
    """Store synthetic analyses as the analyser would (for tracks of the scanned library)."""
    repo = AudioFeatureRepository(db)
    n = 0
    for job in await repo.pending(ANALYSIS_VERSION):
        a = found.get(job.id)
        if a is not None and await repo.save(job, a, ANALYSIS_VERSION):
            n += 1
    return n


async def store_listens(db: Database, listens: Sequence[Listening], batch: int = 5000) -> None:
    """Append listens to the history (play counts included), in batches."""
    repo = RecommendRepository(db)
    for k in range(0, len(listens), batch):
        await repo.append_listens([(x.user, x.track_id, iso(x.at)) for x in listens[k:k + batch]])
