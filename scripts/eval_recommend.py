#!/usr/bin/env python3
"""Offline evaluation of /v1/me/recommendations against two baselines, on synthetic listening.

A generated library (real files, really scanned), synthetic audio features and listening sessions drawn
from latent tastes (musicd/devtools/listening.py). Each user's listens are split in time: the first 80 %
are stored as history and the models are trained on them through the real service; the last 20 % are held
out. The targets of a user are the tracks of their held-out part they had not played before (what "tracks
the user has not played" can hit). For each user:
- musicd: RecommendService.for_me (the code behind GET /v1/me/recommendations),
- popularity: the most played tracks of the training history the user has not played,
- own genres and artists: the user's unplayed tracks by the share of their plays that went to the
  track's artist, plus the genres' share, most played first among equals,
scored by hit-rate@10 (a target in the first 10) and recall@50 (share of the targets in the first 50).
The oracle ranks each user's unplayed tracks by their true chance in the synthetic world (what the listens
were drawn from): no model can expect to do better, so it is the ceiling of the ratios (hit-rate@10 is at
most 1, so its ratio is at most 1 / the better baseline's).

    .venv/bin/python scripts/eval_recommend.py [--albums 100] [--users 12] [--seeds 3]

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from musicd.config import load_config
from musicd.devtools import listening
from musicd.devtools.library_builder import build_bulk_library
from musicd.services.registry import open_services
from musicd.store.recommend import TrackFact


def _genre_artist_baseline(facts: list[TrackFact], train: list[listening.Listening], played: set[str],
                           popularity: Counter[str], k: int) -> list[str]:
    """`facts` in a stable order (ties of score and popularity keep it: the same world ranks the same)."""
    artists: Counter[str] = Counter()
    genres: Counter[str] = Counter()
    by_id = {f.id: f for f in facts}
    for x in train:
        f = by_id[x.track_id]
        artists[f.artist_id] += 1
        for g in f.genres:
            genres[g.casefold()] += 1.0 / len(f.genres)
    total = max(1, len(train))

    def score(f: TrackFact) -> tuple[float, int]:
        g = sum(genres[x.casefold()] for x in f.genres) / max(1, len(f.genres))
        return (artists[f.artist_id] / total + g / total, popularity[f.id])

    return [f.id for f in sorted((f for f in facts if f.id not in played), key=score, reverse=True)[:k]]


def _metrics(lists: dict[str, list[str]], targets: dict[str, set[str]]) -> dict[str, float]:
    hits = [bool(set(lists[u][:10]) & targets[u]) for u in targets]
    recall = [len(set(lists[u][:50]) & targets[u]) / len(targets[u]) for u in targets]
    return {"hit_rate_at_10": round(float(np.mean(hits)), 4), "recall_at_50": round(float(np.mean(recall)), 4)}


async def run_once(work: Path, lib: Path, seed: int, users: int) -> dict[str, object]:
    data = work / f"data-{seed}"
    shutil.rmtree(data, ignore_errors=True)
    config = load_config(environ={"MUSICD_DATA_DIR": str(data), "MUSICD_LIBRARY_FOLDERS": str(lib),
                                  "MUSICD_ANALYSIS_BACKGROUND": "false"})
    services = await open_services(config)
    try:
        await services.library.scan()
        accounts = [await services.accounts.create(f"listener{i}", "eval-password", role="user")
                    for i in range(users)]
        found = await services.recommend.repo.track_facts()
        # The world and the baselines' ties follow names, not the ids a new scan makes: a seed is one world.
        albums = {a: (await services.catalog.album(a)).name for a in {f.album_id for f in found}}
        facts = sorted(found, key=lambda f: (f.artist_name, albums[f.album_id], f.title, f.duration, f.id))
        rank = {f.id: i for i, f in enumerate(facts)}
        world = listening.make_world(facts, seed=seed, order=lambda f: rank[f.id])
        await listening.store_features(services.db, listening.features(world))
        rng = np.random.default_rng(seed)
        counts = [int(c) for c in rng.integers(200, 900, users)]
        truth: dict[str, np.ndarray] = {}
        all_listens = listening.sessions(world, [a.id for a in accounts], listens_per_user=counts, truth=truth)
        per_user: dict[str, list[listening.Listening]] = defaultdict(list)
        for x in all_listens:
            per_user[x.user].append(x)
        train: dict[str, list[listening.Listening]] = {}
        targets: dict[str, set[str]] = {}
        for u, xs in per_user.items():
            xs.sort(key=lambda x: x.at)
            cut = int(len(xs) * 0.8)
            train[u] = xs[:cut]
            new = {x.track_id for x in xs[cut:]} - {x.track_id for x in xs[:cut]}
            if new:
                targets[u] = new
        await listening.store_listens(services.db, [x for xs in train.values() for x in xs])
        t0 = time.monotonic()
        status = await services.recommend.rebuild()
        build_s = time.monotonic() - t0
        popularity = Counter(x.track_id for xs in train.values() for x in xs)
        lists: dict[str, dict[str, list[str]]] = {"musicd": {}, "popularity": {}, "genres_artists": {}, "oracle": {}}
        by_user = {a.id: a for a in accounts}
        t0 = time.monotonic()
        for u in targets:
            recs = await services.recommend.for_me(by_user[u], 50)
            lists["musicd"][u] = [v.id for v, _ in recs]
        query_s = (time.monotonic() - t0) / max(1, len(targets))
        for u in targets:
            played = {x.track_id for x in train[u]}
            lists["popularity"][u] = [t for t, _ in popularity.most_common() if t not in played][:50]
            lists["genres_artists"][u] = _genre_artist_baseline(facts, train[u], played, popularity, 50)
            lists["oracle"][u] = [world.track_ids[i] for i in np.argsort(-truth[u], kind="stable")
                                  if world.track_ids[i] not in played][:50]
        result = {name: _metrics(lst, targets) for name, lst in lists.items()}
        return {"seed": seed, "tracks": len(facts), "users": len(targets), "listens": len(all_listens),
                "train_listens": status.listens, "build_s": round(build_s, 2), "query_ms": round(query_s * 1000, 1),
                **result}
    finally:
        await services.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--albums", type=int, default=100)
    ap.add_argument("--tracks-per-album", type=int, default=15)
    ap.add_argument("--users", type=int, default=12)
    ap.add_argument("--seeds", type=int, default=3, help="independent worlds (tastes, listens) to average over")
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="musicd-eval-"))
    lib = work / "library"
    if not lib.exists():
        build_bulk_library(lib, albums=args.albums, tracks_per_album=args.tracks_per_album,
                           cache_dir=work / "templates", seed="eval")
    runs = [asyncio.run(run_once(work, lib, seed, args.users)) for seed in range(1, args.seeds + 1)]
    summary: dict[str, dict[str, float]] = {}
    for name in ("musicd", "popularity", "genres_artists", "oracle"):
        summary[name] = {m: round(float(np.mean([r[name][m] for r in runs])), 4)  # type: ignore[index]
                         for m in ("hit_rate_at_10", "recall_at_50")}
    def over_baseline(name: str) -> dict[str, float]:
        return {m: round(summary[name][m] / max(1e-9, summary["popularity"][m], summary["genres_artists"][m]), 2)
                for m in ("hit_rate_at_10", "recall_at_50")}

    ratio = over_baseline("musicd")
    print(json.dumps({"mean": summary, "musicd_over_better_baseline": ratio,
                      "oracle_over_better_baseline": over_baseline("oracle"),
                      "target_met": all(v >= 2 for v in ratio.values()), "runs": runs}))
    if args.workdir is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
