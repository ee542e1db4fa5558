"""/v1/admin/scan: the library folders, the scan's live progress, and "scan now" (admins only)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, get, post
from litestar.status_codes import HTTP_202_ACCEPTED

from musicd.domain.models import User
from musicd.errors import ConflictError
from musicd.services.registry import Services

__all__ = ["AdminLibraryController"]


def _scan_state(services: Services, user: User) -> dict[str, Any]:
    st = services.library.admin_state(user)
    last = None
    if st.last is not None:
        last = {k: getattr(st.last, k) for k in ("added", "updated", "moved", "removed", "failed", "unchanged",
                                                  "healed_albums", "wall_s") if hasattr(st.last, k)}
    return {
        "running": st.running, "phase": st.phase, "done": st.done, "total": st.total,
        "started_at": st.started_at, "last": last, "last_error": st.last_error,
        "folders": [str(f) for f in services.library.folders],
    }


class AdminLibraryController(Controller):
    path = "/v1/admin/scan"
    tags = ["admin"]

    @get("/")
    async def scan_state(self, user: User, services: Services) -> dict[str, Any]:
        """The library folders and what the running (or the last) scan did: phase, done of total, summary."""
        return _scan_state(services, user)

    @post("/", status_code=HTTP_202_ACCEPTED)
    async def start_scan(self, user: User, services: Services) -> dict[str, Any]:
        """Start a scan in the background (409 when one is running); poll GET for its progress."""
        if not services.start_scan(user):
            raise ConflictError("a scan is already running", code="scan_running")
        state = _scan_state(services, user)
        # The task has not run yet: say it is starting, so a poller never sees a stale "idle".
        return {**state, "running": True, "phase": "starting" if state["phase"] == "idle" else state["phase"]}
