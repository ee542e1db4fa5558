"""Subsonic credentials and OpenSubsonic API keys on real Services: password forms, tokens, rate limits."""

from __future__ import annotations

import hashlib

import pytest

from musicd.errors import AuthError, ForbiddenError, NotFoundError, RateLimitError
from musicd.services.subsonic_auth import SubsonicAuthService


def _token(password: str, salt: str) -> str:
    return hashlib.md5((password + salt).encode()).hexdigest()


async def test_password_token_and_enc_forms(services_for) -> None:  # type: ignore[no-untyped-def]
    async with services_for() as s:
        await s.accounts.create("Alice", "alice-password")
        auth: SubsonicAuthService = s.subsonic_auth
        assert (await auth.by_password("alice", "alice-password", "c")).username == "Alice"
        assert (await auth.by_password("ALICE", "enc:" + b"alice-password".hex(), "c")).username == "Alice"
        assert (await auth.by_token("alice", _token("alice-password", "s4lt"), "s4lt", "c")).username == "Alice"
        assert (await auth.by_token("alice", _token("alice-password", "s4lt").upper(), "s4lt", "c")).username
        for bad in ("alice-passwor", "enc:zz", "enc:" + b"nope".hex(), ""):
            with pytest.raises(AuthError):
                await auth.by_password("alice", bad, "c")
        with pytest.raises(AuthError):
            await auth.by_token("alice", _token("alice-password", "other"), "s4lt", "c")
        with pytest.raises(AuthError):
            await auth.by_password("nobody", "alice-password", "c")


async def test_wrong_passwords_are_rate_limited_per_client_and_user(services_for) -> None:  # type: ignore[no-untyped-def]
    async with services_for() as s:
        await s.accounts.create("bob", "bob-password")
        auth = SubsonicAuthService(s.accounts, s.api_keys, failures_per_minute=3)
        for _ in range(50):  # successes cost nothing
            await auth.by_password("bob", "bob-password", "10.0.0.1")
        for _ in range(3):
            with pytest.raises(AuthError):
                await auth.by_password("bob", "wrong-password", "10.0.0.1")
        with pytest.raises(AuthError):  # the failure that empties the bucket
            await auth.by_password("bob", "wrong-password", "10.0.0.1")
        # from then on even the right password waits, from that address
        with pytest.raises(RateLimitError) as e:
            await auth.by_password("bob", "bob-password", "10.0.0.1")
        assert e.value.retry_after > 0
        with pytest.raises(RateLimitError):
            await auth.by_token("bob", _token("bob-password", "x"), "x", "10.0.0.1")
        # another address is not affected
        assert (await auth.by_password("bob", "bob-password", "10.0.0.2")).username == "bob"


async def test_changes_to_the_user_apply_at_once(services_for) -> None:  # type: ignore[no-untyped-def]
    async with services_for() as s:
        u = await s.accounts.create("carol", "carol-password")
        auth: SubsonicAuthService = s.subsonic_auth
        await auth.by_password("carol", "carol-password", "c")  # cached now
        await s.accounts.change_password("carol", "carol-new-password")
        with pytest.raises(AuthError):
            await auth.by_password("carol", "carol-password", "c")
        assert (await auth.by_password("carol", "carol-new-password", "c")).id == u.id
        await s.accounts.update(u.id, disabled=True)
        with pytest.raises(ForbiddenError):
            await auth.by_password("carol", "carol-new-password", "c")


async def test_api_keys(services_for) -> None:  # type: ignore[no-untyped-def]
    async with services_for() as s:
        dave = await s.accounts.create("dave", "dave-password")
        erin = await s.accounts.create("erin", "erin-password")
        rec, key = await s.api_keys.create(dave, "phone")
        assert key.startswith("msd_") and rec.prefix == key[:10] and rec.name == "phone"
        assert (await s.subsonic_auth.by_api_key(key, "c")).id == dave.id
        assert [k.id for k in await s.api_keys.list(dave)] == [rec.id]
        assert await s.api_keys.list(erin) == []
        stored = await s.db.fetchall("SELECT key_hash FROM api_keys")
        assert key.encode() not in stored[0][0] and len(stored[0][0]) == 32
        with pytest.raises(AuthError) as e:
            await s.subsonic_auth.by_api_key(key + "x", "c")
        assert e.value.code == "invalid_api_key"
        with pytest.raises(NotFoundError):
            await s.api_keys.revoke(erin, rec.id)  # not hers
        await s.api_keys.revoke(dave, rec.id)
        with pytest.raises(AuthError):
            await s.subsonic_auth.by_api_key(key, "c")
        _, key2 = await s.api_keys.create(dave)
        await s.accounts.update(dave.id, disabled=True)
        with pytest.raises(ForbiddenError):
            await s.subsonic_auth.by_api_key(key2, "c")
