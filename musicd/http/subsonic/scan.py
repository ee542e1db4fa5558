"""getScanStatus and startScan."""

from __future__ import annotations

from musicd.http.subsonic.context import Ctx, Reply, endpoint

__all__: list[str] = []


async def _status(ctx: Ctx) -> Reply:
    st = ctx.services.library.state
    if st.running:
        return {"scanStatus": {"scanning": True, "count": st.done}}
    counts = await ctx.services.catalog.counts()
    return {"scanStatus": {"scanning": False, "count": counts.get("tracks", 0)}}


@endpoint("getScanStatus")
async def get_scan_status(ctx: Ctx) -> Reply:
    return await _status(ctx)


@endpoint("startScan")
async def start_scan(ctx: Ctx) -> Reply:
    """Start a scan in the background (admins only); a scan already running is simply reported."""
    if ctx.services.start_scan(ctx.user):
        return {"scanStatus": {"scanning": True, "count": 0}}
    return await _status(ctx)
