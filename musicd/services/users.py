"""Accounts as their callers change them, for both APIs: one's own profile, settings and password, and
the admins' management of every account. The rules are musicd.services.rules'; AccountService below is
the unchecked primitive (the CLI, which runs as the server's owner, uses it directly).

Public methods (`caller` is the asking domain User):
- profile(caller, user_id) -> (User, private): `private` when the caller may see the account's details
- by_name(caller, username) -> User (self or admin); list(caller) -> [User] (admin)
- create(caller, username, password, role, email, display_name, settings) -> User (admin)
- update(caller, user_id, role, disabled, display_name, email, settings) -> User (admin; not one's own
  role or disabled flag)
- delete(caller, user_id) (admin; not oneself)
- update_profile(caller, display_name, email), update_settings(caller, changes) -> User (self settings only)
- set_password(caller, username, password) (self or admin; no current password: Subsonic changePassword)
- reset_password(caller, user_id, password) (admin: a member who forgot theirs; their sessions end)
"""

from __future__ import annotations

from collections.abc import Mapping

from musicd.domain.models import User
from musicd.errors import ForbiddenError, NotFoundError
from musicd.services.accounts import AccountService
from musicd.services.rules import (
    check_own_settings,
    is_admin,
    require_admin,
    require_member,
)

__all__ = ["UserService"]


def _not_self(caller: User, user_id: str, what: str) -> None:
    if caller.id == user_id:
        raise ForbiddenError(f"you cannot {what} your own account", code="cannot_change_self")


class UserService:
    def __init__(self, accounts: AccountService) -> None:
        self.accounts = accounts

    async def profile(self, caller: User, user_id: str) -> tuple[User, bool]:
        """A user's profile, and whether the caller may see its private details (themselves, admins)."""
        other = await self.accounts.get(user_id)
        return other, is_admin(caller) or other.id == caller.id

    async def by_name(self, caller: User, username: str) -> User:
        """An account by username or e-mail: one's own, or anyone's for an admin."""
        if username.casefold() != caller.username.casefold():
            require_admin(caller)
        found = await self.accounts.find(username)
        if found is None:
            raise NotFoundError(f"no user {username!r}", code="user_not_found")
        return found

    async def list(self, caller: User) -> list[User]:
        require_admin(caller)
        return await self.accounts.list()

    async def create(self, caller: User, username: str, password: str, *, role: str = "user",
                     email: str | None = None, display_name: str | None = None,
                     settings: Mapping[str, object] | None = None) -> User:
        """A new account (admins only), with its settings when given."""
        require_admin(caller)
        created = await self.accounts.create(username, password, role=role, email=email, display_name=display_name)
        if settings:
            created = await self.accounts.update(created.id, settings=dict(settings))
        return created

    async def update(self, caller: User, user_id: str, *, role: str | None = None, disabled: bool | None = None,
                     display_name: str | None = None, email: str | None = None,
                     settings: Mapping[str, object] | None = None) -> User:
        """Change any account (admins only); an admin keeps their own role and cannot disable themselves."""
        require_admin(caller)
        if role is not None and role != caller.role:
            _not_self(caller, user_id, "change the role of")
        if disabled:
            _not_self(caller, user_id, "disable")
        return await self.accounts.update(user_id, role=role, disabled=disabled, display_name=display_name,
                                          email=email, settings=dict(settings) if settings is not None else None)

    async def delete(self, caller: User, user_id: str) -> None:
        require_admin(caller)
        _not_self(caller, user_id, "delete")
        await self.accounts.delete_id(user_id)

    async def update_profile(self, caller: User, display_name: str | None = None, email: str | None = None) -> User:
        require_member(caller)
        return await self.accounts.update(caller.id, display_name=display_name, email=email)

    async def update_settings(self, caller: User, changes: Mapping[str, object]) -> User:
        """Change one's own settings: the self settings; admin-only ones stay as an admin set them."""
        current = await self.accounts.get(caller.id)  # as stored now: the caller's copy may predate a change
        check_own_settings(caller, current.settings, changes)
        return await self.accounts.update(caller.id, settings=dict(changes))

    async def set_password(self, caller: User, username: str, password: str) -> None:
        """Set a password without the current one: one's own (not guests), or anyone's for an admin."""
        target = await self.by_name(caller, username)
        if target.id == caller.id:
            require_member(caller)
        await self.accounts.change_password(target.username, password)

    async def reset_password(self, caller: User, user_id: str, password: str) -> None:
        """An admin gives a member a new password (one who forgot theirs); every session of theirs ends."""
        require_admin(caller)
        target = await self.accounts.get(user_id)
        await self.accounts.change_password(target.username, password)
