"""Which album a track belongs to: the rule that keeps albums whole and apart."""

from __future__ import annotations

from musicd.domain.models import ScannedTrack
from musicd.domain.tags import VARIOUS_ARTISTS, group_key

__all__ = ["AlbumIdentity", "album_identity", "artist_key"]

_VA_NAMES = {"various artists", "various", "va", "v.a.", "varios artistas", "verschiedene interpreten"}

AlbumIdentity = tuple[str, str, str | None]  # (group key, album artist name, album artist mbid)


def artist_key(name: str) -> str:
    """The grouping key of an artist name."""
    return group_key(name)


def album_identity(t: ScannedTrack) -> AlbumIdentity:
    """Album artist + album name, never the disc: a multi-disc album stays one album.

    The album artist is the album-artist tag, else "Various Artists" for a compilation, else
    the track's main artist; so same-named albums by different artists stay apart.
    """
    mbid = t.album_artist_mbid
    if t.album_artist and group_key(t.album_artist) not in _VA_NAMES:
        name = t.album_artist
    elif t.compilation or (t.album_artist and group_key(t.album_artist) in _VA_NAMES):
        name, mbid = VARIOUS_ARTISTS, None
    else:
        name = t.artists[0].name if t.artists else t.artist
        mbid = t.artists[0].mbid if t.artists else None
    return f"{artist_key(name)}\x1f{group_key(t.album)}", name, mbid
