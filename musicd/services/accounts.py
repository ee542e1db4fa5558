"""Accounts: create, authenticate, change passwords. Passwords are hashed with Argon2id."""

from __future__ import annotations

import asyncio
import functools
import re
from datetime import UTC, datetime, timedelta

import msgspec
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from musicd.domain.events import SessionsRevoked, UserChanged, UserCreated, UserDeleted, UserSettingsChanged
from musicd.domain.ids import random_id
from musicd.domain.models import User, UserSettings
from musicd.domain.stamps import utc_iso
from musicd.errors import AuthError, ConflictError, NotFoundError, ValidationError
from musicd.services.bus import EventBus
from musicd.services.secretbox import SecretBox
from musicd.store.db import utc_now
from musicd.store.tokens import TokenRepository
from musicd.store.users import UserRecord, UserRepository

__all__ = ["QUALITIES", "ROLES", "AccountService"]

ROLES = ("admin", "user", "guest")
QUALITIES = ("low", "normal", "high", "lossless")
_USERNAME = re.compile(r"^[\w.@+-]{1,64}$")
MIN_PASSWORD = 8
MAX_PASSWORD = 1024
PRIVATE_SESSION = timedelta(hours=1)

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """A hash to verify against when the user does not exist, so that a wrong username costs the same time
    as a wrong password and does not reveal which accounts exist. Made on first use, not at import: every
    `musicd` command and the server's start-up paid for one Argon2 hash (64 MiB, tens of ms of CPU)."""
    return _hasher.hash("musicd-timing-equaliser")


def _public(rec: UserRecord) -> User:
    return User(**{f: getattr(rec, f) for f in User.__struct_fields__})


def _settings_input(settings: dict[str, object]) -> dict[str, object]:
    """`private_session: true` starts a private session of one hour, `false` ends it."""
    out = dict(settings)
    if "private_session" in out:
        on = out.pop("private_session")
        if not isinstance(on, bool):
            raise ValidationError("private_session must be true or false", code="invalid_settings")
        until = datetime.now(UTC) + PRIVATE_SESSION
        out["private_session_until"] = utc_iso(until) if on else None
    return out


