"""Listens from scrobblers and imports: the listen itself, its identity, and the name normalisation
that both the identity and the matching to library tracks use. Pure: stdlib and msgspec only."""

from __future__ import annotations

import hashlib
import re
import unicodedata

import msgspec

__all__ = [
    "LISTEN_MIN_TS",
    "LISTEN_SOURCES",
    "Listen",
    "ListenSummary",
    "listen_identity",
    "name_key",
    "title_variants",
]

# ListenBrainz refuses listens before Last.fm existed (2002-10-01 00:00 UTC) and more than an hour
# ahead of the server's clock; musicd takes the same window (listenbrainz-server, api_tools.py).
LISTEN_MIN_TS = 1_033_430_400
LISTEN_SOURCES = ("single", "import", "listenbrainz_export", "lastfm_csv")

_PUNCT = re.compile(r"[^\w\s]+", re.UNICODE)
# "Song (feat. X)", "Song [ft. X]", "Song feat. X": a scrobbler or Last.fm may carry the featured artist in
# the title where the file's tags do not (or the other way round).
_FEAT_TAIL = re.compile(r"\s*[\(\[]?\s*\b(?:feat\.?|ft\.|featuring)\s+.*$", re.IGNORECASE)


class Listen(msgspec.Struct, frozen=True):
    """One listen as a scrobbler or an export reports it: when it started and what was heard."""

    listened_at: int
    artist: str
    title: str
    release: str | None = None
    duration_ms: int | None = None
    recording_mbid: str | None = None
    isrc: str | None = None
    client: str | None = None


class ListenSummary(msgspec.Struct):
    """What an import did: every listen read is exactly one of matched, unmatched, duplicate or rejected."""

    read: int = 0
    matched: int = 0
    unmatched: int = 0
    duplicates: int = 0
    rejected: int = 0
    errors: list[str] = msgspec.field(default_factory=list)  # the first few reasons for rejections

    def add(self, other: ListenSummary) -> None:
        self.read += other.read
        self.matched += other.matched
        self.unmatched += other.unmatched
        self.duplicates += other.duplicates
        self.rejected += other.rejected
        self.errors.extend(other.errors[: max(0, 20 - len(self.errors))])


def name_key(s: str) -> str:
    """Artist or title folded for comparison: case, accents, punctuation and spacing do not count;
    '&' is 'and' ('Simon & Garfunkel' is 'simon and garfunkel')."""
    s = unicodedata.normalize("NFKD", s.casefold().replace("&", " and "))
    s = "".join(c for c in s if not unicodedata.combining(c))
    return " ".join(_PUNCT.sub(" ", s).split())


def title_variants(title: str) -> list[str]:
    """The keys a title may be known by: as it is, and without a trailing 'feat. X'."""
    keys = [name_key(title)]
    bare = name_key(_FEAT_TAIL.sub("", title))
    if bare and bare != keys[0]:
        keys.append(bare)
    return keys


def listen_identity(artist: str, title: str) -> int:
    """A 63-bit hash of the normalised artist and title: with the user and the time it names one listen,
    whether it came from a scrobbler, a ListenBrainz export or a Last.fm CSV."""
    digest = hashlib.blake2b(f"{name_key(artist)}\x1f{name_key(title)}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1
