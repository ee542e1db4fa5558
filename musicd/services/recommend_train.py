"""A model build in a short-lived process: it reads the catalogue and the history from the database,
trains (numpy, scipy, `implicit`), and hands back the stored form of the model, then exits.

The server never loads numpy, scipy or `implicit` to train (about 30 MiB of libraries and module
objects that a thread would keep in the serving process for good), and the build's peak memory (the
listens as arrays, the co-listening matrix) is returned to the system when the process ends. The
process is niced and uses one BLAS thread, like the analysis workers.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

__all__ = ["Built", "build_in_process"]

_NICENESS = 10


@dataclass(frozen=True)
class Built:
    """A stored model (`to_bytes`) and what it was built from."""

    data: bytes
    history_id: int
    listens: int
    tracks: int
    users: int
    build_s: float


async def _read_and_train(db_path: Path, history_id: int) -> Built:
    from musicd.services.recommend_models import TrainingSet, to_bytes, train
    from musicd.store.db import Database
    from musicd.store.recommend import RecommendRepository

    db = Database(db_path, readers=1)
    await db.open()
    try:
        repo = RecommendRepository(db)
        facts = await repo.track_facts()
        listens = await repo.listens(0, history_id)
    finally:
        await db.close()
    models = train(TrainingSet.from_rows([f.id for f in facts], listens, history_id))
    return Built(to_bytes(models), history_id, models.listens, len(facts), len(models.user_ids), models.build_s)


def _build(db_path: str, history_id: int) -> Built:
    """The body of the worker process."""
    with contextlib.suppress(OSError):
        os.nice(_NICENESS)
    import numpy  # noqa: F401  (loaded before the limit, which only reaches libraries already loaded)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        return asyncio.run(_read_and_train(Path(db_path), history_id))


async def build_in_process(db_path: Path, history_id: int) -> Built:
    """Train every model from the listens up to `history_id` in a fresh process, which exits after."""
    pool = ProcessPoolExecutor(1, mp_context=get_context("spawn"))
    finished = False
    try:
        built = await asyncio.get_running_loop().run_in_executor(pool, _build, str(db_path), history_id)
        finished = True
        return built
    finally:
        if not finished:  # cancelled (the server stops) or failed: the build is not waited for
            for proc in list((getattr(pool, "_processes", None) or {}).values()):
                with contextlib.suppress(Exception):
                    proc.kill()
        # Never blocks the event loop: a niced process on a busy box can take a moment to exit.
        await asyncio.to_thread(pool.shutdown, wait=finished, cancel_futures=True)