class AccountService:
    """Accounts; every change is published on the bus (caches, sessions and the realtime channel follow)."""

    def __init__(self, users: UserRepository, server_key: bytes, bus: EventBus, tokens: TokenRepository) -> None:
        self.users = users
        self.bus = bus
        self.tokens = tokens
        self._box = SecretBox(server_key, b"subsonic-password")
        self._setup_lock = asyncio.Lock()

    async def end_sessions(self, user_id: str, reason: str) -> None:
        """End every session of a user (refresh tokens revoked, access tokens invalid) and say so on the bus;
        returns once the caches that hold the user's sessions have dropped them."""
        await self.tokens.revoke_user(user_id)
        await self.bus.publish_and_wait(SessionsRevoked(user_id=user_id, reason=reason))

    async def get(self, user_id: str) -> User:
        rec = await self.users.get(user_id)
        if rec is None:
            raise NotFoundError("no such user", code="user_not_found")
        return _public(rec)

    async def find(self, login: str) -> User | None:
        rec = await self.users.by_login(login)
        return _public(rec) if rec else None

    async def update(
        self, user_id: str, *, display_name: str | None = None, email: str | None = None, role: str | None = None,
        disabled: bool | None = None, settings: dict[str, object] | None = None,
    ) -> User:
        """Change a user's profile, role, disabled flag or settings; disabling ends their sessions."""
        cur = await self.get(user_id)
        fields: dict[str, object] = {}
        if display_name is not None:
            if not 0 < len(display_name.strip()) <= 100:
                raise ValidationError("display_name: 1-100 characters", code="invalid_display_name")
            fields["display_name"] = display_name.strip()
        if email is not None:
            if email and not re.match(r"^[^@\s]+@[^@\s]+$", email):
                raise ValidationError("email is not an e-mail address", code="invalid_email")
            fields["email"] = email or None
        if role is not None:
            if role not in ROLES:
                raise ValidationError(f"role must be one of {', '.join(ROLES)}", code="invalid_role")
            fields["role"] = role
        if disabled is not None:
            fields["disabled"] = int(disabled)
        if settings is not None:
            merged = {**msgspec.structs.asdict(cur.settings), **_settings_input(settings)}
            if set(merged) - set(UserSettings.__struct_fields__):
                raise ValidationError(f"unknown settings {sorted(set(merged) - set(UserSettings.__struct_fields__))}",
                                      code="invalid_settings")
            if merged["default_quality"] not in QUALITIES:
                raise ValidationError(f"default_quality must be one of {', '.join(QUALITIES)}",
                                      code="invalid_settings")
            for flag in ("download_allowed", "share_activity", "podcasts_allowed"):
                if not isinstance(merged[flag], bool):
                    raise ValidationError(f"{flag} must be true or false", code="invalid_settings")
            fields["settings"] = UserSettings(**merged)  # type: ignore[arg-type]
        if fields:
            try:
                await self.users.update(user_id, **fields)
            except KeyError:
                raise ConflictError("that e-mail is already used", code="email_taken") from None
        if disabled or (role is not None and role != cur.role):
            await self.end_sessions(user_id, "disabled" if disabled else "role_changed")
        changed = tuple(f for f in fields if f != "settings")
        if changed:
            await self.bus.publish_and_wait(UserChanged(user_id=user_id, fields=changed))
        new = await self.get(user_id)
        if "settings" in fields:
            await self.bus.publish_and_wait(UserSettingsChanged(user_id=user_id, settings=new.settings))
        return new

    async def create_first_admin(self, username: str, password: str, email: str | None = None) -> User:
        """Create the first admin; refused once any user exists (first-run setup from the web player)."""
        async with self._setup_lock:
            if await self.users.count() > 0:
                raise ConflictError("this server already has users; log in instead", code="already_set_up")
            return await self.create(username, password, role="admin", email=email)

    async def count(self) -> int:
        return await self.users.count()

    async def list(self) -> list[User]:
        return [_public(r) for r in await self.users.list()]

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
            password_hash=await asyncio.to_thread(_hasher.hash, password),
            subsonic_secret=self._box.seal(password.encode()),
        )
        try:
            await self.users.insert(rec)
        except KeyError:
            raise ConflictError(f"user {username!r} already exists", code="user_exists") from None
        self.bus.publish(UserCreated(user_id=rec.id, role=role))
        return _public(rec)

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
            # Argon2 costs tens of milliseconds of CPU: off the event loop, so other requests keep flowing.
            await asyncio.to_thread(_hasher.verify, rec.password_hash if rec else _dummy_hash(), password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            raise AuthError("wrong username or password", code="invalid_credentials") from None
        if rec is None:
            raise AuthError("wrong username or password", code="invalid_credentials")
        if rec.disabled:
            raise AuthError("this account is disabled", code="account_disabled")
        return _public(rec)

    async def subsonic_password(self, login: str) -> tuple[User, str] | None:
        """The clear password of a user, decrypted for Subsonic token auth (t = md5(password + salt))."""
        rec = await self.users.by_login(login)
        if rec is None or rec.subsonic_secret is None:
            return None
        clear = self._box.open(rec.subsonic_secret)
        if clear is None:
            return None
        return _public(rec), clear.decode()

    async def change_password(self, username: str, password: str) -> None:
        self._check_password(password)
        rec = await self.users.by_login(username)
        if rec is None:
            raise NotFoundError(f"no user {username!r}", code="user_not_found")
        hashed = await asyncio.to_thread(_hasher.hash, password)
        await self.users.set_password(rec.id, hashed, self._box.seal(password.encode()))
        await self.end_sessions(rec.id, "password_changed")

    async def delete_id(self, user_id: str) -> None:
        if not await self.users.delete(user_id):
            raise NotFoundError("no such user", code="user_not_found")
        await self._deleted(user_id)

    async def delete(self, username: str) -> None:
        rec = await self.users.by_login(username)
        if rec is None or not await self.users.delete(rec.id):
            raise NotFoundError(f"no user {username!r}", code="user_not_found")
        await self._deleted(rec.id)

    async def _deleted(self, user_id: str) -> None:
        # The row is gone (its tokens with it): what is left is telling the caches and open channels.
        await self.bus.publish_and_wait(SessionsRevoked(user_id=user_id, reason="deleted"))
        await self.bus.publish_and_wait(UserDeleted(user_id=user_id))
