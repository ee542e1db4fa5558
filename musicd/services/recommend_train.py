"""A model build in a short-lived process: it reads the catalogue and the history from the database,
trains (numpy, scipy, `implicit`), writes the stored form of the model to its stdout, and exits.

The server never loads numpy, scipy or `implicit` to train (about 30 MiB of libraries and module
objects that a thread would keep in the serving process for good), and the build's peak memory (the
listens as arrays, the co-listening matrix) is returned to the system when the process ends. The
process is niced and uses one BLAS thread, like the analysis workers. A plain subprocess rather than
multiprocessing: a spawn context would leave its resource-tracker process (7 MiB) running for good.

    python -m musicd.services.recommend_train DB_PATH HISTORY_ID   (stdout: a msgpack-encoded Built)
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from pathlib import Path

import msgspec

__all__ = ["Built", "build_in_process"]

_NICENESS = 10


class Built(msgspec.Struct, frozen=True):
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


def main(argv: list[str]) -> None:
    """The worker process: train, write the result to stdout."""
    from musicd.analysis.pool import settle_numeric_worker

    settle_numeric_worker(_NICENESS)
    built = asyncio.run(_read_and_train(Path(argv[0]), int(argv[1])))
    sys.stdout.buffer.write(msgspec.msgpack.encode(built))


async def build_in_process(db_path: Path, history_id: int) -> Built:
    """Train every model from the listens up to `history_id` in a fresh process, which exits after."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "musicd.services.recommend_train", str(db_path), str(history_id),
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        out, err = await proc.communicate()
    finally:
        if proc.returncode is None:  # cancelled (the server stops): the build is not waited for
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
    if proc.returncode != 0:
        tail = err.decode("utf-8", "replace").strip().splitlines()[-1:] or [f"exit status {proc.returncode}"]
        raise RuntimeError(f"the model build process failed: {tail[0]}")
    return msgspec.msgpack.decode(out, type=Built)


if __name__ == "__main__":
    main(sys.argv[1:])
