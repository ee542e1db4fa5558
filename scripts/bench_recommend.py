#!/usr/bin/env python3
"""Model build time of the recommendations for a large household library (issue 15): `--tracks` tracks and
`--listens` synthetic listens (musicd/devtools/listening.py: latent tastes, sessions) over `--users` users.

Times each step of a build as the trainer runs it (services/recommend.py: one thread, BLAS limited to one
thread): history rows -> TrainingSet, train (co-listening, ALS, popularity), serialise for the database;
then the catalogue snapshot and one user's recommendations. No database and no audio: the catalogue facts
and the history rows are made in memory, so only the model code is measured.

    .venv/bin/python scripts/bench_recommend.py [--tracks 10000] [--listens 100000] [--users 40]

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from threadpoolctl import threadpool_limits

from musicd.devtools import listening
from musicd.services.recommend_models import TrainingSet, to_bytes, train
from musicd.services.recommend_rank import Snapshot, user_scores, user_weights
from musicd.store.recommend import TrackFact, UserPlay

GENRES = ["Rock", "Jazz", "Ambient", "Techno", "Folk", "Hip-Hop", "Classical", "Pop", "Metal", "Soul"]


def _facts(n: int) -> list[TrackFact]:
    # 12 tracks an album, 3 albums an artist: a library shaped like a real one.
    return [TrackFact(f"t{i:06d}", f"Track {i}", f"ar{i // 36:05d}", f"Artist {i // 36}", f"al{i // 12:05d}",
                      (GENRES[(i // 36) % len(GENRES)],), 0, 200.0, "2025-01-01T00:00:00Z") for i in range(n)]


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tracks", type=int, default=10_000)
    ap.add_argument("--listens", type=int, default=100_000)
    ap.add_argument("--users", type=int, default=40)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()

    facts = _facts(args.tracks)
    world = listening.make_world(facts, seed=args.seed)
    users = [f"u{k:03d}" for k in range(args.users)]
    per_user = [args.listens // args.users + (1 if k < args.listens % args.users else 0) for k in range(args.users)]
    made = listening.sessions(world, users, listens_per_user=per_user)
    rows = [(k + 1, x.user, x.track_id, x.at) for k, x in enumerate(made)]
    ids = [f.id for f in facts]

    steps: dict[str, float] = {}
    with threadpool_limits(1):
        t0, c0 = time.monotonic(), _cpu()
        ts = TrainingSet.from_rows(ids, rows, len(rows))
        steps["training_set_s"] = time.monotonic() - t0
        t1 = time.monotonic()
        models = train(ts)
        steps["train_s"] = time.monotonic() - t1
        t2 = time.monotonic()
        blob = to_bytes(models)
        steps["serialise_s"] = time.monotonic() - t2
        build_wall, build_cpu = time.monotonic() - t0, _cpu() - c0
        t3 = time.monotonic()
        snap = Snapshot(facts, models)
        steps["snapshot_s"] = time.monotonic() - t3
        played: dict[str, list[float]] = {}
        for x in made:
            if x.user == users[0]:
                played.setdefault(x.track_id, []).append(x.at)
        plays = [UserPlay(t, len(ats), max(ats)) for t, ats in played.items()]
        t4 = time.monotonic()
        scores = user_scores(snap, users[0], user_weights(snap, plays, max(x.at for x in made)))
        steps["one_user_scores_ms"] = (time.monotonic() - t4) * 1000
    print(json.dumps({
        "tracks": args.tracks, "listens": len(ts.tracks), "users": len(ts.user_ids),
        "build_wall_s": round(build_wall, 2), "build_cpu_s": round(build_cpu, 2),
        **{k: round(v, 3) for k, v in steps.items()},
        "model_bytes": len(blob), "als": models.has_factors,
        "scored_tracks": int((scores.total > 0).sum()),
    }))


if __name__ == "__main__":
    main()
