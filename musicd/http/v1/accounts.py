"""/v1 accounts: login, refresh, logout, first-run setup, the current user, admin user management."""

from __future__ import annotations

from typing import Any, Literal

import msgspec
from litestar import Controller, Request, delete, get, patch, post, put
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from musicd.domain.models import User
from musicd.errors import ValidationError
from musicd.http.auth import client_address
from musicd.http.urls import base_url
from musicd.http.v1.shapes import uri
from musicd.services.registry import Services

__all__ = ["AccountsController", "AdminUsersController", "user_object"]

_PUBLIC = {"exclude_from_auth": True}


class LoginBody(msgspec.Struct, forbid_unknown_fields=True):
    password: str
    username: str | None = None
    email: str | None = None


class RefreshBody(msgspec.Struct, forbid_unknown_fields=True):
    refresh_token: str


class LogoutBody(msgspec.Struct, forbid_unknown_fields=True):
    refresh_token: str | None = None
    everywhere: bool = False


class SetupBody(msgspec.Struct, forbid_unknown_fields=True):
    username: str
    password: str
    email: str | None = None


class PasswordBody(msgspec.Struct, forbid_unknown_fields=True):
    current_password: str
    new_password: str


class SettingsBody(msgspec.Struct, forbid_unknown_fields=True):
    default_quality: Literal["low", "normal", "high", "lossless"] | None = None
    download_allowed: bool | None = None
    share_activity: bool | None = None  # followers see what you play (off by default)
    private_session: bool | None = None  # true: hide your listening for an hour; false: end that now
    podcasts_allowed: bool | None = None


class ProfileBody(msgspec.Struct, forbid_unknown_fields=True):
    display_name: str | None = None
    email: str | None = None


class NewUserBody(msgspec.Struct, forbid_unknown_fields=True):
    username: str
    password: str
    role: Literal["admin", "user", "guest"] = "user"
    email: str | None = None
    display_name: str | None = None


class UserChangeBody(msgspec.Struct, forbid_unknown_fields=True):
    role: Literal["admin", "user", "guest"] | None = None
    disabled: bool | None = None
    display_name: str | None = None
    email: str | None = None
    settings: SettingsBody | None = None


def user_object(request: Request[Any, Any, Any], user: User, private: bool = False) -> dict[str, Any]:
    """A Spotify user object; `private` adds what only the user and admins see."""
    out: dict[str, Any] = {
        "id": user.id, "display_name": user.display_name, "type": "user", "uri": uri("user", user.id),
        "href": f"{base_url(request)}/v1/users/{user.id}", "images": [], "external_urls": {},
        "followers": {"href": None, "total": 0},
    }
    if private:
        out.update({
            "email": user.email, "username": user.username, "role": user.role, "disabled": user.disabled,
            "created_at": user.created_at, "product": "premium", "country": None,
            "explicit_content": {"filter_enabled": False, "filter_locked": False},
            "settings": msgspec.structs.asdict(user.settings),
        })
    return out


def _settings_dict(body: SettingsBody | None) -> dict[str, object] | None:
    if body is None:
        return None
    return {k: v for k, v in msgspec.structs.asdict(body).items() if v is not None}


