"""getLyrics (by artist and title, or OpenSubsonic's songId) and getLyricsBySongId (structured, synced)."""

from __future__ import annotations

from typing import Any

from musicd.domain.catalog import TrackView
from musicd.domain.tags import fold_key
from musicd.http.subsonic.context import Ctx, Reply, endpoint
from musicd.services.lyrics import LyricsEntry

__all__: list[str] = []


def _same(a: str, b: str) -> bool:
    return fold_key(a) == fold_key(b)


async def _find_track(ctx: Ctx, artist: str | None, title: str | None) -> TrackView | None:
    """The best track with lyrics for an artist and title as a client typed them."""
    if not title:
        return None
    res = await ctx.services.search.find(f"{artist or ''} {title}".strip(), ["track"], 20, 0, ctx.user.id)
    tracks = [t for t in res["track"].items if t.has_lyrics and _same(t.title, title)]
    if artist:
        by_artist = [t for t in tracks if _same(t.artist_display, artist)
                     or any(_same(a.name, artist) for a in t.artists)]
        tracks = by_artist or tracks
    return tracks[0] if tracks else None


@endpoint("getLyrics")
async def get_lyrics(ctx: Ctx) -> Reply:
    """Plain lyrics; an element with an empty value when there are none (typed clients need the element)."""
    song_id = ctx.opt("songId")
    if song_id:
        track: TrackView | None = await ctx.services.catalog.track(song_id, ctx.user.id)
    else:
        track = await _find_track(ctx, ctx.opt("artist"), ctx.opt("title"))
    lyrics = await ctx.services.lyrics.pick(track.id) if track else None
    if track is None or lyrics is None:
        return {"lyrics": {"artist": ctx.opt("artist"), "title": ctx.opt("title"), "value": ""}}
    return {"lyrics": {"artist": track.artist_display, "title": track.title, "value": lyrics.plain}}


def _structured(track: TrackView, ly: LyricsEntry, kind: str | None) -> dict[str, Any]:
    """One language as OpenSubsonic structuredLyrics: the file's times, and the LRC offset as `offset`."""
    entry: dict[str, Any] = {"displayArtist": track.artist_display, "displayTitle": track.title,
                             "lang": ly.lang or "und", "synced": ly.synced}
    if ly.parsed is not None and ly.parsed.offset_ms:
        entry["offset"] = ly.parsed.offset_ms
    if kind is not None:
        entry["kind"] = kind  # songLyrics v2
    if ly.parsed is not None:
        entry["line"] = [{"start": ln.start_ms, "value": ln.text} for ln in ly.parsed.lines]
    else:
        entry["line"] = [{"value": line} for line in ly.plain.splitlines()]
    return entry


@endpoint("getLyricsBySongId")
async def get_lyrics_by_song_id(ctx: Ctx) -> Reply:
    """Every language the track has, the main one first (with `enhanced`: kind main, then translation)."""
    track = await ctx.services.catalog.track(ctx.req("id"), ctx.user.id)
    found = await ctx.services.lyrics.all(track.id)
    enhanced = ctx.bool("enhanced")
    return {"lyricsList": {"structuredLyrics": [
        _structured(track, ly, ("main" if i == 0 else "translation") if enhanced else None)
        for i, ly in enumerate(found)]}}
