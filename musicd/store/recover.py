"""Rebuild what can still be read from a damaged database into a fresh one at the current schema.

Two ways to read the damaged file: the `sqlite3` command's `.recover` (it walks every page, so it also
finds rows under a broken interior page), or, without that program, a row-by-row copy of each table
that steps over the parts it cannot read. Either way the rows land in a fresh, migrated database;
rows that point at lost rows are removed (or unlinked, where the schema says ON DELETE SET NULL).
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from musicd.store.db import Database
from musicd.store.migrations import migrate

__all__ = ["RecoveryReport", "TableResult", "recover_database"]

_BATCH = 500


@dataclass
class TableResult:
    name: str
    recovered: int
    before: int | None  # rows the damaged file still counts (None: it cannot count them any more)
    dropped: int = 0  # recovered rows removed because what they referred to was lost

    @property
    def lost(self) -> int | None:
        return None if self.before is None else max(0, self.before - self.recovered)


@dataclass
class RecoveryReport:
    method: str  # "sqlite3 .recover" | "row copy"
    tables: list[TableResult] = field(default_factory=list)
    lost_and_found: int = 0  # fragments `.recover` could not place in any table


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _ro(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)


async def recover_database(damaged: Path, out: Path, workdir: Path, *, use_cli: bool = True) -> RecoveryReport:
    """Write into `out` (a new file) every row that can be read from `damaged`; `workdir` holds scratch
    files. The damaged file itself is only read (a copy of it is what gets opened)."""
    fresh = Database(out, readers=0)
    await fresh.open()
    try:
        await migrate(fresh)
    finally:
        await fresh.close()
    return await asyncio.to_thread(_recover, damaged, workdir, out, use_cli)


def _recover(damaged: Path, workdir: Path, out: Path, use_cli: bool) -> RecoveryReport:
    src, salvage = workdir / "damaged.db", workdir / "salvage.db"
    for suffix in ("", "-wal"):
        if Path(f"{damaged}{suffix}").exists():
            shutil.copyfile(f"{damaged}{suffix}", f"{src}{suffix}")
    with closing(_ro(out)) as conn:
        tables = _tables(conn, "main")
    cli = shutil.which("sqlite3") if use_cli else None
    if not (cli and _salvage_with_cli(cli, src, salvage)):
        _salvage_rows(src, salvage, tables)
        report = RecoveryReport("row copy")
    else:
        report = RecoveryReport("sqlite3 .recover")
    before = _counts(src, tables)
    with closing(sqlite3.connect(out, isolation_level=None)) as conn:
        conn.execute("PRAGMA foreign_keys=OFF")
        conn.execute("ATTACH DATABASE ? AS salvage", (str(salvage),))
        have = set(_tables(conn, "salvage"))
        if "lost_and_found" in have:
            report.lost_and_found = conn.execute("SELECT count(*) FROM salvage.lost_and_found").fetchone()[0]
        triggers = conn.execute("SELECT name, sql FROM main.sqlite_schema WHERE type = 'trigger'").fetchall()
        conn.execute("BEGIN")
        # Triggers would count again what the copied rows already count (plays into per-user totals).
        for name, _ in triggers:
            conn.execute(f"DROP TRIGGER main.{_q(name)}")
        for t in tables:
            if t == "schema_version":  # the fresh database's own versions are the truth
                continue
            n = 0
            if t in have:
                cols = [c for c in _columns(conn, "main", t) if c in set(_columns(conn, "salvage", t))]
                if cols:
                    cl = ", ".join(_q(c) for c in cols)
                    n = conn.execute(f"INSERT OR IGNORE INTO main.{_q(t)} ({cl}) SELECT {cl} FROM salvage.{_q(t)}"
                                     ).rowcount
            report.tables.append(TableResult(t, n, before.get(t)))
        dropped = _drop_dangling(conn, tables)
        for r in report.tables:
            r.dropped = dropped.get(r.name, 0)
            r.recovered -= r.dropped
        for _, sql in triggers:
            conn.execute(sql)
        conn.execute("COMMIT")
        conn.execute("DETACH DATABASE salvage")
    return report


def _tables(conn: sqlite3.Connection, schema: str) -> list[str]:
    return [r[0] for r in conn.execute(
        f"SELECT name FROM {schema}.sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]


def _columns(conn: sqlite3.Connection, schema: str, table: str) -> list[str]:
    return [r[1] for r in conn.execute(f"PRAGMA {schema}.table_info({_q(table)})")]


def _counts(src: Path, tables: list[str]) -> dict[str, int]:
    """Rows each table of the damaged file still counts (a count may use an intact index)."""
    out: dict[str, int] = {}
    try:
        conn = _ro(src)
    except sqlite3.Error:
        return out
    with closing(conn):
        for t in tables:
            try:
                out[t] = conn.execute(f"SELECT count(*) FROM {_q(t)}").fetchone()[0]
            except sqlite3.Error:
                continue
    return out


def _salvage_with_cli(cli: str, src: Path, salvage: Path) -> bool:
    """`sqlite3 SRC .recover | sqlite3 SALVAGE`; False when that program cannot do it (Debian's sqlite3 is
    built without the sqlite_dbpage table `.recover` needs: it prints part of the tables, then fails)."""
    sql = salvage.with_suffix(".sql")
    try:
        probe = subprocess.run([cli, ":memory:", "SELECT count(*) FROM sqlite_dbpage"], capture_output=True,
                               check=False)
        if probe.returncode != 0:
            return False
        with sql.open("wb") as fh:
            # --ignore-freelist: pages on the freelist hold deleted rows; they must not come back.
            dump = subprocess.run([cli, str(src), ".recover --ignore-freelist"], stdout=fh,
                                  stderr=subprocess.DEVNULL, check=False)
        if dump.returncode != 0:
            return False
        with sql.open("rb") as fh:
            subprocess.run([cli, str(salvage)], stdin=fh, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           check=False)
    except OSError:
        return False
    finally:
        sql.unlink(missing_ok=True)
    sqlite3.connect(salvage).close()  # nothing readable at all still gives an (empty) salvage
    return True


def _salvage_rows(src: Path, salvage: Path, tables: list[str]) -> None:
    """Copy every readable row of each table into `salvage` (untyped tables named like the originals)."""
    with closing(sqlite3.connect(salvage, isolation_level=None)) as dst:
        # A scratch file: no journal, no syncs, one transaction.
        dst.execute("PRAGMA journal_mode=OFF")
        dst.execute("PRAGMA synchronous=OFF")
        dst.execute("BEGIN")
        try:
            conn = _ro(src)
        except sqlite3.Error:
            conn = None
        if conn is not None:
            with closing(conn):
                for t in tables:
                    created = False
                    for names, rows in _readable_rows(conn, t):
                        if not created:
                            dst.execute(f"CREATE TABLE {_q(t)} ({', '.join(_q(n) for n in names)})")
                            created = True
                        marks = ", ".join("?" * len(names))
                        dst.executemany(f"INSERT INTO {_q(t)} VALUES ({marks})", rows)
        dst.execute("COMMIT")


def _readable_rows(conn: sqlite3.Connection, table: str) -> Iterator[tuple[list[str], list[tuple]]]:
    """(column names, rows) batches of `table`, stepping over the rowid ranges that cannot be read."""
    try:
        conn.execute(f"SELECT rowid FROM {_q(table)} LIMIT 0")
        has_rowid = True
    except sqlite3.OperationalError:  # a WITHOUT ROWID table: read in order until the first bad page
        has_rowid = False
    except sqlite3.Error:
        return
    if not has_rowid:
        rows: list[tuple] = []
        try:
            cur = conn.execute(f"SELECT * FROM {_q(table)}")
            names = [d[0] for d in cur.description]
            for row in cur:
                rows.append(row)
        except sqlite3.Error:
            pass
        if rows:
            yield names, rows
        return
    last = 0  # SQLite hands out rowids from 1; stepping over negative ones would only waste probes
    while True:
        batch: list[tuple] = []
        names: list[str] = []
        try:
            cur = conn.execute(f"SELECT rowid, * FROM {_q(table)} WHERE rowid > ? ORDER BY rowid", (last,))
            names = [d[0] for d in cur.description][1:]
            # One row at a time: a failed fetchmany() would lose the good rows read before the bad page.
            for row in cur:
                if row[0] <= last:
                    # A damaged page can hand back rows out of order (a page written over another, say):
                    # going back would read the same rows again and again. Treat it as a bad page.
                    raise sqlite3.DatabaseError(f"rowid {row[0]} after {last}: pages out of order")
                last = row[0]
                batch.append(row[1:])
                if len(batch) == _BATCH:
                    yield names, batch
                    batch = []
            if batch:
                yield names, batch
            return
        except sqlite3.Error:
            if batch:
                yield names, batch
            nxt = _next_readable(conn, table, last)
            if nxt is None:
                return
            last = nxt - 1


def _next_readable(conn: sqlite3.Connection, table: str, last: int) -> int | None:
    """The first rowid past `last` that can be reached: probe ever further past the broken page, then
    search back between the last failed and the first good probe so as few readable rows as possible
    are skipped."""

    def probe(x: int) -> int | None:
        row = conn.execute(f"SELECT rowid FROM {_q(table)} WHERE rowid > ? ORDER BY rowid LIMIT 1", (x,)).fetchone()
        return None if row is None else int(row[0])

    failed, step = last, 1
    while last + step < 2**63:
        try:
            found = probe(last + step)
        except sqlite3.Error:
            failed, step = last + step, step * 2
            continue
        lo, hi = failed, last + step
        while hi - lo > 1:
            mid = (lo + hi) // 2
            try:
                got = probe(mid)
            except sqlite3.Error:
                lo = mid
            else:
                hi, found = mid, got
        return found
    return None


def _drop_dangling(conn: sqlite3.Connection, tables: list[str]) -> dict[str, int]:
    """Remove rows whose foreign keys point at lost rows (unlink them where the key is ON DELETE SET NULL),
    until none is left; rows removed per table."""
    fks: list[tuple[str, str, list[str], list[str], str]] = []
    for t in tables:
        groups: dict[int, list[tuple]] = {}
        for r in conn.execute(f"PRAGMA main.foreign_key_list({_q(t)})"):
            groups.setdefault(r[0], []).append(r)
        for rows in groups.values():
            parent = rows[0][2]
            to = [r[4] for r in rows]
            if any(c is None for c in to):
                to = [r[1] for r in conn.execute(f"PRAGMA main.table_info({_q(parent)})") if r[5]]
            fks.append((t, parent, [r[3] for r in rows], to, rows[0][6].upper()))
    dropped: dict[str, int] = {}
    changed = True
    while changed:
        changed = False
        for t, parent, cols, to, on_delete in fks:
            present = " AND ".join(f"{_q(t)}.{_q(c)} IS NOT NULL" for c in cols)
            match = " AND ".join(f"p.{_q(pc)} = {_q(t)}.{_q(c)}" for c, pc in zip(cols, to, strict=True))
            where = f"{present} AND NOT EXISTS (SELECT 1 FROM main.{_q(parent)} AS p WHERE {match})"
            if on_delete == "SET NULL":
                sets = ", ".join(f"{_q(c)} = NULL" for c in cols)
                n = conn.execute(f"UPDATE main.{_q(t)} SET {sets} WHERE {where}").rowcount
            else:
                n = conn.execute(f"DELETE FROM main.{_q(t)} WHERE {where}").rowcount
                if n > 0:
                    dropped[t] = dropped.get(t, 0) + n
            changed = changed or n > 0
    return dropped
