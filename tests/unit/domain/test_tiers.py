"""The tier table and how qualities (v1 `quality`, Subsonic `format`/`maxBitRate`) map onto it."""

from __future__ import annotations

import pytest

from musicd.domain.tiers import TIERS, clamp_quality, content_type, effective_tier, subsonic_quality


def test_table() -> None:
    assert {n: t.bitrate_kbps for n, t in TIERS.items()} == {"low": 96, "normal": 160, "high": 320}
    assert all(t.content_type == "audio/ogg" and t.codec == "vorbis" for t in TIERS.values())


@pytest.mark.parametrize(
    ("quality", "fmt", "kbps", "want"),
    [
        ("original", "mp3", 320, None),
        ("lossless", "flac", 900, None),
        ("lossless", "mp3", 192, None),
        ("high", "flac", 900, "high"),
        ("normal", "flac", None, "normal"),
        ("low", "wav", 1411, "low"),
        ("high", "mp3", 192, "normal"),  # never an upscale: the best tier below the source
        ("normal", "mp3", 192, "normal"),
        ("normal", "opus", 128, "low"),
        ("normal", "mp3", 160, "normal"),  # at the tier's bitrate is fine
        ("low", "mp3", 64, None),  # below the lowest tier: the original is smaller already
        ("normal", "ogg", 160, None),  # Vorbis already at the tier: send it as it is
        ("low", "ogg", 320, "low"),
        ("normal", "m4a", None, "normal"),  # unknown bitrate: trust the request
    ],
)
def test_effective_tier(quality: str, fmt: str, kbps: int | None, want: str | None) -> None:
    tier = effective_tier(quality, fmt, kbps)
    assert (tier.name if tier else None) == want


def test_disabled_tiers_fall_back_to_the_nearest_enabled() -> None:
    assert effective_tier("high", "flac", 900, ("low", "normal")).name == "normal"  # type: ignore[union-attr]
    assert effective_tier("low", "flac", 900, ("normal",)).name == "normal"  # type: ignore[union-attr]
    assert effective_tier("normal", "flac", 900, ()) is None


def test_device_cap() -> None:
    assert clamp_quality("high", "normal") == "normal"
    assert clamp_quality("original", "high") == "high"
    assert clamp_quality("low", "high") == "low"
    assert clamp_quality("lossless", None) == "lossless"
    assert clamp_quality("lossless", "original") == "lossless"


@pytest.mark.parametrize(
    ("fmt", "limit", "src", "kbps", "want"),
    [
        ("raw", 128, "flac", 900, "original"),
        (None, None, "mp3", 192, "original"),
        (None, 320, "mp3", 192, "original"),  # fits the limit as it is
        (None, 128, "mp3", 192, "low"),
        (None, 160, "flac", 900, "normal"),
        ("ogg", 160, "mp3", 192, "normal"),
        ("ogg", 0, "flac", 900, "high"),
        ("ogg", 64, "flac", 900, "low"),  # below every tier: the lowest
        ("mp3", 320, "mp3", 192, "original"),  # the source's own format within the limit
    ],
)
def test_subsonic(fmt: str | None, limit: int | None, src: str, kbps: int, want: str) -> None:
    assert subsonic_quality(fmt, limit, src, kbps) == want


def test_content_types() -> None:
    assert content_type("mp3") == "audio/mpeg"
    assert content_type("FLAC") == "audio/flac"
    assert content_type("opus").startswith("audio/ogg")
    assert content_type("m4a") == "audio/mp4"
    assert content_type("xyz") == "application/octet-stream"


@pytest.mark.parametrize(("quality", "codec", "src", "kbps", "want"), [
    ("normal", "mp3", "flac", 900, "normal-mp3"),
    ("high", "opus", "mp3", 256, "normal-opus"),  # never above the source
    ("normal", "mp3", "mp3", 160, None),  # already MP3 at the tier: the file itself
    ("low", "mp3", "ogg", 64, "low-mp3"),  # below every tier, but the client cannot play Ogg
    ("low", "vorbis", "mp3", 64, None),  # below every tier, and Vorbis asked: the file itself
    ("normal", "aac", "m4a", 160, None),
])
def test_codec_tiers(quality: str, codec: str, src: str, kbps: int, want: str | None) -> None:
    tier = effective_tier(quality, src, kbps, codec=codec)
    assert (tier.name if tier else None) == want
    if tier is not None:
        assert tier.codec == codec and tier.ext == {"mp3": "mp3", "aac": "aac", "opus": "opus"}[codec]
