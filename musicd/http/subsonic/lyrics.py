"""getLyrics (by artist and title, or OpenSubsonic's songId) and getLyricsBySongId (structured, synced)."""

from __future__ import annotations

from typing import Any

from musicd.domain.catalog import TrackView
from musicd.domain.lyrics import parse_lrc, plain_text
from musicd.domain.tags import fold_key
from musicd.http.subsonic.context import Ctx, Reply, endpoint

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
    lyrics = await ctx.services.catalog.lyrics(track.id) if track else None
    if track is None or lyrics is None:
        return {"lyrics": {"artist": ctx.opt("artist"), "title": ctx.opt("title"), "value": ""}}
    return {"lyrics": {"artist": track.artist_display, "title": track.title, "value": plain_text(lyrics.text)}}


@endpoint("getLyricsBySongId")
async def get_lyrics_by_song_id(ctx: Ctx) -> Reply:
    track = await ctx.services.catalog.track(ctx.req("id"), ctx.user.id)
    lyrics = await ctx.services.catalog.lyrics(track.id)
    if lyrics is None:
        return {"lyricsList": {"structuredLyrics": []}}
    entry: dict[str, Any] = {"displayArtist": track.artist_display, "displayTitle": track.title,
                             "lang": lyrics.lang or "und", "synced": lyrics.synced}
    if ctx.bool("enhanced"):
        entry["kind"] = "main"  # songLyrics v2; musicd has no word-level timing, so no cueLine
    if lyrics.synced:
        entry["line"] = [{"start": ms, "value": text} for ms, text in parse_lrc(lyrics.text)]
    else:
        entry["line"] = [{"value": line} for line in plain_text(lyrics.text).splitlines()]
    return {"lyricsList": {"structuredLyrics": [entry]}}
