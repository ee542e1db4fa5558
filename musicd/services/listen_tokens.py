"""Per-user ListenBrainz tokens: what a scrobbler sends as `Authorization: Token <token>`.

A token looks like ListenBrainz's own (a UUID), so scrobblers that check its shape take it. It is found by
its SHA-256 hash and kept sealed with the server key, so the web player's settings can show it again (as
ListenBrainz's settings page does); regenerating it makes the old one stop working at once.
"""

from __future__ import annotations

import hashlib
import time
import uuid

import msgspec

from musicd.domain.models import User
from musicd.errors import NotFoundError
from musicd.services.accounts import AccountService
from musicd.services.rules import require_member
from musicd.services.secretbox import SecretBox
from musicd.store.listens import ListenRepository

__all__ = ["ListenTokenService", "TokenInfo"]

_CACHE_S = 5.0
_TOUCH_EVERY_S = 60.0


class TokenInfo(msgspec.Struct, frozen=True):
    token: str
    created_at: str
    last_used_at: str | None


def _hash(token: str) -> bytes:
    return hashlib.sha256(token.strip().lower().encode()).digest()


class ListenTokenService:
    def __init__(self, repo: ListenRepository, accounts: AccountService, server_key: bytes) -> None:
        self.repo = repo
        self.accounts = accounts
        self._box = SecretBox(server_key, b"listenbrainz-token")
        self._cache: dict[bytes, tuple[User, float]] = {}
        self._touched: dict[str, float] = {}

    def forget_user(self, user_id: str | None) -> None:
        """Drop cached token owners (None: all); the bus consumer of account changes calls this."""
        for h in [h for h, (u, _) in self._cache.items() if user_id is None or u.id == user_id]:
            del self._cache[h]

    async def get(self, user: User) -> TokenInfo | None:
        """The user's token, or None when they have not made one."""
        rec = await self.repo.token(user.id)
        if rec is None:
            return None
        clear = self._box.open(rec.sealed)
        if clear is None:  # sealed with another server key (keys restored without the database)
            return None
        return TokenInfo(clear.decode(), rec.created_at, rec.last_used_at)

    async def regenerate(self, user: User) -> TokenInfo:
        """A new token for the user (the old one, if any, stops working). Guests record no plays: none."""
        require_member(user)
        token = str(uuid.uuid4())
        created = await self.repo.set_token(user.id, _hash(token), self._box.seal(token.encode()))
        self.forget_user(user.id)
        return TokenInfo(token, created, None)

    async def user_for_token(self, token: str) -> User | None:
        """The (enabled) user a token belongs to, or None."""
        if not token or len(token) > 200:
            return None
        h = _hash(token)
        now = time.monotonic()
        hit = self._cache.get(h)
        if hit is not None and now - hit[1] < _CACHE_S:
            return hit[0]
        user_id = await self.repo.token_owner(h)
        if user_id is None:
            self._cache.pop(h, None)
            return None
        try:
            user = await self.accounts.get(user_id)
        except NotFoundError:
            return None
        if user.disabled:
            return None
        self._cache[h] = (user, now)
        if now - self._touched.get(user_id, -_TOUCH_EVERY_S) >= _TOUCH_EVERY_S:
            self._touched[user_id] = now
            await self.repo.touch_token(user_id)
        return user
