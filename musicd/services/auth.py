"""Sessions for /v1: short-lived JWT access tokens and rotating, revocable refresh tokens."""

from __future__ import annotations

import hashlib
import secrets
import time
from datetime import UTC, datetime, timedelta

import jwt
import msgspec

from musicd.config import AuthConfig
from musicd.domain.events import SessionsRevoked
from musicd.domain.ids import random_id
from musicd.domain.models import User
from musicd.domain.stamps import utc_iso, utc_now
from musicd.errors import AuthError
from musicd.services.accounts import AccountService
from musicd.services.bus import EventBus
from musicd.services.ratelimit import Bucket, RateLimiter
from musicd.services.rules import require_member
from musicd.store.tokens import RefreshRecord, TokenRepository

__all__ = ["AccessSession", "AuthService", "TokenPair"]

_ALGORITHM = "HS256"
_ISSUER = "musicd"
# How long a verified user stays cached for access-token checks. Revocations in this process
# (disable, password change, logout everywhere) drop the entry at once; the TTL only bounds
# staleness for changes made by another process (the CLI).
_USER_CACHE_S = 5.0


class TokenPair(msgspec.Struct, frozen=True):
    access_token: str
    refresh_token: str
    expires_in: int  # seconds the access token lives
    token_type: str = "Bearer"


class AccessSession(msgspec.Struct, frozen=True):
    """A verified access token: whose, which generation and login (refresh family) it belongs to, when it ends."""

    user: User
    generation: int
    family_id: str | None
    expires_at: float  # POSIX seconds


def _hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


