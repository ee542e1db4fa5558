"""Offline media: containers made for a device on the fly, the tiers made ready in the background, and the
plays a device made while offline.

A container is sealed from the track's file in the licensed quality (a cached tier, or the original) as it
is sent; only the segments a `Range` covers are sealed, so a resumed download costs what it fetches. Its
salt comes from the device key and the source's identity (offline_keys.file_salt), so the same request
gives the same bytes until the source changes (then the ETag changes too, and If-Range sends it whole).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

from musicd.domain.models import User
from musicd.errors import ForbiddenError, ValidationError
from musicd.logs import get_logger
from musicd.services.offline import OfflineService
from musicd.services.offline_container import DEFAULT_SEGMENT, Header, Sealer
from musicd.services.play_events import PlayEvent
from musicd.services.play_reports import PlayReportService
from musicd.services.playback import FileBody, LiveBody, PlaybackService
from musicd.store.offline import OfflineMarkRecord

__all__ = ["CONTAINER_TYPE", "ContainerBody", "OfflineMedia", "OfflinePlay"]

log = get_logger("musicd.offline")

CONTAINER_TYPE = "application/vnd.musicd.offline"
_SEGMENTS_PER_CHUNK = 16  # about 1 MiB sealed per thread hand-off


@dataclass(frozen=True, slots=True)
class ContainerBody:
    size: int
    etag: str
    quality: str
    content_type: str  # of the audio inside
    read: Callable[[int, int], AsyncIterator[bytes]]  # (first, last) inclusive -> the bytes


@dataclass(frozen=True, slots=True)
class OfflinePlay:
    track_id: str
    played_at: float  # POSIX seconds, when the play started
    ms_played: int


class OfflineMedia:
    def __init__(self, offline: OfflineService, playback: PlaybackService, reports: PlayReportService,
                 spawn: Callable[[str, Coroutine[Any, Any, Any]], Any]) -> None:
        self.offline = offline
        self.playback = playback
        self.reports = reports
        self.spawn = spawn
        self._warming: set[str] = set()

    async def _file(self, track_id: str, quality: str) -> FileBody:
        body = await self.playback.open_track(track_id, quality)
        if isinstance(body, LiveBody):
            done = await body.settle() if body.settle else None
            if done is None:
                raise ValidationError("the tier could not be made", code="transcode_failed")
            return done
        assert isinstance(body, FileBody)
        return body

    async def container(self, device_id: str, token: str, track_id: str) -> ContainerBody:
        """The container of a licensed track for this device."""
        rec, _, item = await self.offline.licensed_item(device_id, token, track_id)
        src = await self._file(track_id, item.quality)
        key = self.offline.device_key(rec)
        salt, prefix = self.offline.keys.file_salt(key, track_id, item.quality, src.etag)
        header = Header(DEFAULT_SEGMENT, src.size, rec.key_version, salt, prefix)
        sealer = Sealer(key, header)
        etag = f'"{salt.hex()[:24]}"'

        async def read(first: int, last: int) -> AsyncIterator[bytes]:
            fd = await asyncio.to_thread(os.open, src.path, os.O_RDONLY)
            try:
                def plain(off: int, n: int) -> bytes:
                    data = os.pread(fd, n, off)
                    if len(data) != n:
                        raise OSError("the source file changed while it was sent")
                    return data

                step = _SEGMENTS_PER_CHUNK * (DEFAULT_SEGMENT + 16)
                pos = first
                while pos <= last:
                    end = min(last, pos + step - 1)
                    yield await asyncio.to_thread(sealer.byte_range, pos, end, plain)
                    pos = end + 1
            finally:
                os.close(fd)

        return ContainerBody(header.total_size, etag, item.quality, src.content_type, read)

    # ---- tiers made ready before the device asks ----

    async def mark(self, user: User, device_id: str, source_type: str, source_id: str, quality: str
                   ) -> OfflineMarkRecord:
        """Mark a source for offline on a device (services.offline.mark) and start making its tiers."""
        mark = await self.offline.mark(user, device_id, source_type, source_id, quality)
        self.warm(user, device_id)
        return mark

    def warm(self, user: User, device_id: str) -> None:
        """Make the tiers of a device's items in the background (one track at a time, at low priority)."""
        if device_id in self._warming:
            return
        self._warming.add(device_id)
        self.spawn(f"offline-warm-{device_id}", self._warm_device(user, device_id))

    async def _warm_device(self, user: User, device_id: str) -> None:
        try:
            _, marks, _ = await self.offline.offline_state(user, device_id)
            for m, tracks in marks:
                for t in tracks:
                    try:
                        await self._file(t, m.quality)
                    except Exception as e:  # a failed tier fails its download later, with its own error
                        log.warning("offline.warm_failed", track=t, error=str(e))
        finally:
            self._warming.discard(device_id)

    # ---- plays made offline ----

    async def report_plays(self, device_id: str, token: str, plays: Sequence[OfflinePlay]) -> int:
        """Plays a device made offline, through the play reports (the rulebook's rules apply): each as its
        start and its end, at the times they happened."""
        rec, user = await self.offline.authenticate(device_id, token)
        if user.disabled:
            raise ForbiddenError("this account is disabled", code="account_disabled")
        horizon = time.time() - self.offline.cfg.licence_days * 86400 - 86400
        events = []
        for p in plays:
            if not horizon <= p.played_at <= time.time() + 60 or p.ms_played < 0:
                raise ValidationError("played_at must be within the licence's time and ms_played >= 0",
                                      code="invalid_event")
            device = f"offline:{rec.id}"
            events.append(PlayEvent(user.id, p.track_id, "start", p.played_at, device_id=device))
            events.append(PlayEvent(user.id, p.track_id, "end", p.played_at + p.ms_played / 1000,
                                    position_ms=p.ms_played, ms_played=p.ms_played, device_id=device))
        return await self.reports.submit(user, events) // 2
