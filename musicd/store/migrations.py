"""Forward-only plain-SQL migrations (`migrations/NNNN_name.sql`), applied in order with a version table."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from musicd.store.db import Database, utc_now

__all__ = ["Migration", "applied_versions", "available_migrations", "migrate"]

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def _migrations_dir() -> Path:
    # An installed wheel carries the SQL files as musicd/migrations (see pyproject's package-dir);
    # in a checkout they are the top-level migrations/ folder.
    packaged = Path(str(resources.files("musicd"))) / "migrations"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "migrations"


def available_migrations(folder: Path | None = None) -> list[Migration]:
    """Every migration file, sorted by version; a malformed name or a duplicate version is an error."""
    folder = folder or _migrations_dir()
    out: dict[int, Migration] = {}
    for p in sorted(folder.glob("*.sql")):
        m = _NAME.match(p.name)
        if not m:
            raise RuntimeError(f"migration file name must look like 0001_name.sql: {p.name}")
        v = int(m.group(1))
        if v in out:
            raise RuntimeError(f"two migrations with version {v}")
        out[v] = Migration(v, m.group(2), p.read_text(encoding="utf-8"))
    return [out[v] for v in sorted(out)]


async def applied_versions(db: Database) -> set[int]:
    """Versions already applied to this database."""
    await db.writer.execute(
        "CREATE TABLE IF NOT EXISTS schema_version ("
        "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    async with db.writer.execute("SELECT version FROM schema_version") as cur:
        return {r[0] for r in await cur.fetchall()}


def _sha256_hex(value: str | bytes | None) -> str | None:
    if value is None:
        return None
    return hashlib.sha256(value.encode() if isinstance(value, str) else value).hexdigest()


async def migrate(db: Database, folder: Path | None = None) -> list[Migration]:
    """Apply the pending migrations, each in its own transaction; return what was applied.

    Migrations may call `sha256_hex(text)` (SQLite has no hash function of its own)."""
    await db.writer.create_function("sha256_hex", 1, _sha256_hex, deterministic=True)
    done = await applied_versions(db)
    pending = [m for m in available_migrations(folder) if m.version not in done]
    if done and pending and min(m.version for m in pending) < max(done):
        raise RuntimeError("a migration older than the database's version appeared; migrations are forward-only")
    for m in pending:
        async with db.transaction() as conn:
            # executescript would COMMIT on its own; run statement by statement inside our transaction.
            for stmt in _statements(m.sql):
                await conn.execute(stmt)
            await conn.execute(
                "INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)",
                (m.version, m.name, utc_now()),
            )
    return pending


def _statements(sql: str) -> list[str]:
    import sqlite3

    out, buf = [], ""
    for line in sql.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            if buf.strip():
                out.append(buf.strip())
            buf = ""
    if buf.strip() and not all(ln.strip().startswith("--") or not ln.strip() for ln in buf.splitlines()):
        raise RuntimeError(f"incomplete SQL statement at the end of a migration: {buf[:80]!r}")
    return out
