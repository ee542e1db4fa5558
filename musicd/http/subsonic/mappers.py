"""Catalogue read models → Subsonic shapes (Child, AlbumID3, ArtistID3, Artist) with the OpenSubsonic fields.

OpenSubsonic asks a server to return every field it supports, with an empty value when the
library has none, so that clients can tell "unsupported" from "empty": hence the "" and [] below.
"""

from __future__ import annotations

from typing import Any

from musicd.domain.catalog import AlbumView, ArtistRef, ArtistView, TrackView
from musicd.domain.ids import is_federated
from musicd.domain.tiers import CODECS, SUBSONIC_DEFAULT_CODEC, content_type

__all__ = ["album_child", "album_id3", "artist", "artist_id3", "artist_ref", "child", "item_date"]


def _clean(d: dict[str, Any]) -> dict[str, Any]:
    # JSON clients expect an absent key, not null, for a value the library does not have.
    return {k: v for k, v in d.items() if v is not None}


def artist_ref(a: ArtistRef) -> dict[str, Any]:
    """An artist in a list of a song's or album's artists: only the required fields."""
    return {"id": a.id, "name": a.name}


def item_date(year: int | None) -> dict[str, Any] | None:
    return {"year": year} if year else None


def _replay_gain(t: TrackView) -> dict[str, Any]:
    return _clean({"trackGain": t.rg_track_gain, "trackPeak": t.rg_track_peak, "albumGain": t.rg_album_gain,
                   "albumPeak": t.rg_album_peak})


def _media(t: TrackView) -> dict[str, Any]:
    """suffix/contentType of the file as it is, transcoded* of what `stream` sends when it must transcode.

    The suffix is the file's own extension (an ALAC file is an .m4a); `stream` with a bitrate limit or a
    format it does not name answers MP3 for any other source, and clients name their cache files by it.
    """
    ext = t.rel_path.rsplit("/", 1)[-1].rpartition(".")[2].lower() if "." in t.rel_path else ""
    suffix = ext or t.format
    ctype = content_type(suffix)
    out = {"contentType": content_type(t.format) if ctype == "application/octet-stream" else ctype, "suffix": suffix}
    # A friend's track comes in the Vorbis tiers its server makes (the peer protocol names no format).
    codec = CODECS["vorbis" if is_federated(t.id) else SUBSONIC_DEFAULT_CODEC]
    if t.format.lower() not in codec.sources:
        out |= {"transcodedSuffix": codec.ext, "transcodedContentType": codec.content_type}
    return out


def child(t: TrackView) -> dict[str, Any]:
    """A song as a Child (getAlbum, getSong, lists, search, playlists, ...)."""
    st = t.state
    artists = t.artists
    return _clean({
        "id": t.id,
        "parent": t.album_id,
        "isDir": False,
        "title": t.title,
        "album": t.album_name,
        "artist": t.artist_display,
        "track": t.track_number,
        "year": t.year,
        "genre": t.genres[0] if t.genres else None,
        "coverArt": t.cover_id,
        "size": t.size,
        **_media(t),
        "duration": round(t.duration),
        "bitRate": t.bitrate,
        "bitDepth": t.bit_depth,
        "samplingRate": t.sample_rate,
        "channelCount": t.channels,
        "path": t.rel_path,
        "isVideo": False,
        "userRating": st.rating,
        "playCount": st.play_count,
        "discNumber": t.disc_number,
        "created": t.created_at,
        "starred": st.saved_at,
        "albumId": t.album_id,
        "artistId": artists[0].id if artists else t.album_artist.id,
        "type": "music",
        "mediaType": "song",
        "played": st.last_played_at,
        "bpm": t.bpm or 0,
        "comment": t.comment or "",
        "sortName": "",
        "musicBrainzId": t.mbid_recording or "",
        "isrc": [t.isrc] if t.isrc else [],
        "genres": [{"name": g} for g in t.genres],
        "artists": [{"id": a.id, "name": a.name} for a in artists],
        "displayArtist": t.artist_display,
        "albumArtists": [{"id": t.album_artist.id, "name": t.album_artist.name}],
        "displayAlbumArtist": t.album_artist.name,
        "contributors": [],
        "displayComposer": "",
        "moods": [],
        "replayGain": _replay_gain(t),
        "explicitStatus": "",
    })


def album_id3(a: AlbumView) -> dict[str, Any]:
    """An album as AlbumID3 (lists, search3, getArtist, starred2); getAlbum adds the songs."""
    st = a.state
    return _clean({
        "id": a.id,
        "name": a.name,
        "artist": a.artist.name,
        "artistId": a.artist.id,
        "coverArt": a.cover_id,
        "songCount": a.track_count,
        "duration": round(a.duration),
        "playCount": st.play_count,
        "created": a.created_at,
        "starred": st.saved_at,
        "year": a.year,
        "genre": a.genres[0] if a.genres else None,
        "played": st.last_played_at,
        "userRating": st.rating,
        "musicBrainzId": a.mbid or "",
        "isCompilation": a.compilation,
        "sortName": "",
        "displayArtist": a.artist.name,
        "explicitStatus": "",
        "releaseDate": item_date(a.year),
        "recordLabels": [],
        "genres": [{"name": g} for g in a.genres],
        "artists": [artist_ref(a.artist)],
        "releaseTypes": [],
        "moods": [],
        "discTitles": [],
    })


def album_child(a: AlbumView) -> dict[str, Any]:
    """An album as a directory Child (getAlbumList, search2, getStarred, getMusicDirectory of an artist)."""
    st = a.state
    return _clean({
        "id": a.id,
        "parent": a.artist.id,
        "isDir": True,
        "title": a.name,
        "album": a.name,
        "artist": a.artist.name,
        "year": a.year,
        "genre": a.genres[0] if a.genres else None,
        "coverArt": a.cover_id,
        "duration": round(a.duration),
        "userRating": st.rating,
        "playCount": st.play_count,
        "created": a.created_at,
        "starred": st.saved_at,
        "albumId": a.id,
        "artistId": a.artist.id,
        "mediaType": "album",
        "played": st.last_played_at,
        "musicBrainzId": a.mbid or "",
        "genres": [{"name": g} for g in a.genres],
        "artists": [artist_ref(a.artist)],
        "displayArtist": a.artist.name,
    })


def _roles(a: ArtistView) -> list[str]:
    roles = []
    if a.album_count:
        roles.append("albumartist")
    if a.track_count:
        roles.append("artist")
    return roles


def artist_id3(a: ArtistView) -> dict[str, Any]:
    """An artist as ArtistID3 (getArtists, search3, starred2); getArtist adds the albums."""
    # Built key by key rather than through _clean: getArtists maps every artist of the library (2,500 at
    # 100k tracks), and the keys that may be missing are only these three.
    d: dict[str, Any] = {"id": a.id, "name": a.name}
    if a.cover_id is not None:
        d["coverArt"] = a.cover_id
    d["albumCount"] = a.album_count
    if a.state.saved_at is not None:
        d["starred"] = a.state.saved_at
    if a.state.rating is not None:
        d["userRating"] = a.state.rating
    d["musicBrainzId"] = a.mbid or ""
    d["sortName"] = a.sort_name or ""
    d["roles"] = _roles(a)
    return d


def artist(a: ArtistView) -> dict[str, Any]:
    """An artist in the folder-based API (getIndexes, search2, getStarred)."""
    return _clean({"id": a.id, "name": a.name, "starred": a.state.saved_at, "userRating": a.state.rating})
