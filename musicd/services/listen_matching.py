"""Which library track a listen names: by MusicBrainz recording id, by ISRC, else by normalised artist and
title, with the duration (when the listen gives one) deciding between versions and ruling out a
different recording of the same name."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from musicd.domain.listens import Listen, name_key, title_variants
from musicd.domain.tags import split_artists
from musicd.store.listens import TrackRow

__all__ = ["DURATION_SLACK_S", "TrackIndex"]

# A listen's duration and a track's may differ by encoder padding, a player's rounding or a fade: up to
# 10 s, or 5 % of a long track.
DURATION_SLACK_S = 10.0


def _artist_keys(artist: str) -> list[str]:
    keys = [name_key(artist)]
    main = split_artists(artist)
    if main:
        k = name_key(main[0])
        if k and k not in keys:
            keys.append(k)
    return [k for k in keys if k]


class TrackIndex:
    """An in-memory index of the library for matching (built once per scan: a few MB for 100k tracks)."""

    def __init__(self, tracks: Sequence[TrackRow]) -> None:
        self.size = len(tracks)
        self._mbid: dict[str, str] = {}
        self._isrc: dict[str, str] = {}
        self._names: dict[tuple[str, str], list[tuple[str, float, str]]] = defaultdict(list)
        self._durations: dict[str, float] = {}
        for tid, title, artist_display, album, duration, isrc, mbid, mains in tracks:
            self._durations[tid] = float(duration)
            if mbid:
                self._mbid.setdefault(mbid.strip().lower(), tid)
            if isrc:
                self._isrc.setdefault(isrc.strip().upper(), tid)
            artists = _artist_keys(artist_display)
            for name in (mains or "").split("\x1f"):
                k = name_key(name)
                if k and k not in artists:
                    artists.append(k)
            entry = (tid, float(duration), name_key(album))
            for a in artists:
                for t in title_variants(title):
                    if t:
                        self._names[(a, t)].append(entry)

    def duration(self, track_id: str) -> float:
        """The track's duration in seconds (0 for a track not in the index)."""
        return self._durations.get(track_id, 0.0)

    def match(self, listen: Listen) -> tuple[str, str] | None:
        """(track id, how: "mbid", "isrc" or "name"), or None when no track fits."""
        if listen.recording_mbid and (tid := self._mbid.get(listen.recording_mbid.lower())):
            return tid, "mbid"
        if listen.isrc and (tid := self._isrc.get(listen.isrc.upper())):
            return tid, "isrc"
        seen: set[str] = set()
        cands: list[tuple[str, float, str]] = []
        for a in _artist_keys(listen.artist):
            for t in title_variants(listen.title):
                for c in self._names.get((a, t), ()):
                    if c[0] not in seen:
                        seen.add(c[0])
                        cands.append(c)
        if not cands:
            return None
        if listen.duration_ms:
            want = listen.duration_ms / 1000
            cands = [c for c in cands if abs(c[1] - want) <= max(DURATION_SLACK_S, 0.05 * want)]
            if not cands:
                return None  # same name, another recording (a live take, an edit)
        album = name_key(listen.release) if listen.release else None
        want_s = listen.duration_ms / 1000 if listen.duration_ms else None
        best = min(cands, key=lambda c: (album is not None and c[2] != album,
                                          abs(c[1] - want_s) if want_s is not None else 0.0, c[0]))
        return best[0], "name"
