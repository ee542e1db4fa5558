"""Quality choice (request, user default, device cap) and signed stream tokens."""

from __future__ import annotations

import time

import pytest

from musicd.devtools.library_builder import BuiltLibrary
from musicd.errors import AuthError, ValidationError
from musicd.store.db import utc_now


async def test_quality_choice(services_for, built_library: BuiltLibrary) -> None:  # type: ignore[no-untyped-def]
    async with services_for(built_library.root) as s:
        pb = s.playback
        user = await s.accounts.create("q", "long-enough-pw")
        assert await pb.quality_for(user, None) == "normal"  # the default of UserSettings
        user = await s.accounts.update(user.id, settings={"default_quality": "high"})
        assert await pb.quality_for(user, None) == "high"
        assert await pb.quality_for(user, "low") == "low"
        with pytest.raises(ValidationError):
            await pb.quality_for(user, "ultra")
        now = utc_now()
        await s.db.execute(
            "INSERT INTO devices (id, user_id, name, max_quality, last_seen, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            ("phone", user.id, "Phone", "normal", now, now),
        )
        assert await pb.quality_for(user, "lossless", "phone") == "normal"
        assert await pb.quality_for(user, "low", "phone") == "low"
        assert await pb.quality_for(user, "high", "someone-elses") == "high"


async def test_stream_tokens(services_for, built_library: BuiltLibrary) -> None:  # type: ignore[no-untyped-def]
    async with services_for(built_library.root) as s:
        pb = s.playback
        user = await s.accounts.create("t", "long-enough-pw")
        tok = pb.stream_token(user.id, "track1")
        assert (await pb.user_for_stream_token(tok, "track1")).id == user.id
        with pytest.raises(AuthError):
            await pb.user_for_stream_token(tok, "track2")
        with pytest.raises(AuthError):
            await pb.user_for_stream_token(tok.replace(user.id, "someone"), "track1")
        with pytest.raises(AuthError):
            await pb.user_for_stream_token("garbage", "track1")
        # The expiry field is hex from the wire: thousands of digits or non-ASCII digits are a bad token.
        uid, _, sig = tok.split(".")
        for exp in ("f" * 5_000, "\u0663", "-1", "", "1_0"):
            with pytest.raises(AuthError) as err:
                await pb.user_for_stream_token(f"{uid}.{exp}.{sig}", "track1")
            assert err.value.code == "invalid_token"
        expired = pb.stream_token(user.id, "track1", ttl_s=-1)
        with pytest.raises(AuthError) as err:
            await pb.user_for_stream_token(expired, "track1")
        assert err.value.code == "token_expired"
        await s.accounts.update(user.id, disabled=True)
        pb._users.clear()  # the 30 s user cache
        with pytest.raises(AuthError):
            await pb.user_for_stream_token(pb.stream_token(user.id, "track1"), "track1")
        assert int(tok.split(".")[1], 16) > time.time()
