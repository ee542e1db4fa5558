"""The quality tiers a track is streamed in, and how a request's quality maps onto them.

Tiers low / normal / high are Ogg Vorbis at 96 / 160 / 320 kbps; the same tiers exist in MP3, AAC
(ADTS) and Opus for clients that cannot play Vorbis (Safari, iOS apps, many car and cast devices), made
by the same machinery on demand. "lossless" and "original" send the
file as it is on disk (a lossy original is already the best there is, a lossless one is lossless).
A tier is never an upscale: a lossy source at or below a tier's bitrate is sent at the highest tier
below its own bitrate, or as the original when it is already smaller than the lowest tier.
"""

from __future__ import annotations

import msgspec

__all__ = [
    "ALL_TIERS",
    "CODECS",
    "CONTENT_TYPES",
    "FORMAT_CODECS",
    "LOSSLESS_FORMATS",
    "QUALITIES",
    "TIERS",
    "VORBIS_TIERS",
    "Tier",
    "clamp_quality",
    "codec_tier",
    "content_type",
    "effective_tier",
    "quality_rank",
    "subsonic_codec",
    "subsonic_quality",
]


class Tier(msgspec.Struct, frozen=True):
    """One transcoded quality: a codec (Ogg Vorbis unless named otherwise) at a nominal bitrate."""

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


class Codec(msgspec.Struct, frozen=True):
    """An output format of the tiers: file extension, MIME type, and the source formats it already is."""

    ext: str
    content_type: str
    sources: frozenset[str]


CODECS: dict[str, Codec] = {
    "vorbis": Codec("ogg", "audio/ogg", frozenset({"ogg", "oga"})),
    "mp3": Codec("mp3", "audio/mpeg", frozenset({"mp3"})),
    # ADTS rather than MP4: it streams through a pipe as it is encoded (MP4 needs its index first).
    "aac": Codec("aac", "audio/aac", frozenset({"aac", "m4a", "mp4"})),
    "opus": Codec("opus", "audio/ogg; codecs=opus", frozenset({"opus"})),
}
# A requested format name (Subsonic `format`, /v1 `format`) to the codec of its tiers.
FORMAT_CODECS: dict[str, str] = {
    "ogg": "vorbis", "oga": "vorbis", "vorbis": "vorbis", "mp3": "mp3", "aac": "aac", "m4a": "aac",
    "opus": "opus",
}
# What a Subsonic request without a known format gets when it must transcode: the format every
# Subsonic client can play (the original Subsonic server's default transcoding too).
SUBSONIC_DEFAULT_CODEC = "mp3"


def codec_tier(name: str, codec: str = "vorbis") -> Tier:
    """The tier `name` ("low", "normal", "high") in `codec`; Vorbis tiers keep their plain names."""
    base = TIERS[name]
    if codec == "vorbis":
        return base
    c = CODECS[codec]
    return Tier(f"{name}-{codec}", base.bitrate_kbps, codec, c.ext, c.content_type)


# Every tier of every codec (what the cache may hold for a track).
ALL_TIERS: tuple[Tier, ...] = tuple(codec_tier(n, c) for c in CODECS for n in VORBIS_TIERS)

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
    quality: str, source_format: str, source_bitrate_kbps: int | None, enabled: tuple[str, ...] = VORBIS_TIERS,
    codec: str = "vorbis",
) -> Tier | None:
    """The tier to send for `quality` in `codec`, or None to send the original file.

    Only `enabled` tiers are used; when the requested tier is disabled the nearest enabled one below
    it is used (then above it). A lossy source is never upscaled (see the module docstring), and a
    source already in `codec` that fits the tier is sent as it is. A Vorbis request for a source below
    every tier gets the original; a request for another codec gets the lowest tier (the client asked
    for that codec because it may not play the source's).
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
    same = source_format.lower() in CODECS[codec].sources
    if lossy and source_bitrate_kbps:
        # Small tolerance: a "160k" VBR file may measure 161 kbps and should not drop a tier for it.
        fitting = [n for n in candidates if TIERS[n].bitrate_kbps <= source_bitrate_kbps * 1.05]
        if not fitting:
            if codec == "vorbis" or same:
                return None
            fitting = candidates[:1]
        if TIERS[name].bitrate_kbps > TIERS[fitting[-1]].bitrate_kbps:
            name = fitting[-1]
        if same and source_bitrate_kbps <= TIERS[name].bitrate_kbps * 1.05:
            return None
    return codec_tier(name, codec)


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


def subsonic_codec(fmt: str | None) -> str:
    """The codec of the tiers a Subsonic `format` asks for (MP3 when it names none we make)."""
    return FORMAT_CODECS.get((fmt or "").lower(), SUBSONIC_DEFAULT_CODEC)
