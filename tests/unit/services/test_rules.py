"""The rulebook's own rules: every setting has an owner, and a user's own settings stop at the admin-only ones."""

from __future__ import annotations

import pytest

from musicd.domain.models import User, UserSettings
from musicd.errors import ForbiddenError
from musicd.services.rules import ADMIN_SETTINGS, SELF_SETTINGS, check_own_settings, require_admin, require_member


def _user(role: str) -> User:
    return User(id=role, username=role, email=None, display_name=role, role=role,  # type: ignore[arg-type]
                disabled=False, created_at="2024-01-01T00:00:00Z")


def test_every_setting_is_a_self_or_an_admin_setting() -> None:
    assert set(UserSettings.__struct_fields__) == SELF_SETTINGS | ADMIN_SETTINGS
    assert not SELF_SETTINGS & ADMIN_SETTINGS


def test_own_settings() -> None:
    took_away = UserSettings(download_allowed=False)
    check_own_settings(_user("user"), took_away, {"default_quality": "low", "download_allowed": False})
    with pytest.raises(ForbiddenError) as e:
        check_own_settings(_user("user"), took_away, {"download_allowed": True})
    assert e.value.code == "admin_setting"
    check_own_settings(_user("admin"), took_away, {"download_allowed": True})
    with pytest.raises(ForbiddenError) as e:
        check_own_settings(_user("guest"), UserSettings(), {"default_quality": "low"})
    assert e.value.code == "guest_read_only"


def test_roles() -> None:
    require_member(_user("user"))
    require_admin(_user("admin"))
    for role, check in (("guest", require_member), ("user", require_admin), ("guest", require_admin)):
        with pytest.raises(ForbiddenError):
            check(_user(role))
