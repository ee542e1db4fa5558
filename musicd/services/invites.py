"""Invite links: how a household's admin adds a member without choosing their password for them.

An admin makes a link for one role (admin, user or guest) that expires (7 days unless told, at most 90);
whoever opens it first before then picks a username and a password, and is logged in. A link works once.
Only the SHA-256 of a link's token is stored, so the link is shown once, when it is made.

Public methods (`caller` is the asking domain User):
- create(caller, role, expires_in, note) -> Invite with its token (admin)
- list(caller) -> [Invite] the open ones and those of the last 30 days (admin); revoke(caller, invite_id) (admin)
- check(token) -> Invite (anyone with the link): 404 `invite_not_found`; 410 `invite_used`, `invite_expired`,
  `invite_revoked`
- accept(token, username, password, email, client, user_agent) -> (User, TokenPair): the new account, logged in
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import msgspec

from musicd.domain.models import User
from musicd.domain.stamps import token_digest, utc_iso
from musicd.errors import MusicdError, NotFoundError, ValidationError
from musicd.services.accounts import ROLES, AccountService
from musicd.services.auth import AuthService, TokenPair
from musicd.services.rules import require_admin
from musicd.store.invites import InviteRecord, InviteRepository

__all__ = ["DEFAULT_INVITE_SECONDS", "MAX_INVITE_SECONDS", "Invite", "InviteGone", "InviteService"]

DEFAULT_INVITE_SECONDS = 7 * 24 * 3600
MAX_INVITE_SECONDS = 90 * 24 * 3600
_LISTED_DAYS = 30
_MAX_NOTE = 200


class InviteGone(MusicdError):
    """An invite that was used, revoked or has expired."""

    code = "invite_gone"
    status = 410


class Invite(msgspec.Struct, frozen=True):
    """An invite as the admin sees it; `token` only when it was just made."""

    id: str
    role: str
    note: str | None
    created_at: str
    expires_at: str
    state: str  # open | used | expired | revoked
    used_by: str | None  # the username of the account it made
    token: str | None = None




def _state(rec: InviteRecord, now: str) -> str:
    if rec.used_at is not None:
        return "used"
    if rec.revoked_at is not None:
        return "revoked"
    return "expired" if rec.expires_at <= now else "open"


def _invite(rec: InviteRecord, now: str, token: str | None = None) -> Invite:
    return Invite(rec.id, rec.role, rec.note, rec.created_at, rec.expires_at, _state(rec, now), rec.used_by_name,
                  token)


class InviteService:
    def __init__(self, repo: InviteRepository, accounts: AccountService, auth: AuthService) -> None:
        self.repo = repo
        self.accounts = accounts
        self.auth = auth

    async def create(self, caller: User, role: str = "user", expires_in: int | None = None,
                     note: str | None = None) -> Invite:
        """A new invite link for one role, live for `expires_in` seconds (7 days unless told)."""
        require_admin(caller)
        if role not in ROLES:
            raise ValidationError(f"role must be one of {', '.join(ROLES)}", code="invalid_role")
        seconds = DEFAULT_INVITE_SECONDS if expires_in is None else expires_in
        if not 60 <= seconds <= MAX_INVITE_SECONDS:
            raise ValidationError(f"expires_in must be 60 to {MAX_INVITE_SECONDS} seconds", code="invalid_expiry")
        note = (note or "").strip() or None
        if note is not None and len(note) > _MAX_NOTE:
            raise ValidationError(f"note: at most {_MAX_NOTE} characters", code="invalid_note")
        token = secrets.token_urlsafe(24)
        expires = utc_iso(datetime.now(UTC) + timedelta(seconds=seconds))
        rec = await self.repo.insert(secrets.token_urlsafe(9), token_digest(token), role, note, caller.id, expires)
        return _invite(rec, utc_iso(datetime.now(UTC)), token)

    async def list(self, caller: User) -> list[Invite]:
        """The open invites and those made in the last 30 days, newest first."""
        require_admin(caller)
        now = datetime.now(UTC)
        return [_invite(r, utc_iso(now)) for r in await self.repo.recent(utc_iso(now - timedelta(days=_LISTED_DAYS)))]

    async def revoke(self, caller: User, invite_id: str) -> None:
        require_admin(caller)
        if not await self.repo.revoke(invite_id):
            raise NotFoundError("no open invite with that id", code="invite_not_found")

    async def _live(self, token: str) -> InviteRecord:
        rec = await self.repo.by_hash(token_digest(token)) if 16 <= len(token) <= 128 else None
        if rec is None:
            raise NotFoundError("no such invite link", code="invite_not_found")
        state = _state(rec, utc_iso(datetime.now(UTC)))
        if state != "open":
            raise InviteGone({"used": "this invite link was already used", "revoked": "this invite link was revoked",
                              "expired": "this invite link has expired"}[state], code=f"invite_{state}")
        return rec

    async def check(self, token: str) -> Invite:
        """The invite behind a link, if it can still be used (what the sign-up page shows)."""
        return _invite(await self._live(token), utc_iso(datetime.now(UTC)))

    async def accept(self, token: str, username: str, password: str, email: str | None, client: str,
                     user_agent: str | None = None) -> tuple[User, TokenPair]:
        """Make the invited member's account with the invite's role and log them in; the link is then used."""
        self.auth.limits.take("login", f"{client}|invite")  # tokens cannot be guessed quickly either
        rec = await self._live(token)
        if not await self.repo.claim(rec.id, utc_iso(datetime.now(UTC))):
            raise InviteGone("this invite link was already used", code="invite_used")
        try:
            user = await self.accounts.create(username, password, role=rec.role, email=email or None)
        except MusicdError:
            await self.repo.release(rec.id)  # a taken name or a short password: the link stays usable
            raise
        await self.repo.used_by(rec.id, user.id)
        self.auth.limits.refund("login", f"{client}|invite")
        return user, await self.auth.open_session(user, user_agent)
