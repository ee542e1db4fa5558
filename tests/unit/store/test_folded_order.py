"""Names sort as people expect: `ORDER BY fold(name)` on every connection, accents and case folded."""

from __future__ import annotations

from pathlib import Path

from musicd.domain.catalog import fold_name
from musicd.store.db import Database

NAMES = ["Zoo", "Émile", "apple", "Ærø", "Eagle", "Ångström", "Öresund", "Ødegaard", "Banana", "éclair", "Ab"]
EXPECTED = ["Ab", "Ærø", "Ångström", "apple", "Banana", "Eagle", "éclair", "Émile", "Ødegaard", "Öresund", "Zoo"]


def test_fold_name_folds_case_accents_and_letters_that_do_not_decompose() -> None:
    assert fold_name("Émile") == "emile" and fold_name("ÆRØ") == "aero" and fold_name("Straße") == "strasse"
    assert fold_name(None) is None
    assert sorted(NAMES, key=lambda n: (fold_name(n), n)) == EXPECTED


async def test_every_connection_orders_by_the_folded_name(tmp_path: Path) -> None:
    db = Database(tmp_path / "musicd.db")
    await db.open()
    try:
        values = ", ".join("(?)" for _ in NAMES)
        sql = f"WITH names(n) AS (VALUES {values}) SELECT n FROM names ORDER BY fold(n), n"
        for _ in range(3):  # the readers, in turn
            assert [r[0] for r in await db.fetchall(sql, NAMES)] == EXPECTED
        async with db.writer.execute(sql, NAMES) as cur:
            assert [r[0] for r in await cur.fetchall()] == EXPECTED
        # Plain NOCASE (what sorted before) files the accented names after "Z".
        nocase = await db.fetchall(f"WITH names(n) AS (VALUES {values}) SELECT n FROM names ORDER BY n COLLATE NOCASE",
                                   NAMES)
        assert [r[0] for r in nocase][-1] != "Zoo"
    finally:
        await db.close()
