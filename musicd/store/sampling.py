"""Uniform random rows of a big table without sorting all of it by random().

`ORDER BY random() LIMIT n` reads and sorts every row: 1.2 ms of CPU for 10k albums, about 12 ms for
100k tracks. Drawing rowids instead touches about n rows: rowids are drawn without replacement from
1..max(rowid) and the ones that name no row (gaps left by deletes) are dropped, so every row is equally
likely and the draw order is a uniform shuffle.
"""

from __future__ import annotations

import json
import random

from musicd.store.db import Database

__all__ = ["random_ids"]

_TABLES = frozenset({"albums", "tracks"})


async def random_ids(db: Database, table: str, limit: int) -> tuple[list[str], int]:
    """Up to `limit` ids of `table` ("albums" or "tracks") in a uniform random order, and the row count."""
    if table not in _TABLES:
        raise ValueError(f"no random sampling for {table!r}")
    # Two subqueries, not `count(*), max(rowid)` in one select: alone, each is answered from the b-tree
    # (the count opcode, the last rowid) instead of a walk of every row: at 100k, 0.45 -> 0.003 ms for the
    # albums and 6.1 -> 0.01 ms for the tracks (measured with sqlite3 on a warm file).
    row = await db.fetchone(f"SELECT (SELECT count(*) FROM {table}), (SELECT coalesce(max(rowid), 0) FROM {table})")
    total, top = (int(row[0]), int(row[1])) if row else (0, 0)
    if limit <= 0 or total == 0:
        return [], total
    # Small tables, or rowids so sparse that most draws would miss: the full sort is as cheap.
    if total <= 4 * limit or top > 8 * total:
        rows = await db.fetchall(f"SELECT id FROM {table} ORDER BY random() LIMIT ?", (limit,))
        return [r[0] for r in rows], total
    ids: list[str] = []
    tried: set[int] = set()
    while len(ids) < limit and len(tried) < top:
        want = min(top - len(tried), (limit - len(ids)) * top // total + 8)
        batch: list[int] = []
        while len(batch) < want:
            n = random.randint(1, top)  # a shuffle, not a secret
            if n not in tried:
                tried.add(n)
                batch.append(n)
        rows = await db.fetchall(f"SELECT rowid, id FROM {table} WHERE rowid IN (SELECT value FROM json_each(?))",
                                 (json.dumps(batch),))
        found = {r[0]: r[1] for r in rows}
        ids.extend(found[n] for n in batch if n in found)
    return ids[:limit], total
