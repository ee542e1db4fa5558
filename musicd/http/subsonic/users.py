"""Users: getUser, getUsers, and for admins createUser, updateUser, deleteUser; changePassword."""

from __future__ import annotations

from typing import Any

from musicd.domain.models import User
from musicd.http.subsonic.context import Ctx, Reply, endpoint
from musicd.http.subsonic.envelope import ERR_GENERIC, SubsonicError

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
        "jukeboxRole": member,
        "shareRole": member,
        "videoConversionRole": False,
        "folder": folders,
    }


def _folders(ctx: Ctx) -> list[int]:
    return list(range(1, len(ctx.services.config.library_folders) + 1))


@endpoint("getUser")
async def get_user(ctx: Ctx) -> Reply:
    username = ctx.opt("username") or ctx.user.username
    return {"user": subsonic_user(await ctx.services.users.by_name(ctx.user, username), _folders(ctx))}


@endpoint("getUsers")
async def get_users(ctx: Ctx) -> Reply:
    users = await ctx.services.users.list(ctx.user)
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
    role = _role_changes(ctx, "user") or "user"
    await ctx.services.users.create(ctx.user, ctx.req("username"), _clear(ctx.req("password")), role=role,
                                    email=ctx.opt("email") or None, settings=_role_settings(ctx))
    return None


def _role_settings(ctx: Ctx) -> dict[str, object] | None:
    """The settings Subsonic's role flags set: downloadRole, podcastRole."""
    out: dict[str, object] = {}
    if ctx.opt("downloadRole") is not None:
        out["download_allowed"] = ctx.bool("downloadRole")
    if ctx.opt("podcastRole") is not None:
        out["podcasts_allowed"] = ctx.bool("podcastRole")
    return out or None


@endpoint("updateUser")
async def update_user(ctx: Ctx) -> Reply:
    users = ctx.services.users
    u = await users.by_name(ctx.user, ctx.req("username"))
    role = _role_changes(ctx, u.role)
    await users.update(ctx.user, u.id, role=None if role == u.role else role, settings=_role_settings(ctx),
                       email=ctx.opt("email"))
    if password := ctx.opt("password"):
        await users.set_password(ctx.user, u.username, _clear(password))
    return None


@endpoint("deleteUser")
async def delete_user(ctx: Ctx) -> Reply:
    users = ctx.services.users
    await users.delete(ctx.user, (await users.by_name(ctx.user, ctx.req("username"))).id)
    return None


@endpoint("changePassword")
async def change_password(ctx: Ctx) -> Reply:
    await ctx.services.users.set_password(ctx.user, ctx.req("username"), _clear(ctx.req("password")))
    return None
