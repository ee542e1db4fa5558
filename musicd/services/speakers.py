"""How a `musicd speaker` signs in (issue 14): a pairing code the user approves, or an API key.

Pairing: the speaker asks for a code (`start`), shows it, and polls `claim` with its secret; the user
approves the code in the web player, with `musicd speaker approve CODE --user NAME`, or with
`POST /v1/me/speakers/approve`. The approved speaker gets a login of its own (a refresh token family the
user can end like any other). Codes are 8 characters from a 32-letter alphabet (10^12 codes), expire after
10 minutes, are stored hashed, and guessing is rate limited per user and per address.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

import msgspec

from musicd.domain.ids import random_id
from musicd.domain.models import User
from musicd.errors import AuthError, NotFoundError, ValidationError
from musicd.services.api_keys import ApiKeyService
from musicd.services.auth import AuthService, TokenPair
from musicd.services.ratelimit import Bucket, RateLimiter
from musicd.store.pairings import PairingRepository

__all__ = ["CODE_ALPHABET", "PAIRING_TTL_S", "Pairing", "SpeakerAuthService", "short_code"]

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud from a small screen
PAIRING_TTL_S = 600
POLL_S = 1.0


class Pairing(msgspec.Struct, frozen=True):
    pairing_id: str
    code: str
    secret: str
    expires_in: int
    interval: float


def short_code(length: int) -> str:
    """A random code to read out and type (pairing codes, Jam codes)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def _hash(value: str) -> bytes:
    return hashlib.sha256(value.encode()).digest()


def normalise_code(code: str) -> str:
    return "".join(c for c in code.upper() if c.isalnum())


class SpeakerAuthService:
    def __init__(self, repo: PairingRepository, auth: AuthService, api_keys: ApiKeyService) -> None:
        self.repo = repo
        self.auth = auth
        self.api_keys = api_keys
        self.limits = RateLimiter({
            "start": Bucket(burst=10, per_second=10 / 60),  # new codes per address
            "approve": Bucket(burst=5, per_second=5 / 60),  # code guesses per user and per address
        })

    async def start(self, name: str, client: str) -> Pairing:
        """A new pairing code for a speaker called `name`."""
        name = name.strip()[:64]
        if not name:
            raise ValidationError("a speaker needs a name", code="invalid_name")
        self.limits.take("start", client)
        code = short_code(8)
        secret = secrets.token_urlsafe(32)
        pid = random_id()
        await self.repo.insert(pid, _hash(code), _hash(secret), name, time.time() + PAIRING_TTL_S)
        return Pairing(pid, code, secret, PAIRING_TTL_S, POLL_S)

    async def approve(self, user: User, code: str, client: str = "cli") -> str:
        """Approve a speaker's code for `user`; the speaker's name. Wrong guesses are rate limited."""
        self.limits.take("approve", f"user|{user.id}")
        self.limits.take("approve", f"addr|{client}")
        rec = await self.repo.approve(_hash(normalise_code(code)), user.id)
        if rec is None:
            raise NotFoundError("no such pairing code (or it expired)", code="pairing_not_found")
        self.limits.refund("approve", f"user|{user.id}")
        self.limits.refund("approve", f"addr|{client}")
        return rec.name

    async def claim(self, pairing_id: str, secret: str) -> TokenPair:
        """The speaker's login once its code was approved (once only)."""
        rec = await self.repo.get(pairing_id)
        if rec is None or not hmac.compare_digest(rec.secret_hash, _hash(secret)):
            raise AuthError("unknown pairing", code="invalid_pairing")
        if rec.user_id is None:
            if rec.expires_at < time.time():
                raise AuthError("the pairing code expired", code="expired_pairing")
            raise ValidationError("the code has not been approved yet", code="authorization_pending")
        if rec.claimed or not await self.repo.claim(pairing_id):
            raise AuthError("this pairing was used already", code="invalid_pairing")
        user = await self.auth.accounts.get(rec.user_id)
        return await self.auth.open_session(user, f"musicd speaker ({rec.name})")

    async def with_api_key(self, api_key: str, client: str) -> TokenPair:
        """A login for the owner of an API key (a speaker set up with `--api-key`)."""
        self.auth.limits.take("login", f"{client}|api-key")
        user = await self.api_keys.user_for_key(api_key)
        if user is None:
            raise AuthError("invalid API key", code="invalid_api_key")
        self.auth.limits.refund("login", f"{client}|api-key")
        return await self.auth.open_session(user, "musicd speaker (API key)")
