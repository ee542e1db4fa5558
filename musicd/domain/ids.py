"""Opaque, URL-safe, stable ids.

Artist and album ids are derived from their grouping key so that a rebuilt database
gives the same ids; track ids are derived from the path a file was first seen at and
then kept when the file moves.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import NewType

__all__ = [
    "AlbumId",
    "ArtistId",
    "PlaylistId",
    "TrackId",
    "UserId",
    "derived_id",
    "random_id",
]

TrackId = NewType("TrackId", str)
AlbumId = NewType("AlbumId", str)
ArtistId = NewType("ArtistId", str)
PlaylistId = NewType("PlaylistId", str)
UserId = NewType("UserId", str)

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_ID_LEN = 22  # the length of a Spotify id: 22 base62 digits hold 128 bits


def _base62(n: int) -> str:
    out = []
    for _ in range(_ID_LEN):
        n, r = divmod(n, 62)
        out.append(_ALPHABET[r])
    return "".join(reversed(out))


def derived_id(kind: str, key: str) -> str:
    """A stable id for `key` within `kind` (the same inputs always give the same id)."""
    digest = hashlib.blake2b(f"{kind}\x1f{key}".encode(), digest_size=16).digest()
    return _base62(int.from_bytes(digest, "big"))


def random_id() -> str:
    """A fresh random id in the same alphabet and length as derived ids."""
    return _base62(int.from_bytes(secrets.token_bytes(16), "big"))
