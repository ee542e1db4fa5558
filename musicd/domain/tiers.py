"""The quality tiers a track is streamed in, and how a request's quality maps onto them.

Tiers low / normal / high are Ogg Vorbis at 96 / 160 / 320 kbps; "lossless" and "original" send the
file as it is on disk (a lossy original is already the best there is, a lossless one is lossless).
A tier is never an upscale: a lossy source at or below a tier's bitrate is sent at the highest tier
below its own bitrate, or as the original when it is already smaller than the lowest tier.
"""

from __future__ import annotations

import msgspec

__all__ = [
    "CONTENT_TYPES",
    "LOSSLESS_FORMATS",
    "QUALITIES",
    "TIERS",
    "VORBIS_TIERS",
    "Tier",
    "clamp_quality",
    "content_type",
    "effective_tier",
    "quality_rank",
    "subsonic_quality",
]


class Tier(msgspec.Struct, frozen=True):
    """One transcoded quality: Ogg Vorbis at a nominal bitrate."""

    name: str
    bitrate_kbps: int
    codec: str = "vorbis"
    ext: str = "ogg"
    content_type: str = "audio/ogg"


TIERS: dict[str, Tier] = {
    "low": Tier("low", 96),
    "normal": Tier("normal", 160),
    "high": Tier("high", 320),
}
VORBIS_TIERS: tuple[str, ...] = ("low", "normal", "high")
# Best last; "original" and "lossless" both mean the file itself.
QUALITIES: tuple[str, ...] = ("low", "normal", "high", "lossless", "original")
LOSSLESS_FORMATS = frozenset({"flac", "wav", "aiff", "alac"})

CONTENT_TYPES: dict[str, str] = {
    "mp3": "audio/mpeg",
    "flac": "audio/flac",
    "ogg": "audio/ogg",
    "oga": "audio/ogg",
    "opus": "audio/ogg; codecs=opus",
    "m4a": "audio/mp4",
    "mp4": "audio/mp4",
    "alac": "audio/mp4",
    "aac": "audio/aac",
    "wav": "audio/wav",
    "aiff": "audio/aiff",
    "wma": "audio/x-ms-wma",
}


def content_type(fmt: str) -> str:
    """The MIME type of an audio format name as the scanner stores it."""
    return CONTENT_TYPES.get(fmt.lower(), "application/octet-stream")


def quality_rank(quality: str) -> int:
    """Order of qualities, low first; "lossless" and "original" rank the same."""
    if quality == "original":
        return QUALITIES.index("lossless")
    return QUALITIES.index(quality)


def clamp_quality(requested: str, maximum: str | None) -> str:
    """`requested`, lowered to `maximum` (a device's cap) when it is above it."""
    if maximum and maximum in QUALITIES and quality_rank(requested) > quality_rank(maximum):
        return maximum
    return requested


def effective_tier(
    quality: str, source_format: str, source_bitrate_kbps: int | None, enabled: tuple[str, ...] = VORBIS_TIERS
) -> Tier | None:
    """The tier to send for `quality`, or None to send the original file.

    Only `enabled` tiers are used; when the requested tier is disabled the nearest enabled one below
    it is used (then above it). A lossy source is never upscaled (see the module docstring), and an Ogg
    Vorbis source that already fits the tier is sent as it is.
    """
    if quality not in TIERS:
        return None
    candidates = [n for n in VORBIS_TIERS if n in enabled]
    if not candidates:
        return None
    want = TIERS[quality].bitrate_kbps
    below = [n for n in candidates if TIERS[n].bitrate_kbps <= want]
    name = below[-1] if below else candidates[0]
    lossy = source_format.lower() not in LOSSLESS_FORMATS
    if lossy and source_bitrate_kbps:
        # Small tolerance: a "160k" VBR file may measure 161 kbps and should not drop a tier for it.
        fitting = [n for n in candidates if TIERS[n].bitrate_kbps <= source_bitrate_kbps * 1.05]
        if not fitting:
            return None
        if TIERS[name].bitrate_kbps > TIERS[fitting[-1]].bitrate_kbps:
            name = fitting[-1]
        if source_format.lower() in ("ogg", "oga") and source_bitrate_kbps <= TIERS[name].bitrate_kbps * 1.05:
            return None
    return TIERS[name]


def subsonic_quality(
    fmt: str | None, max_bitrate_kbps: int | None, source_format: str, source_bitrate_kbps: int | None
) -> str:
    """The quality for a Subsonic `format` / `maxBitRate` pair on a given source.

    `format=raw` is the original. Without a format (or with the source's own format) the original is
    sent when it fits `maxBitRate` (0 = no limit); otherwise the best tier that fits the limit, with
    "high" when there is no limit.
    """
    f = (fmt or "").lower()
    limit = max_bitrate_kbps or 0
    if f == "raw":
        return "original"
    if (not f or f == source_format.lower()) and (limit <= 0 or (source_bitrate_kbps or 0) <= limit):
        return "original"
    if limit <= 0:
        return "high"
    best = "low"
    for name in VORBIS_TIERS:
        if TIERS[name].bitrate_kbps <= limit:
            best = name
    return best
