"""/v1/admin/scan: the library folders, the scan's live progress, and "scan now" (admins only)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, get, post
from litestar.status_codes import HTTP_202_ACCEPTED

from musicd.errors import ConflictError
from musicd.http.auth import admin_only
from musicd.logs import get_logger
from musicd.services.registry import Services

__all__ = ["AdminLibraryController"]

log = get_logger("musicd.http")

_TASK = "scan-now"


def _scan_state(services: Services) -> dict[str, Any]:
    st = services.library.state
    last = None
    if st.last is not None:
        last = {k: getattr(st.last, k) for k in ("added", "updated", "moved", "removed", "failed", "unchanged",
                                                  "healed_albums", "wall_s") if hasattr(st.last, k)}
    return {
        "running": st.running, "phase": st.phase, "done": st.done, "total": st.total,
        "started_at": st.started_at, "last": last, "last_error": st.last_error,
        "folders": [str(f) for f in services.library.folders],
    }


async def _scan(services: Services) -> None:
    try:
        await services.library.scan()
    except ConflictError:
        pass  # another scan started first: its progress is what the page shows
    except Exception as e:  # the state keeps the error for the page; the server keeps serving
        log.error("scan.failed", error=str(e))


class AdminLibraryController(Controller):
    path = "/v1/admin/scan"
    tags = ["admin"]
    guards = [admin_only]

    @get("/")
    async def scan_state(self, services: Services) -> dict[str, Any]:
        """The library folders and what the running (or the last) scan did: phase, done of total, summary."""
        return _scan_state(services)

    @post("/", status_code=HTTP_202_ACCEPTED)
    async def start_scan(self, services: Services) -> dict[str, Any]:
        """Start a scan in the background (409 when one is running); poll GET for its progress."""
        if services.library.state.running:
            raise ConflictError("a scan is already running", code="scan_running")
        services.spawn(_TASK, _scan(services))
        state = _scan_state(services)
        # The task has not run yet: say it is starting, so a poller never sees a stale "idle".
        return {**state, "running": True, "phase": "starting" if state["phase"] == "idle" else state["phase"]}


