"""/v1/admin/scan/skipped: the files the scans could not read and the folders they could not open, with
the reasons (admins only; musicd.services.scan_report)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, get
from litestar.params import Parameter

from musicd.domain.models import User
from musicd.http.bounds import Offset
from musicd.services.registry import Services
from musicd.services.scan_report import MAX_SKIPPED_PAGE

__all__ = ["AdminScanReportController"]

Limit = Annotated[int, Parameter(ge=1, le=MAX_SKIPPED_PAGE, description=f"Items per page (1-{MAX_SKIPPED_PAGE})")]


class AdminScanReportController(Controller):
    path = "/v1/admin/scan/skipped"
    tags = ["admin"]

    @get("/")
    async def skipped(self, user: User, services: Services, limit: Limit = 100, offset: Offset = 0
                      ) -> dict[str, Any]:
        """What the scans skipped: files by path (with the reason), the last scan's unreadable folders first."""
        page = await services.scan_report.skipped(user, limit, offset)
        return {"items": [msgspec.structs.asdict(i) for i in page.items], "total": page.total, "limit": page.limit,
                "offset": page.offset}