class AccountsController(Controller):
    path = "/v1"
    tags = ["accounts"]

    @post("/auth/login", opt=_PUBLIC, status_code=HTTP_200_OK)
    async def login(self, request: Request[Any, Any, Any], data: LoginBody, services: Services) -> dict[str, Any]:
        """Log in with a username or e-mail and a password: an access token and a refresh token."""
        login = data.username or data.email
        if not login:
            raise ValidationError("give a username or an email", code="missing_login")
        pair = await services.auth.login(login, data.password, client_address(request),
                                         request.headers.get("user-agent"))
        return msgspec.structs.asdict(pair)

    @post("/auth/refresh", opt=_PUBLIC, status_code=HTTP_200_OK)
    async def refresh(self, request: Request[Any, Any, Any], data: RefreshBody, services: Services) -> dict[str, Any]:
        """Swap a refresh token for a new pair (the old refresh token stops working)."""
        pair = await services.auth.refresh(data.refresh_token, client_address(request),
                                           request.headers.get("user-agent"))
        return msgspec.structs.asdict(pair)

    @post("/auth/logout", status_code=HTTP_204_NO_CONTENT)
    async def logout(self, data: LogoutBody | None, user: User, services: Services) -> None:
        """End this login (give its refresh token) or every login of the user (`everywhere`)."""
        body = data or LogoutBody()
        await services.auth.logout(user, body.refresh_token, everywhere=body.everywhere)

    @get("/auth/setup", opt=_PUBLIC)
    async def setup_needed(self, services: Services) -> dict[str, bool]:
        """Whether the server still needs its first admin (the web player's first-run page)."""
        return {"needed": await services.accounts.count() == 0}

    @post("/auth/setup", opt=_PUBLIC, status_code=HTTP_201_CREATED)
    async def setup(self, request: Request[Any, Any, Any], data: SetupBody, services: Services) -> dict[str, Any]:
        """Create the first admin when there are no users yet, and log them in."""
        await services.accounts.create_first_admin(data.username, data.password, email=data.email)
        pair = await services.auth.login(data.username, data.password, client_address(request),
                                         request.headers.get("user-agent"))
        return msgspec.structs.asdict(pair)

    @get("/me")
    async def me(self, request: Request[Any, Any, Any], user: User) -> dict[str, Any]:
        """The current user's profile, role and settings."""
        return user_object(request, user, private=True)

    @put("/me", status_code=HTTP_200_OK)
    async def change_profile(self, request: Request[Any, Any, Any], data: ProfileBody, user: User,
                             services: Services) -> dict[str, Any]:
        changed = await services.users.update_profile(user, display_name=data.display_name, email=data.email)
        return user_object(request, changed, private=True)

    @put("/me/settings", status_code=HTTP_200_OK)
    async def change_settings(self, request: Request[Any, Any, Any], data: SettingsBody, user: User,
                              services: Services) -> dict[str, Any]:
        """Change the current user's own settings: the default quality, sharing one's listening with followers,
        or start (true) / end (false) a private session of one hour that hides it; `download_allowed` is an
        admin's to set."""
        changed = await services.users.update_settings(user, _settings_dict(data) or {})
        return msgspec.structs.asdict(changed.settings)

    @put("/me/password", status_code=HTTP_200_OK)
    async def change_password(self, request: Request[Any, Any, Any], data: PasswordBody, user: User,
                              services: Services) -> dict[str, Any]:
        """Change the password (the current one is asked again): every session ends, a new one is returned."""
        pair = await services.auth.change_password(user, data.current_password, data.new_password,
                                                   client_address(request), request.headers.get("user-agent"))
        return msgspec.structs.asdict(pair)

    @get("/users/{user_id:str}")
    async def user_profile(self, request: Request[Any, Any, Any], user_id: str, user: User,
                           services: Services) -> dict[str, Any]:
        """A user's public profile."""
        other, private = await services.users.profile(user, user_id)
        return user_object(request, other, private=private)


class AdminUsersController(Controller):
    path = "/v1/admin/users"
    tags = ["admin"]

    @get("/")
    async def list_users(self, request: Request[Any, Any, Any], user: User, services: Services) -> dict[str, Any]:
        users = await services.users.list(user)
        return {"items": [user_object(request, u, private=True) for u in users], "total": len(users)}

    @post("/", status_code=HTTP_201_CREATED)
    async def create_user(self, request: Request[Any, Any, Any], data: NewUserBody, user: User, services: Services
                          ) -> dict[str, Any]:
        created = await services.users.create(user, data.username, data.password, role=data.role, email=data.email,
                                              display_name=data.display_name)
        return user_object(request, created, private=True)

    @patch("/{user_id:str}")
    async def change_user(self, request: Request[Any, Any, Any], user_id: str, data: UserChangeBody,
                          user: User, services: Services) -> dict[str, Any]:
        """Change a user's role, disabled flag, profile or settings; disabling ends their sessions."""
        changed = await services.users.update(
            user, user_id, role=data.role, disabled=data.disabled, display_name=data.display_name, email=data.email,
            settings=_settings_dict(data.settings),
        )
        return user_object(request, changed, private=True)

    @delete("/{user_id:str}", status_code=HTTP_204_NO_CONTENT)
    async def delete_user(self, user_id: str, user: User, services: Services) -> None:
        await services.users.delete(user, user_id)

