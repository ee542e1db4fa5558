"""Offline listening: registered devices with limits, what each keeps offline, licences and heartbeats.

A device registers (`/v1/me/devices`) and gets its key and token once (both derived, never stored: see
offline_keys). The user marks sources for offline on it; the tracks are resolved from the sources at every
licence, so the device follows them. Whenever online, the device sends a heartbeat and gets a signed licence
listing what it may keep; what the licence no longer lists it deletes. The rules (who may download) are the
rulebook's (services.rules). Serving the containers and taking offline plays is services.offline_media's.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from musicd.config import OfflineConfig
from musicd.domain.ids import random_id
from musicd.domain.models import User
from musicd.domain.tiers import QUALITIES
from musicd.errors import AuthError, ConflictError, ForbiddenError, NotFoundError, ValidationError
from musicd.logs import get_logger
from musicd.services.accounts import AccountService
from musicd.services.offline_keys import LicenceItem, LicencePayload, OfflineKeys, SignedLicence, b64e
from musicd.services.playlists import PlaylistService
from musicd.services.rules import is_admin, may_download, require_admin, require_download, require_member
from musicd.store.offline import OfflineDeviceRecord, OfflineMarkRecord, OfflineRepository

__all__ = ["DEVICE_KINDS", "SOURCE_TYPES", "Heartbeat", "OfflineService", "Registration"]

log = get_logger("musicd.offline")

DEVICE_KINDS = ("browser", "phone", "tablet", "computer", "other")
SOURCE_TYPES = ("playlist", "album", "liked")
_ITEMS_CACHE_S = 10.0


class Registration:
    """A new device and its secrets, shown this once."""

    def __init__(self, device: OfflineDeviceRecord, key: bytes, token: bytes, public_key: bytes) -> None:
        self.device = device
        self.key = b64e(key)
        self.token = b64e(token)
        self.licence_public_key = b64e(public_key)


class Heartbeat:
    def __init__(self, licence: SignedLicence, payload: LicencePayload, delete: list[str]) -> None:
        self.licence = licence
        self.payload = payload
        self.delete = delete


def _name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 100:
        raise ValidationError("name: 1 to 100 characters", code="invalid_name")
    return name


class OfflineService:
    def __init__(self, repo: OfflineRepository, keys: OfflineKeys, accounts: AccountService,
                 playlists: PlaylistService, cfg: OfflineConfig) -> None:
        self.repo = repo
        self.keys = keys
        self.accounts = accounts
        self.playlists = playlists
        self.cfg = cfg
        self._items: dict[str, tuple[list[LicenceItem], float]] = {}

    def forget_user(self, user_id: str | None) -> None:
        """A user changed (bus consumer "accounts"): a changed download right shows in the next download at once."""
        self._items.clear()

    # ---- devices ----

    async def register(self, user: User, name: str, kind: str) -> Registration:
        """A new offline device, within the user's limit of active devices."""
        require_download(user)
        if kind not in DEVICE_KINDS:
            raise ValidationError(f"kind must be one of {', '.join(DEVICE_KINDS)}", code="invalid_kind")
        device_id = random_id()
        if not await self.repo.insert_device(device_id, user.id, _name(name), kind, self.cfg.max_devices):
            raise ConflictError(f"at most {self.cfg.max_devices} offline devices per user; revoke one first",
                                code="offline_device_limit")
        rec = await self.repo.device(device_id)
        assert rec is not None
        log.info("offline.device_registered", user=user.id, device=device_id)
        return Registration(rec, self.keys.device_key(user.id, device_id, rec.key_version),
                            self.keys.device_token(user.id, device_id), self.keys.public_key_raw)

    async def devices(self, user: User) -> list[OfflineDeviceRecord]:
        return await self.repo.devices(user.id)

    async def all_devices(self, user: User) -> list[OfflineDeviceRecord]:
        """Every user's devices (admins)."""
        require_admin(user)
        return await self.repo.devices()

    async def device(self, user: User, device_id: str, *, active: bool = False) -> OfflineDeviceRecord:
        """One of the user's devices (an admin may name anyone's); 404 for another user's."""
        rec = await self.repo.device(device_id)
        if rec is None or (rec.user_id != user.id and not is_admin(user)):
            raise NotFoundError("no such device", code="device_not_found")
        if active and rec.revoked_at is not None:
            raise ConflictError("this device was revoked", code="device_revoked")
        return rec

    async def rename(self, user: User, device_id: str, name: str) -> OfflineDeviceRecord:
        require_member(user)
        rec = await self.device(user, device_id)
        await self.repo.rename(rec.id, _name(name))
        return await self.device(user, device_id)

    async def revoke(self, user: User, device_id: str) -> OfflineDeviceRecord:
        """Revoke a device (its owner, or an admin): its key version goes up and its next heartbeat wipes it."""
        require_member(user)
        rec = await self.device(user, device_id)
        await self.repo.revoke(rec.id, user.id)
        self._items.pop(rec.id, None)
        log.info("offline.device_revoked", device=rec.id, by=user.id)
        return await self.device(user, device_id)

    # ---- marks ----

    async def mark(self, user: User, device_id: str, source_type: str, source_id: str, quality: str
                   ) -> OfflineMarkRecord:
        """Keep a source offline on a device, in a quality, within the device's track limit."""
        require_download(user)
        rec = await self.device(user, device_id, active=True)
        if rec.user_id != user.id:
            raise ForbiddenError("only the device's owner marks items for it", code="not_device_owner")
        if source_type not in SOURCE_TYPES:
            raise ValidationError(f"type must be one of {', '.join(SOURCE_TYPES)}", code="invalid_source")
        if quality not in QUALITIES:
            raise ValidationError(f"quality must be one of {', '.join(QUALITIES)}", code="invalid_quality")
        source_id = "" if source_type == "liked" else source_id
        tracks = await self._source_tracks(user, source_type, source_id, strict=True)
        marks = [m for m in await self.repo.marks(rec.id) if (m.source_type, m.source_id) != (source_type, source_id)]
        have = {i.track_id for i in await self._resolve(user, marks)}
        if len(have | set(tracks)) > self.cfg.max_tracks_per_device:
            raise ConflictError(f"at most {self.cfg.max_tracks_per_device} tracks per device",
                                code="offline_track_limit")
        await self.repo.put_mark(rec.id, source_type, source_id, quality)
        self._items.pop(rec.id, None)
        return next(m for m in await self.repo.marks(rec.id) if (m.source_type, m.source_id) == (source_type,
                                                                                                    source_id))

    async def unmark(self, user: User, device_id: str, source_type: str, source_id: str) -> None:
        require_member(user)
        rec = await self.device(user, device_id)
        if not await self.repo.delete_mark(rec.id, source_type, "" if source_type == "liked" else source_id):
            raise NotFoundError("this source is not marked for offline on this device", code="mark_not_found")
        self._items.pop(rec.id, None)

    async def offline_state(self, user: User, device_id: str
                            ) -> tuple[OfflineDeviceRecord, list[tuple[OfflineMarkRecord, list[str]]], set[str]]:
        """A device, its marks with their tracks now, and what it last said it holds (its progress)."""
        rec = await self.device(user, device_id)
        owner = user if rec.user_id == user.id else await self.accounts.get(rec.user_id)
        out = []
        for m in await self.repo.marks(rec.id):
            out.append((m, [i.track_id for i in await self._resolve(owner, [m])]))
        return rec, out, await self.repo.held(rec.id)

    async def _source_tracks(self, user: User, source_type: str, source_id: str, strict: bool = False) -> list[str]:
        try:
            if source_type == "playlist":
                return await self.playlists.track_ids(user, source_id)
            if source_type == "album":
                found = await self.repo.album_tracks(source_id)
                if found is None:
                    raise NotFoundError(f"no album with id {source_id}", code="album_not_found")
                return found
            return await self.repo.liked_tracks(user.id, self.cfg.max_tracks_per_device + 1)
        except (NotFoundError, ForbiddenError):
            if strict:
                raise
            return []  # a playlist deleted or no longer shared, an album gone: nothing of it stays offline

    async def _resolve(self, user: User, marks: Sequence[OfflineMarkRecord]) -> list[LicenceItem]:
        items: dict[str, LicenceItem] = {}
        for m in marks:
            for t in await self._source_tracks(user, m.source_type, m.source_id):
                items.setdefault(t, LicenceItem(t, m.quality))
        present = await self.repo.existing_tracks(list(items))  # playlist entries of removed tracks go
        return [i for t, i in items.items() if t in present][: self.cfg.max_tracks_per_device]

    # ---- the device's side: authentication, heartbeats ----

    async def authenticate(self, device_id: str, token: str) -> tuple[OfflineDeviceRecord, User]:
        """The device and its owner for a device token (a revoked device still authenticates, to learn it)."""
        rec = await self.repo.device(device_id)
        if rec is None:
            raise AuthError("this device is not registered (or its account was deleted)", code="device_unknown")
        if not self.keys.check_token(rec.user_id, rec.id, token):
            raise AuthError("invalid device token", code="invalid_device_token")
        return rec, await self.accounts.get(rec.user_id)

    def _status(self, rec: OfflineDeviceRecord, user: User) -> tuple[str, str | None]:
        if rec.revoked_at is not None:
            return "revoked", "revoked_by_admin" if rec.revoked_by not in (None, rec.user_id) else "device_revoked"
        if user.disabled:
            return "suspended", "account_disabled"
        if not may_download(user):
            return "suspended", "download_not_allowed"
        return "active", None

    async def heartbeat(self, device_id: str, token: str, held: Sequence[str] | None = None) -> Heartbeat:
        """A fresh signed licence for the device and what it holds that it must delete."""
        rec, user = await self.authenticate(device_id, token)
        status, reason = self._status(rec, user)
        items = await self._resolve(user, await self.repo.marks(rec.id)) if status == "active" else []
        if held is not None and len(held) > self.cfg.max_tracks_per_device * 2:
            raise ValidationError("too many held tracks reported", code="invalid_heartbeat")
        licensed = {i.track_id for i in items}
        seq = await self.repo.next_licence(rec.id, [t for t in held if t in licensed] if held is not None else None)
        now = int(time.time())
        payload = LicencePayload(device_id=rec.id, user_id=rec.user_id, key_version=rec.key_version, seq=seq,
                                 issued_at=now, expires_at=now + round(self.cfg.licence_days * 86400),
                                 status=status, reason=reason, items=items)
        self._items[rec.id] = (items, time.monotonic())
        return Heartbeat(self.keys.sign(payload), payload, sorted({t for t in held or () if t not in licensed}))

    async def licensed_item(self, device_id: str, token: str, track_id: str
                            ) -> tuple[OfflineDeviceRecord, User, LicenceItem]:
        """What a device may download now: active, allowed, and the track in its current items."""
        rec, user = await self.authenticate(device_id, token)
        status, reason = self._status(rec, user)
        if status != "active":
            raise ForbiddenError(f"this device may not download ({reason})", code=reason or "device_revoked")
        hit = self._items.get(rec.id)
        if hit is None or time.monotonic() - hit[1] > _ITEMS_CACHE_S:
            hit = self._items[rec.id] = (await self._resolve(user, await self.repo.marks(rec.id)), time.monotonic())
        for item in hit[0]:
            if item.track_id == track_id:
                return rec, user, item
        raise NotFoundError("this track is not marked for offline on this device", code="not_licensed")

    def licence_public_key(self) -> str:
        """The Ed25519 public key that verifies licences (raw, base64url)."""
        return b64e(self.keys.public_key_raw)

    def device_key(self, rec: OfflineDeviceRecord) -> bytes:
        return self.keys.device_key(rec.user_id, rec.id, rec.key_version)

