"""OpenSubsonic API keys: created, listed and revoked per user; only a hash is ever stored."""

from __future__ import annotations

import hashlib
import secrets
import time

from musicd.domain.ids import random_id
from musicd.domain.models import User
from musicd.errors import NotFoundError, ValidationError
from musicd.services.accounts import AccountService
from musicd.services.rules import require_member
from musicd.store.api_keys import ApiKeyRecord, ApiKeyRepository
from musicd.store.db import utc_now

__all__ = ["KEY_PREFIX", "ApiKeyRecord", "ApiKeyService"]

KEY_PREFIX = "msd_"
# A verified key stays cached this long; revoking a key or any change to its user drops it at once.
_CACHE_S = 5.0
_TOUCH_EVERY_S = 60.0


def _hash(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


class ApiKeyService:
    """Keys look like `msd_<43 url-safe chars>` (256 random bits); a lookup is one hash and one query."""

    def __init__(self, repo: ApiKeyRepository, accounts: AccountService) -> None:
        self.repo = repo
        self.accounts = accounts
        self._cache: dict[bytes, tuple[User, str, float]] = {}
        self._touched: dict[str, float] = {}

    def forget_user(self, user_id: str | None) -> None:
        """Drop cached keys of a user (None: of everyone); the bus consumer of account changes calls this."""
        for h in [h for h, (u, _, _) in self._cache.items() if user_id is None or u.id == user_id]:
            del self._cache[h]

    async def create(self, user: User, name: str = "") -> tuple[ApiKeyRecord, str]:
        """A new key for `user`; the clear key is returned this once and never again."""
        require_member(user)
        name = name.strip() or "Subsonic app"
        if len(name) > 100:
            raise ValidationError("name: at most 100 characters", code="invalid_name")
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        rec = ApiKeyRecord(id=random_id(), user_id=user.id, name=name, prefix=key[:10], created_at=utc_now(),
                           last_used_at=None)
        await self.repo.insert(rec, _hash(key))
        return rec, key

    async def list(self, user: User) -> list[ApiKeyRecord]:
        return await self.repo.for_user(user.id)

    async def revoke(self, user: User, key_id: str) -> None:
        if not await self.repo.delete(user.id, key_id):
            raise NotFoundError("no such API key", code="api_key_not_found")
        for h in [h for h, (_, kid, _) in self._cache.items() if kid == key_id]:
            del self._cache[h]

    async def user_for_key(self, key: str) -> User | None:
        """The user a key belongs to, or None when it is unknown or revoked (disabled users included)."""
        if not key.startswith(KEY_PREFIX) or len(key) > 200:
            return None
        h = _hash(key)
        now = time.monotonic()
        hit = self._cache.get(h)
        if hit is not None and now - hit[2] < _CACHE_S:
            return hit[0]
        rec = await self.repo.by_hash(h)
        if rec is None:
            self._cache.pop(h, None)
            return None
        try:
            user = await self.accounts.get(rec.user_id)
        except NotFoundError:
            return None
        self._cache[h] = (user, rec.id, now)
        if now - self._touched.get(rec.id, -_TOUCH_EVERY_S) >= _TOUCH_EVERY_S:
            self._touched[rec.id] = now
            await self.repo.touch(rec.id)
        return user
