"""Subsonic credentials: u+p (clear or `enc:` hex), u+t+s (salted MD5 token) and OpenSubsonic API keys.

The password is compared with the one kept encrypted under the server key (never with Argon2 here:
every Subsonic request carries credentials, and a hash that costs tens of milliseconds per request
would be the slowest part of the server). Failed attempts are rate limited per client address and
username; successful ones cost nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from musicd.domain.models import User
from musicd.errors import AuthError, ForbiddenError, RateLimitError
from musicd.services.accounts import AccountService
from musicd.services.api_keys import ApiKeyService
from musicd.services.ratelimit import Bucket, RateLimiter

__all__ = ["SubsonicAuthService"]

# A decrypted password stays cached this long; any change to the user (password, role, disable) drops it.
_CACHE_S = 5.0


class SubsonicAuthService:
    def __init__(self, accounts: AccountService, api_keys: ApiKeyService, failures_per_minute: int = 10) -> None:
        self.accounts = accounts
        self.api_keys = api_keys
        self._limits = RateLimiter({"subsonic_auth": Bucket(burst=failures_per_minute,
                                                             per_second=failures_per_minute / 60)})
        self._locked: dict[str, float] = {}
        self._secrets: dict[str, tuple[User, str, float]] = {}

    def forget_user(self, user_id: str | None) -> None:
        """Drop a user's cached password (None: everyone's); the bus consumer of account changes calls this."""
        for name in [n for n, (u, _, _) in self._secrets.items() if user_id is None or u.id == user_id]:
            del self._secrets[name]

    def _check_locked(self, subject: str) -> None:
        until = self._locked.get(subject)
        if until is None:
            return
        wait = until - time.monotonic()
        if wait > 0:
            raise RateLimitError(f"too many failed logins; retry in {wait:.0f} s", retry_after=wait)
        del self._locked[subject]

    def _failed(self, subject: str) -> AuthError:
        wait = self._limits.try_take("subsonic_auth", subject)
        if wait > 0:
            if len(self._locked) > 10_000:
                self._locked.clear()  # bounded memory under a flood of distinct subjects
            self._locked[subject] = time.monotonic() + wait
        return AuthError("wrong username or password", code="invalid_credentials")

    async def _secret(self, username: str) -> tuple[User, str] | None:
        key = username.lower()
        now = time.monotonic()
        hit = self._secrets.get(key)
        if hit is not None and now - hit[2] < _CACHE_S:
            return hit[0], hit[1]
        found = await self.accounts.subsonic_password(username)
        if found is None:
            self._secrets.pop(key, None)
            return None
        self._secrets[key] = (found[0], found[1], now)
        return found

    @staticmethod
    def _usable(user: User) -> User:
        if user.disabled:
            raise ForbiddenError("this account is disabled", code="account_disabled")
        return user

    async def by_password(self, username: str, password: str, client: str) -> User:
        """`p=` auth; `password` may be `enc:`-prefixed hex."""
        subject = f"{client}|{username.lower()}"
        self._check_locked(subject)
        if password.startswith("enc:"):
            try:
                password = bytes.fromhex(password[4:]).decode()
            except (ValueError, UnicodeDecodeError):
                raise self._failed(subject) from None
        found = await self._secret(username)
        if found is None or not hmac.compare_digest(found[1].encode(), password.encode()):
            raise self._failed(subject)
        return self._usable(found[0])

    async def by_token(self, username: str, token: str, salt: str, client: str) -> User:
        """`t=md5(password + s)` auth."""
        subject = f"{client}|{username.lower()}"
        self._check_locked(subject)
        found = await self._secret(username)
        if found is None:
            raise self._failed(subject)
        want = hashlib.md5((found[1] + salt).encode(), usedforsecurity=False).hexdigest()
        if not hmac.compare_digest(want, token.lower()):
            raise self._failed(subject)
        return self._usable(found[0])

    async def by_api_key(self, key: str, client: str) -> User:
        """OpenSubsonic `apiKey=` auth; an unknown key raises AuthError(code="invalid_api_key")."""
        subject = f"{client}|apikey"
        self._check_locked(subject)
        user = await self.api_keys.user_for_key(key)
        if user is None:
            self._failed(subject)
            raise AuthError("invalid API key", code="invalid_api_key")
        return self._usable(user)
