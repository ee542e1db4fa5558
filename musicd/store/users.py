"""Repository of user accounts."""

from __future__ import annotations

import sqlite3

import msgspec

from musicd.domain.models import User, UserSettings
from musicd.store.db import Database, utc_now

__all__ = ["UserRecord", "UserRepository"]


class UserRecord(User, frozen=True):
    """A user with the stored secrets, for the accounts service only."""

    password_hash: str = ""
    subsonic_secret: bytes | None = None
    token_generation: int = 0


_COLS = (
    "id, username, email, display_name, role, disabled, created_at, password_hash, subsonic_secret, settings,"
    " token_generation"
)


def _record(r: sqlite3.Row) -> UserRecord:
    return UserRecord(
        id=r["id"],
        username=r["username"],
        email=r["email"],
        display_name=r["display_name"],
        role=r["role"],
        disabled=bool(r["disabled"]),
        created_at=r["created_at"],
        password_hash=r["password_hash"],
        subsonic_secret=r["subsonic_secret"],
        settings=_settings(r["settings"]),
        token_generation=r["token_generation"],
    )


def _settings(raw: str) -> UserSettings:
    try:
        return msgspec.json.decode(raw, type=UserSettings)
    except msgspec.DecodeError:  # a hand-edited row must not lock the user out
        return UserSettings()


class UserRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def count(self) -> int:
        row = await self.db.fetchone("SELECT count(*) FROM users")
        return int(row[0]) if row else 0

    async def list(self) -> list[UserRecord]:
        return [_record(r) for r in await self.db.fetchall(f"SELECT {_COLS} FROM users ORDER BY username")]

    async def get(self, user_id: str) -> UserRecord | None:
        r = await self.db.fetchone(f"SELECT {_COLS} FROM users WHERE id = ?", (user_id,))
        return _record(r) if r else None

    async def by_login(self, login: str) -> UserRecord | None:
        """Find by username or e-mail, case-insensitively."""
        r = await self.db.fetchone(f"SELECT {_COLS} FROM users WHERE username = ? OR email = ?", (login, login))
        return _record(r) if r else None

    async def insert(self, user: UserRecord) -> None:
        now = utc_now()
        try:
            await self.db.execute(
                "INSERT INTO users (id, username, email, display_name, password_hash, subsonic_secret, role,"
                " disabled, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (user.id, user.username, user.email, user.display_name, user.password_hash,
                 user.subsonic_secret, user.role, int(user.disabled), user.created_at or now, now),
            )
        except sqlite3.IntegrityError as e:
            raise KeyError(str(e)) from None

    async def set_password(self, user_id: str, password_hash: str, subsonic_secret: bytes | None) -> bool:
        n = await self.db.execute(
            "UPDATE users SET password_hash = ?, subsonic_secret = ?, updated_at = ? WHERE id = ?",
            (password_hash, subsonic_secret, utc_now(), user_id),
        )
        return n > 0

    async def delete(self, user_id: str) -> bool:
        return await self.db.execute("DELETE FROM users WHERE id = ?", (user_id,)) > 0

    async def update(self, user_id: str, **fields: object) -> bool:
        """Change profile fields (display_name, email, role, disabled, settings); True if the user exists."""
        allowed = {"display_name", "email", "role", "disabled", "settings"}
        if not fields or set(fields) - allowed:
            raise ValueError(f"cannot update {sorted(set(fields) - allowed)}")
        values = [msgspec.json.encode(v).decode() if k == "settings" else v for k, v in fields.items()]
        sets = ", ".join(f"{k} = ?" for k in fields)
        try:
            n = await self.db.execute(
                f"UPDATE users SET {sets}, updated_at = ? WHERE id = ?", (*values, utc_now(), user_id)
            )
        except sqlite3.IntegrityError as e:
            raise KeyError(str(e)) from None
        return n > 0
