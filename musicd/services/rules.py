"""The rulebook: who may do what, checked by the services so that /v1, /rest and the realtime channel agree.

Roles (musicd.domain.models.UserRole):
- **admin**: everything a user may do, plus managing accounts (create, change, disable, delete others;
  the admin-only settings such as `download_allowed`), starting scans, listing another user's playlists.
  An admin cannot change their own role, disable or delete themselves (the server keeps an admin).
- **user**: reads the library and writes their own state: saves, stars, ratings, follows, their
  playlists (and those they collaborate on), bookmarks, the saved play queue, their plays (history,
  play counts, now playing), shares, API keys, their profile, password and self settings.
- **guest**: listens, browses and searches (streams, covers, lyrics, stream tokens, share pages), logs in
  and out, and revokes their own API keys. A guest changes nothing else: no saves, stars, ratings,
  follows, playlists, bookmarks, play queue, shares, API keys, profile, password or settings, and no
  plays: a guest's listening is kept out of the history, everyone's play counts and now playing
  (a guest account is often shared by visitors; what one of them plays says nothing of the household).

Every check raises ForbiddenError (403 on /v1, error 50 on /rest) with a stable code.
"""

from __future__ import annotations

from collections.abc import Mapping

from musicd.domain.models import User, UserSettings
from musicd.errors import ForbiddenError

__all__ = [
    "ADMIN_SETTINGS",
    "SELF_SETTINGS",
    "check_own_settings",
    "is_admin",
    "may_download",
    "may_manage_podcasts",
    "may_write",
    "require_admin",
    "require_download",
    "require_member",
    "require_podcast_right",
]

# Settings a user changes for themselves, and those only an admin sets (for anyone, themselves included);
# every field of UserSettings is in one of them (a test checks it).
SELF_SETTINGS = frozenset({"default_quality", "share_activity", "private_session_until"})
ADMIN_SETTINGS = frozenset({"download_allowed", "podcasts_allowed"})


def is_admin(user: User) -> bool:
    return user.role == "admin"


def may_write(user: User) -> bool:
    """Whether the user may change anything at all (everyone but guests)."""
    return user.role != "guest"


def require_member(user: User) -> None:
    """Guests listen, browse and search, and change nothing."""
    if not may_write(user):
        raise ForbiddenError("guest accounts cannot change anything", code="guest_read_only")


def may_download(user: User) -> bool:
    """Whether the user may take music away: downloads and offline copies (`download_allowed`, an admin's
    setting; a disabled account may not). A device's offline copies go when this turns false."""
    return not user.disabled and user.settings.download_allowed


def require_download(user: User) -> None:
    """Offline devices and their downloads: members with the download right."""
    require_member(user)
    if not may_download(user):
        raise ForbiddenError("downloads are turned off for this account", code="download_not_allowed")


def require_admin(user: User) -> None:
    if not is_admin(user):
        raise ForbiddenError("this needs an admin account", code="admin_only")


def may_manage_podcasts(user: User) -> bool:
    """Adding, removing and refreshing podcast feeds, fetching and deleting episode files: admins, and users
    an admin gave the podcast right (`podcasts_allowed`)."""
    return is_admin(user) or (may_write(user) and user.settings.podcasts_allowed)


def require_podcast_right(user: User) -> None:
    if not may_manage_podcasts(user):
        raise ForbiddenError("managing podcast feeds needs an admin account or the podcast right",
                             code="podcast_right_required")


def check_own_settings(user: User, current: UserSettings, changes: Mapping[str, object]) -> None:
    """What a user may change in their own settings (`current`, as stored): the self settings; an
    admin-only one only to the value it has (so a client that sends back every setting it read still
    works), unless they are an admin."""
    require_member(user)
    if is_admin(user):
        return
    for name in sorted(ADMIN_SETTINGS & set(changes)):
        if changes[name] != getattr(current, name):
            raise ForbiddenError(f"{name} is set by an admin", code="admin_setting")
