"""Users: getUser, getUsers, and for admins createUser, updateUser, deleteUser; changePassword."""

from __future__ import annotations

from typing import Any

from musicd.domain.models import User
from musicd.http.subsonic.context import Ctx, Reply, endpoint
from musicd.http.subsonic.envelope import ERR_GENERIC, ERR_NOT_FOUND, ERR_UNAUTHORIZED, SubsonicError

__all__ = ["subsonic_user"]


def _clear(password: str) -> str:
    if password.startswith("enc:"):
        try:
            return bytes.fromhex(password[4:]).decode()
        except (ValueError, UnicodeDecodeError):
            raise SubsonicError(ERR_GENERIC, "password: bad enc: hex") from None
    return password


def subsonic_user(u: User, folders: list[int]) -> dict[str, Any]:
    """musicd's three roles as Subsonic's role flags: admins may do all, guests only listen."""
    admin = u.role == "admin"
    member = u.role != "guest"
    return {
        "username": u.username,
        "email": u.email,
        "scrobblingEnabled": True,
        "adminRole": admin,
        "settingsRole": member,
        "downloadRole": u.settings.download_allowed,
        "uploadRole": False,
        "playlistRole": member,
        "coverArtRole": admin,
        "commentRole": member,
        "podcastRole": admin or (member and u.settings.podcasts_allowed),
        "streamRole": True,
        "jukeboxRole": False,
        "shareRole": member,
        "videoConversionRole": False,
        "folder": folders,
    }


def _folders(ctx: Ctx) -> list[int]:
    return list(range(1, len(ctx.services.config.library_folders) + 1))


async def _user(ctx: Ctx, username: str) -> User:
    u = await ctx.services.accounts.find(username)
    if u is None:
        raise SubsonicError(ERR_NOT_FOUND, f"no user {username!r}")
    return u


@endpoint("getUser")
async def get_user(ctx: Ctx) -> Reply:
    username = ctx.opt("username") or ctx.user.username
    if username.casefold() != ctx.user.username.casefold():
        ctx.admin()
    return {"user": subsonic_user(await _user(ctx, username), _folders(ctx))}


@endpoint("getUsers")
async def get_users(ctx: Ctx) -> Reply:
    ctx.admin()
    users = await ctx.services.accounts.list()
    return {"users": {"user": [subsonic_user(u, _folders(ctx)) for u in users]}}


def _role_changes(ctx: Ctx, current: str | None) -> str | None:
    """The musicd role the Subsonic flags ask for: adminRole makes an admin, none of the member roles a guest."""
    if ctx.opt("adminRole") is not None:
        if ctx.bool("adminRole"):
            return "admin"
        if current == "admin":
            return "user"
    member_flags = [ctx.opt(f) for f in ("settingsRole", "playlistRole", "shareRole", "commentRole")]
    if any(f is not None for f in member_flags):
        wants_member = any(ctx.bool(f) for f in ("settingsRole", "playlistRole", "shareRole", "commentRole"))
        if wants_member and current == "guest":
            return "user"
        if not wants_member and current != "admin":
            return "guest"
    return None


@endpoint("createUser")
async def create_user(ctx: Ctx) -> Reply:
    ctx.admin()
    role = _role_changes(ctx, "user") or "user"
    accounts = ctx.services.accounts
    u = await accounts.create(ctx.req("username"), _clear(ctx.req("password")), role=role,
                              email=ctx.opt("email") or None)
    if settings := _settings(ctx):
        await accounts.update(u.id, settings=settings)
    return None


def _settings(ctx: Ctx) -> dict[str, object] | None:
    """The settings Subsonic role flags set: downloadRole, podcastRole."""
    out: dict[str, object] = {}
    for flag, name in (("downloadRole", "download_allowed"), ("podcastRole", "podcasts_allowed")):
        if ctx.opt(flag) is not None:
            out[name] = ctx.bool(flag)
    return out or None


@endpoint("updateUser")
async def update_user(ctx: Ctx) -> Reply:
    ctx.admin()
    u = await _user(ctx, ctx.req("username"))
    accounts = ctx.services.accounts
    if password := ctx.opt("password"):
        await accounts.change_password(u.username, _clear(password))
    settings = _settings(ctx)
    role = _role_changes(ctx, u.role)
    if role == u.role:
        role = None
    if role and u.id == ctx.user.id:
        raise SubsonicError(ERR_UNAUTHORIZED, "you cannot change your own role")
    email = ctx.opt("email")
    if role or settings or email is not None:
        await accounts.update(u.id, role=role, settings=settings, email=email)
    return None


@endpoint("deleteUser")
async def delete_user(ctx: Ctx) -> Reply:
    ctx.admin()
    u = await _user(ctx, ctx.req("username"))
    if u.id == ctx.user.id:
        raise SubsonicError(ERR_UNAUTHORIZED, "you cannot delete yourself")
    await ctx.services.accounts.delete_id(u.id)
    return None


@endpoint("changePassword")
async def change_password(ctx: Ctx) -> Reply:
    username = ctx.req("username")
    if username.casefold() != ctx.user.username.casefold():
        ctx.admin()
    u = await _user(ctx, username)
    await ctx.services.accounts.change_password(u.username, _clear(ctx.req("password")))
    return None