class AuthService:
    """Logs users in, verifies access tokens, rotates refresh tokens, and applies rate limits."""

    def __init__(self, accounts: AccountService, tokens: TokenRepository, token_key: bytes, cfg: AuthConfig,
                 bus: EventBus) -> None:
        self.accounts = accounts
        self.tokens = tokens
        self.bus = bus
        self._key = token_key
        self._access_ttl = cfg.access_token_minutes * 60
        self._refresh_ttl = timedelta(days=cfg.refresh_token_days)
        self.limits = RateLimiter({
            "login": Bucket(burst=cfg.login_per_minute, per_second=cfg.login_per_minute / 60),
            "read": Bucket(burst=2 * cfg.reads_per_second, per_second=cfg.reads_per_second),
            "write": Bucket(burst=2 * cfg.writes_per_second, per_second=cfg.writes_per_second),
        })
        self._users: dict[str, tuple[User, int, float]] = {}
        # Verified access tokens: a player fetches many ranges and images in a burst, and checking the
        # JWT signature was about a third of a media request's CPU (measured).
        self._bearer: dict[str, tuple[AccessSession, float]] = {}
        # Logins ended with logout: their access tokens are refused until they would have expired anyway.
        self._ended_families: dict[str, float] = {}

    def forget_user(self, user_id: str | None) -> None:
        """Drop what is cached of a user (None: of everyone); the bus consumer of account changes calls this."""
        if user_id is None:
            self._users.clear()
            self._bearer.clear()
            return
        self._users.pop(user_id, None)
        for token in [t for t, (s, _) in self._bearer.items() if s.user.id == user_id]:
            self._bearer.pop(token, None)

    async def _end_login(self, user_id: str, family_id: str, reason: str) -> None:
        await self.tokens.revoke_family(family_id)
        now = time.time()
        if len(self._ended_families) > 10_000:
            self._ended_families = {f: t for f, t in self._ended_families.items() if t > now}
        self._ended_families[family_id] = now + self._access_ttl
        await self.bus.publish_and_wait(SessionsRevoked(user_id=user_id, family_id=family_id, reason=reason))

    async def login(self, login: str, password: str, client: str, user_agent: str | None = None) -> TokenPair:
        """Check the password (rate limited per client address and login) and open a session."""
        subject = f"{client}|{login.strip().lower()}"
        self.limits.take("login", subject)
        user = await self.accounts.authenticate(login, password)
        self.limits.refund("login", subject)
        return await self._issue(user, random_id(), user_agent)

    async def open_session(self, user: User, user_agent: str | None = None) -> TokenPair:
        """A new login for `user` without a password (a device the user paired, an API key exchanged)."""
        if user.disabled:
            raise AuthError("this account is disabled", code="account_disabled")
        return await self._issue(user, random_id(), user_agent)

    async def _issue(self, user: User, family_id: str, user_agent: str | None, replaces: str | None = None
                     ) -> TokenPair:
        generation = await self.tokens.generation(user.id)
        if generation is None:
            raise AuthError("no such user", code="invalid_token")
        now = int(time.time())
        access = jwt.encode(
            {"sub": user.id, "gen": generation, "role": user.role, "iat": now, "exp": now + self._access_ttl,
             "iss": _ISSUER, "typ": "access", "fam": family_id},
            self._key, algorithm=_ALGORITHM,
        )
        refresh = secrets.token_urlsafe(32)
        rec = RefreshRecord(id=random_id(), user_id=user.id, family_id=family_id,
                            expires_at=utc_iso(datetime.now(UTC) + self._refresh_ttl), used_at=None, revoked_at=None)
        if replaces is None:
            await self.tokens.insert(rec, _hash(refresh), user_agent)
        elif not await self.tokens.rotate(replaces, rec, _hash(refresh), user_agent):
            await self._end_login(user.id, family_id, "refresh_reused")
            raise AuthError("refresh token already used; please log in again", code="invalid_refresh_token")
        return TokenPair(access_token=access, refresh_token=refresh, expires_in=self._access_ttl)

    async def change_password(self, user: User, current: str, new: str, client: str,
                              user_agent: str | None = None) -> TokenPair:
        """Check the current password, set the new one, end every session and open a fresh one."""
        require_member(user)  # a guest account is often shared: a guest must not lock the others out
        subject = f"{client}|{user.username.lower()}"
        self.limits.take("login", subject)
        await self.accounts.authenticate(user.username, current)
        self.limits.refund("login", subject)
        await self.accounts.change_password(user.username, new)
        return await self._issue(await self.accounts.get(user.id), random_id(), user_agent)

    async def refresh(self, refresh_token: str, client: str, user_agent: str | None = None) -> TokenPair:
        """Swap a refresh token for a new pair; a token used twice ends its whole login (theft)."""
        self.limits.take("login", f"{client}|refresh")
        rec = await self.tokens.by_hash(_hash(refresh_token)) if refresh_token else None
        if rec is None or rec.revoked_at is not None:
            raise AuthError("invalid refresh token", code="invalid_refresh_token")
        if rec.used_at is not None:
            await self._end_login(rec.user_id, rec.family_id, "refresh_reused")
            raise AuthError("refresh token already used; please log in again", code="invalid_refresh_token")
        if rec.expires_at < utc_now():
            raise AuthError("refresh token expired", code="expired_refresh_token")
        user = await self.accounts.get(rec.user_id)
        if user.disabled:
            raise AuthError("this account is disabled", code="account_disabled")
        self.limits.refund("login", f"{client}|refresh")
        return await self._issue(user, rec.family_id, user_agent, replaces=rec.id)

    async def logout(self, user: User, refresh_token: str | None = None, everywhere: bool = False) -> None:
        """End this login (the refresh token's family) or, with `everywhere`, every session of the user."""
        if everywhere:
            await self.accounts.end_sessions(user.id, "logout_everywhere")
            return
        rec = await self.tokens.by_hash(_hash(refresh_token)) if refresh_token else None
        if rec is not None and rec.user_id == user.id:
            await self._end_login(user.id, rec.family_id, "logout")

    async def user_for_access_token(self, token: str) -> User:
        """The user an access token was issued to, if it is valid, unexpired and not revoked."""
        return (await self.access_session(token)).user

    async def access_session(self, token: str) -> AccessSession:
        """The session of a valid, unexpired, unrevoked access token; AuthError (token_expired, invalid_token,
        token_revoked, account_disabled) otherwise.

        A verified token is remembered for as long as a cached user is (never past its expiry); a change
        to the user in this process forgets it at once.
        """
        now = time.monotonic()
        hit = self._bearer.get(token)
        if hit is not None and hit[1] > now:
            return hit[0]
        try:
            claims = jwt.decode(token, self._key, algorithms=[_ALGORITHM], issuer=_ISSUER,
                                options={"require": ["exp", "iat", "sub"]})
        except jwt.ExpiredSignatureError:
            raise AuthError("access token expired", code="token_expired") from None
        except jwt.InvalidTokenError:
            raise AuthError("invalid access token", code="invalid_token") from None
        if claims.get("typ") != "access" or not isinstance(claims.get("sub"), str):
            raise AuthError("invalid access token", code="invalid_token")
        user, generation = await self._cached_user(claims["sub"])
        family = claims.get("fam") if isinstance(claims.get("fam"), str) else None
        if claims.get("gen") != generation or (family is not None and family in self._ended_families):
            raise AuthError("this session has ended; please log in again", code="token_revoked")
        if user.disabled:
            raise AuthError("this account is disabled", code="account_disabled")
        if len(self._bearer) >= 10_000:  # bounded memory under many distinct tokens
            self._bearer.clear()
        session = AccessSession(user, generation, family, float(claims["exp"]))
        self._bearer[token] = (session, now + min(_USER_CACHE_S, max(0.0, claims["exp"] - time.time())))
        return session

    async def check_sessions(self, sessions: list[AccessSession]) -> list[str | None]:
        """For each session, None while it is still valid, else why it is not (token_expired, token_revoked,
        account_disabled), read from the database rather than the caches (changes made by other processes)."""
        now = time.time()
        current = await self.tokens.generations(list({s.user.id for s in sessions}))
        out: list[str | None] = []
        for s in sessions:
            gen = current.get(s.user.id)
            ended = s.family_id is not None and s.family_id in self._ended_families
            if gen is None or gen[0] != s.generation or ended:
                out.append("token_revoked")
            elif gen[1]:
                out.append("account_disabled")
            elif s.expires_at <= now:
                out.append("token_expired")
            else:
                out.append(None)
        return out

    async def _cached_user(self, user_id: str) -> tuple[User, int]:
        now = time.monotonic()
        hit = self._users.get(user_id)
        if hit is not None and now - hit[2] < _USER_CACHE_S:
            return hit[0], hit[1]
        generation = await self.tokens.generation(user_id)
        if generation is None:
            raise AuthError("this account no longer exists", code="token_revoked")
        user = await self.accounts.get(user_id)
        self._users[user_id] = (user, generation, now)
        return user, generation

    def check_rate(self, user: User, write: bool) -> None:
        """Spend one request of the user's read or write budget, or raise RateLimitError."""
        self.limits.take("write" if write else "read", user.id)
