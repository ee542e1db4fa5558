"""Accounts: create, authenticate, change passwords. Passwords are hashed with Argon2id."""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from musicd.domain.ids import random_id
from musicd.domain.models import User
from musicd.errors import AuthError, ConflictError, NotFoundError, ValidationError
from musicd.services.secretbox import SecretBox
from musicd.store.db import utc_now
from musicd.store.users import UserRecord, UserRepository

__all__ = ["ROLES", "AccountService"]

ROLES = ("admin", "user", "guest")
_USERNAME = re.compile(r"^[\w.@+-]{1,64}$")
MIN_PASSWORD = 8
MAX_PASSWORD = 1024

# A hash to verify against when the user does not exist, so that a wrong username costs the
# same time as a wrong password and does not reveal which accounts exist.
_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("musicd-timing-equaliser")


class AccountService:
    def __init__(self, users: UserRepository, server_key: bytes) -> None:
        self.users = users
        self._box = SecretBox(server_key, b"subsonic-password")

    async def count(self) -> int:
        return await self.users.count()

    async def list(self) -> list[User]:
        return list(await self.users.list())

    async def create(
        self, username: str, password: str, *, role: str = "user", email: str | None = None,
        display_name: str | None = None,
    ) -> User:
        """Create an account; the username must be free and the password at least 8 characters."""
        username = username.strip()
        if not _USERNAME.match(username):
            raise ValidationError("username: 1-64 letters, digits or . @ + - _", code="invalid_username")
        if role not in ROLES:
            raise ValidationError(f"role must be one of {', '.join(ROLES)}", code="invalid_role")
        self._check_password(password)
        rec = UserRecord(
            id=random_id(), username=username, email=email, display_name=display_name or username,
            role=role, disabled=False, created_at=utc_now(),
            password_hash=_hasher.hash(password), subsonic_secret=self._box.seal(password.encode()),
        )
        try:
            await self.users.insert(rec)
        except KeyError:
            raise ConflictError(f"user {username!r} already exists", code="user_exists") from None
        return User(**{f: getattr(rec, f) for f in User.__struct_fields__})

    @staticmethod
    def _check_password(password: str) -> None:
        if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
            raise ValidationError(
                f"password must be {MIN_PASSWORD} to {MAX_PASSWORD} characters", code="weak_password"
            )

    async def authenticate(self, login: str, password: str) -> User:
        """The user whose login and password these are; AuthError otherwise (same message either way)."""
        rec = await self.users.by_login(login.strip()) if login else None
        try:
            _hasher.verify(rec.password_hash if rec else _DUMMY_HASH, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            raise AuthError("wrong username or password", code="invalid_credentials") from None
        if rec is None:
            raise AuthError("wrong username or password", code="invalid_credentials")
        if rec.disabled:
            raise AuthError("this account is disabled", code="account_disabled")
        return User(**{f: getattr(rec, f) for f in User.__struct_fields__})

    async def subsonic_password(self, login: str) -> tuple[User, str] | None:
        """The clear password of a user, decrypted for Subsonic token auth (t = md5(password + salt))."""
        rec = await self.users.by_login(login)
        if rec is None or rec.subsonic_secret is None:
            return None
        clear = self._box.open(rec.subsonic_secret)
        if clear is None:
            return None
        return User(**{f: getattr(rec, f) for f in User.__struct_fields__}), clear.decode()

    async def change_password(self, username: str, password: str) -> None:
        self._check_password(password)
        rec = await self.users.by_login(username)
        if rec is None:
            raise NotFoundError(f"no user {username!r}", code="user_not_found")
        await self.users.set_password(rec.id, _hasher.hash(password), self._box.seal(password.encode()))

    async def delete(self, username: str) -> None:
        rec = await self.users.by_login(username)
        if rec is None or not await self.users.delete(rec.id):
            raise NotFoundError(f"no user {username!r}", code="user_not_found")
