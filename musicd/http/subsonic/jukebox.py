"""jukeboxControl: the user's speaker as Subsonic's jukebox (musicd.services.player_subsonic)."""

from __future__ import annotations

from musicd.http.subsonic.context import Ctx, Reply, endpoint
from musicd.http.subsonic.envelope import ERR_MISSING, SubsonicError
from musicd.http.subsonic.mappers import child

__all__: list[str] = []


@endpoint("jukeboxControl")
async def jukebox_control(ctx: Ctx) -> Reply:
    """`action` get, status, set, start, stop, skip, add, clear, remove, shuffle, setGain."""
    action = ctx.req("action")
    gain_raw = ctx.opt("gain")
    try:
        gain = float(gain_raw) if gain_raw is not None else None
    except ValueError:
        raise SubsonicError(ERR_MISSING, "gain must be a number between 0 and 1") from None
    st = await ctx.services.subsonic_playback.jukebox(
        ctx.user, action, ctx.all("id"), ctx.int("index"), ctx.int("offset", 0) or 0, gain)
    body = {"currentIndex": st.current_index, "playing": st.playing, "gain": st.gain, "position": st.position_s}
    if st.tracks is not None:
        return {"jukeboxPlaylist": {**body, "entry": [child(t) for t in st.tracks]}}
    return {"jukeboxStatus": body}
