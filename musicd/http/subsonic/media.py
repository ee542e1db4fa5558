"""Media retrieval: stream, download, getCoverArt, getAvatar — sent by the same code as /v1 (Range and all)."""

from __future__ import annotations

from musicd.domain.catalog import AlbumView, ArtistView
from musicd.errors import NotFoundError
from musicd.http.streaming import IMAGE_CACHE, MediaResponse
from musicd.http.subsonic.context import Ctx, Reply, endpoint
from musicd.http.subsonic.envelope import ERR_NOT_FOUND, SubsonicError
from musicd.services.playback import LiveBody

__all__: list[str] = []


@endpoint("stream")
async def stream(ctx: Ctx) -> Reply:
    """`format` (raw = the file; mp3, aac, opus, ogg) and `maxBitRate` pick a tier; `timeOffset` seeks.

    Without either the file is sent as it is; a transcode without a known format is MP3. With
    `estimateContentLength` a transcode is finished before it is sent, so the length is exact.
    """
    track_id = ctx.req("id")
    pb = ctx.services.playback
    row = await pb.source(track_id)
    max_bitrate = ctx.int("maxBitRate", 0, 0) or None
    quality, codec = pb.subsonic_quality(row, ctx.opt("format") or None, max_bitrate)
    offset = float(ctx.int("timeOffset", 0, 0) or 0)
    head = ctx.request.method == "HEAD"
    body = await pb.open_track(track_id, quality, time_offset=offset, head=head,
                               range_header=ctx.request.headers.get("range"), codec=codec)
    if ctx.bool("estimateContentLength") and isinstance(body, LiveBody) and body.settle is not None and not head:
        settled = await body.settle()
        if settled is not None:
            body = settled
    return MediaResponse(body)


@endpoint("download")
async def download(ctx: Ctx) -> Reply:
    """The original file as an attachment (error 50 when downloads are off for the account)."""
    return MediaResponse(await ctx.services.playback.open_download(ctx.req("id"), ctx.user))


@endpoint("getCoverArt")
async def get_cover_art(ctx: Ctx) -> Reply:
    """A cover by its id, or by the id of a song, album or artist (some clients send those)."""
    cover_id = ctx.req("id")
    size = ctx.int("size", None, 1, 10_000)
    pb = ctx.services.playback
    try:
        return MediaResponse(await pb.image(cover_id, size), IMAGE_CACHE)
    except NotFoundError:
        pass
    try:
        item = await ctx.services.catalog.item(cover_id, ctx.user.id)
    except NotFoundError:
        raise SubsonicError(ERR_NOT_FOUND, f"no cover art with id {cover_id}") from None
    own = item.cover_id
    if own is None or own == cover_id:
        raise SubsonicError(ERR_NOT_FOUND, f"no cover art for {cover_id}")
    kind = "album" if isinstance(item, AlbumView) else "artist" if isinstance(item, ArtistView) else "song"
    try:
        return MediaResponse(await pb.image(own, size), IMAGE_CACHE)
    except NotFoundError:
        raise SubsonicError(ERR_NOT_FOUND, f"the cover of this {kind} is missing") from None


@endpoint("getAvatar")
async def get_avatar(ctx: Ctx) -> Reply:
    username = ctx.req("username")
    if await ctx.services.accounts.find(username) is None:
        raise SubsonicError(ERR_NOT_FOUND, f"no user {username!r}")
    raise SubsonicError(ERR_NOT_FOUND, "musicd keeps no avatars")
