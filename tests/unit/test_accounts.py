from __future__ import annotations

import sqlite3

import pytest

from musicd.errors import AuthError, ConflictError, ValidationError

PASSWORD = "s3cret-Passphrase"


def _row(services, username: str) -> sqlite3.Row:
    conn = sqlite3.connect(services.config.data_dir / "musicd.db")
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute("SELECT * FROM users WHERE username = ?", (username,)).fetchone()
    finally:
        conn.close()


async def test_create_and_authenticate(services_for) -> None:
    async with services_for() as s:
        u = await s.accounts.create("alice", PASSWORD, role="admin", email="a@example.org")
        assert (u.username, u.role, u.email, u.disabled) == ("alice", "admin", "a@example.org", False)
        assert await s.accounts.count() == 1
        got = await s.accounts.authenticate("alice", PASSWORD)
        assert got.id == u.id
        row = _row(s, "alice")
        assert row["password_hash"].startswith("$argon2id$")
        assert PASSWORD not in row["password_hash"]


async def test_wrong_password_and_unknown_user_look_the_same(services_for) -> None:
    async with services_for() as s:
        await s.accounts.create("alice", PASSWORD)
        with pytest.raises(AuthError) as wrong:
            await s.accounts.authenticate("alice", PASSWORD + "x")
        with pytest.raises(AuthError) as unknown:
            await s.accounts.authenticate("bob", PASSWORD)
        with pytest.raises(AuthError) as empty:
            await s.accounts.authenticate("", PASSWORD)
    assert wrong.value.message == unknown.value.message == empty.value.message
    assert wrong.value.code == unknown.value.code


async def test_weak_password_and_bad_username_rejected(services_for) -> None:
    async with services_for() as s:
        with pytest.raises(ValidationError) as err:
            await s.accounts.create("alice", "short")
        assert err.value.code == "weak_password"
        with pytest.raises(ValidationError):
            await s.accounts.create("no spaces allowed", PASSWORD)
        assert await s.accounts.count() == 0


async def test_duplicate_username_conflicts(services_for) -> None:
    async with services_for() as s:
        await s.accounts.create("alice", PASSWORD)
        with pytest.raises(ConflictError):
            await s.accounts.create("alice", PASSWORD)
        with pytest.raises(ConflictError):
            await s.accounts.create("ALICE", PASSWORD)  # usernames are case-insensitive
        assert await s.accounts.count() == 1


async def test_subsonic_secret_is_encrypted(services_for) -> None:
    async with services_for() as s:
        await s.accounts.create("alice", PASSWORD)
        got = await s.accounts.subsonic_password("alice")
        assert got is not None
        user, clear = got
        assert user.username == "alice" and clear == PASSWORD
        secret = _row(s, "alice")["subsonic_secret"]
        assert isinstance(secret, bytes) and secret
        assert PASSWORD.encode() not in secret
        assert await s.accounts.subsonic_password("nobody") is None


async def test_change_password(services_for) -> None:
    async with services_for() as s:
        await s.accounts.create("alice", PASSWORD)
        await s.accounts.change_password("alice", "another-passphrase")
        await s.accounts.authenticate("alice", "another-passphrase")
        with pytest.raises(AuthError):
            await s.accounts.authenticate("alice", PASSWORD)
        assert (await s.accounts.subsonic_password("alice"))[1] == "another-passphrase"


async def test_access_tokens_are_remembered_until_the_user_changes(services_for, monkeypatch) -> None:
    from musicd.services import auth as auth_module

    async with services_for() as s:
        user = await s.accounts.create("b", "long-enough-pw")
        token = (await s.auth.login("b", "long-enough-pw", "127.0.0.1")).access_token
        calls = 0
        real = auth_module.jwt.decode

        def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
            nonlocal calls
            calls += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(auth_module.jwt, "decode", counting)
        for _ in range(5):
            assert (await s.auth.user_for_access_token(token)).id == user.id
        assert calls == 1
        await s.accounts.update(user.id, disabled=True)
        with pytest.raises(AuthError):
            await s.auth.user_for_access_token(token)
        with pytest.raises(AuthError):
            await s.auth.user_for_access_token("not.a.jwt")
