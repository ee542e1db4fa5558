"""The gPodder sync API's use-cases (devices, subscriptions, episode actions) on musicd's podcasts.

Podcast apps that sync with a gPodder server (AntennaPod, Kasts, gPodder) name a podcast by its feed
URL and an episode by its enclosure URL; musicd maps both to its shows and episodes. Subscriptions are
the user's (every device of a user sees the same list, like a gpodder.net sync group). A "play" action
on a known episode moves the user's one position (the newest report wins, so a late upload of an old
position changes nothing); actions on episodes musicd does not know, and the other actions, are kept
as sent and handed to the user's other devices.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from typing import Any

import msgspec

from musicd.domain.models import User
from musicd.errors import AuthError, ValidationError
from musicd.net.feeds import parse_opml, write_opml
from musicd.services.playback import PlaybackService
from musicd.services.podcasts import PodcastService
from musicd.services.rules import require_podcast_right
from musicd.store.podcast_users import GpodderAction, PodcastUserRepository
from musicd.store.podcasts import PodcastRepository

__all__ = ["GpodderService"]

_DEVICE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_ACTIONS = frozenset({"download", "play", "delete", "new", "flattr"})
_MAX_ACTIONS = 10_000
_MAX_URLS = 1000
_SESSION_ITEM = "gpodder-session"
_SESSION_TTL_S = 30 * 24 * 3600


class _Action(msgspec.Struct, forbid_unknown_fields=False):
    podcast: str
    episode: str
    action: str
    timestamp: str | None = None
    started: int | None = None
    position: int | None = None
    total: int | None = None
    device: str | None = None
    guid: str | None = None


def _parse_time(value: str | None, now_ms: int) -> int:
    """gPodder's ISO 8601 timestamp (UTC when it has no zone) in epoch ms; none means now."""
    if not value:
        return now_ms
    try:
        dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(f"timestamp {value[:40]!r} is not ISO 8601", code="bad_timestamp") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    # gPodder stamps have whole seconds: the action happened at some point of that second, so it is taken
    # as its end (a position reported in the same second as musicd's own last one is the newer).
    ms = int(dt.timestamp() * 1000) + (999 if dt.microsecond == 0 else 0)
    return min(ms, now_ms)


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def check_device(device_id: str) -> str:
    if not _DEVICE.match(device_id):
        raise ValidationError("a device id is 1-64 letters, digits, dots, dashes or underscores", code="bad_device")
    return device_id


def _urls(value: Any, name: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(u, str) for u in value):
        raise ValidationError(f"{name} must be a list of URLs", code="bad_request")
    if len(value) > _MAX_URLS:
        raise ValidationError(f"at most {_MAX_URLS} URLs at once", code="too_many_urls")
    return [u.strip() for u in value if u.strip()]


class GpodderService:
    def __init__(self, podcasts: PodcastService, users: PodcastUserRepository, repo: PodcastRepository,
                 playback: PlaybackService) -> None:
        self.podcasts = podcasts
        self.users = users
        self.repo = repo
        self.playback = playback

    # ---- sessions (the login endpoint's cookie) ----

    def session_token(self, user: User) -> str:
        return self.playback.stream_token(user.id, _SESSION_ITEM, _SESSION_TTL_S)

    async def user_for_session(self, token: str) -> User:
        return await self.playback.user_for_stream_token(token, _SESSION_ITEM)

    @staticmethod
    def check_owner(user: User, username: str) -> None:
        """The username in a gPodder URL must be the caller's own."""
        if username.casefold() != user.username.casefold():
            raise AuthError("this account may only sync its own data", code="wrong_user")

    # ---- devices ----

    async def devices(self, user: User) -> list[dict[str, Any]]:
        _, count = await self.users.subscribed_page(user.id, 0, 0)
        return [{"id": d, "caption": c, "type": t, "subscriptions": count}
                for d, c, t in await self.users.devices(user.id)]

    async def save_device(self, user: User, device_id: str, body: Any) -> None:
        check_device(device_id)
        body = body if isinstance(body, dict) else {}
        caption, kind = body.get("caption"), body.get("type")
        if (caption is not None and not isinstance(caption, str)) or (kind is not None and not isinstance(kind, str)):
            raise ValidationError("caption and type must be strings", code="bad_request")
        await self.users.save_device(user.id, device_id, caption and caption[:200], kind and kind[:40])

    # ---- subscriptions ----

    async def subscriptions(self, user: User) -> list[str]:
        rows, _ = await self.users.subscribed_page(user.id, 100_000, 0)
        return [s.feed_url for s in await self.repo.shows([r[0] for r in rows]) if s is not None]

    async def subscription_changes(self, user: User, device_id: str, since_s: int) -> dict[str, Any]:
        check_device(device_id)
        now = int(time.time())
        add, remove = await self.users.subscription_changes(user.id, max(0, since_s) * 1000)
        return {"add": add, "remove": remove, "timestamp": now}

    async def update_subscriptions(self, user: User, device_id: str, body: Any) -> dict[str, Any]:
        """Apply {add: [...], remove: [...]}; a feed musicd has not got yet needs the podcast right (then
        nothing of the request is applied) and is fetched now."""
        check_device(device_id)
        if not isinstance(body, dict):
            raise ValidationError("the body must be {\"add\": [...], \"remove\": [...]}", code="bad_request")
        raw_add, raw_remove = body.get("add", []), body.get("remove", [])
        add, remove = _urls(raw_add, "add"), _urls(raw_remove, "remove")
        if set(add) & set(remove):
            raise ValidationError("a URL is both added and removed", code="bad_request")
        await self._apply(user, add, remove)
        await self.users.save_device(user.id, device_id, None, None)
        updates = [[a, a.strip()] for a in raw_add if a != a.strip()]
        return {"timestamp": int(time.time()), "update_urls": updates}

    async def subscription_list(self, user: User, fmt: str) -> tuple[bytes, str]:
        """The simple API's whole list as json, txt or opml: (body, media type)."""
        urls = await self.subscriptions(user)
        if fmt == "json":
            return msgspec.json.encode(urls), "application/json"
        if fmt == "txt":
            return "".join(f"{u}\n" for u in urls).encode(), "text/plain; charset=utf-8"
        return write_opml("musicd subscriptions", [(u, u) for u in urls]), "text/x-opml"

    async def put_subscription_list(self, user: User, device_id: str, fmt: str, body: bytes) -> None:
        """The simple API's upload of a device's whole list (what is missing from it is unsubscribed)."""
        check_device(device_id)
        urls: Any
        if fmt == "json":
            try:
                urls = msgspec.json.decode(body) if body.strip() else []
            except msgspec.DecodeError:
                raise ValidationError("the body must be a JSON list of URLs", code="bad_body") from None
        elif fmt == "txt":
            urls = [u for u in body.decode("utf-8", "replace").splitlines() if u.strip()]
        else:
            urls = [u for _, u in parse_opml(body)]
        wanted = list(dict.fromkeys(_urls(urls, "subscriptions")))
        current = await self.subscriptions(user)
        await self._apply(user, [u for u in wanted if u not in current], [u for u in current if u not in wanted])
        await self.users.save_device(user.id, device_id, None, None)

    async def _apply(self, user: User, add: list[str], remove: list[str]) -> None:
        known = {u: await self.repo.channel_for_url(u) for u in add}
        if any(cid is None for cid in known.values()):
            require_podcast_right(user)
        for url, cid in known.items():
            if cid is None:
                await self.podcasts.add_feed(user, url)
        await self.podcasts.save_shows(user, [cid for cid in known.values() if cid is not None])
        gone = [cid for u in remove if (cid := await self.repo.channel_for_url(u)) is not None]
        await self.podcasts.remove_shows(user, gone)

    # ---- episode actions ----

    async def upload_actions(self, user: User, body: Any) -> dict[str, Any]:
        """Store a list of episode actions (all or none: a bad one refuses the upload, naming it)."""
        if not isinstance(body, list):
            raise ValidationError("the body must be a list of episode actions", code="bad_request")
        if len(body) > _MAX_ACTIONS:
            raise ValidationError(f"at most {_MAX_ACTIONS} actions at once", code="too_many_actions")
        try:
            actions = msgspec.convert(body, list[_Action])
        except msgspec.ValidationError as e:
            raise ValidationError(f"bad episode action: {e}", code="bad_request") from None
        now = int(time.time() * 1000)
        parsed = []
        for a in actions:
            if a.action.lower() not in _ACTIONS:
                raise ValidationError(f"unknown action {a.action[:20]!r}", code="bad_request")
            for n in (a.started, a.position, a.total):
                if n is not None and not 0 <= n <= 10**7:
                    raise ValidationError("started, position and total are seconds >= 0", code="bad_request")
            parsed.append((a, _parse_time(a.timestamp, now)))
        kept: list[GpodderAction] = []
        for a, at_ms in parsed:
            action = a.action.lower()
            eid = await self.repo.find_episode(a.podcast, a.episode, a.guid) if action in ("play", "new") else None
            if eid is not None and action == "play" and a.position is not None:
                played = True if a.total and a.position >= a.total else None
                await self.podcasts.set_position(user, eid, a.position * 1000, played=played, device=a.device,
                                                  at_ms=at_ms)
            elif eid is not None and action == "new":
                await self.users.set_progress(user.id, eid, 0, False, a.device, at_ms, now)
            else:
                kept.append(GpodderAction(a.podcast[:2000], a.episode[:2000], action, a.device and a.device[:64],
                                          a.started, a.position, a.total, at_ms))
        if kept:
            await self.users.add_actions(user.id, kept, now)
        return {"timestamp": now // 1000, "update_urls": []}

    async def actions(self, user: User, since_s: int, podcast: str | None, device: str | None,
                      aggregated: bool) -> dict[str, Any]:
        """Actions stored at or after `since_s`: every known position as a play action, then the kept ones."""
        now = int(time.time())
        since_ms = max(0, since_s) * 1000
        out: list[dict[str, Any]] = []
        for p in await self.users.progress_changes(user.id, since_ms, podcast):
            if device and p.device != device:
                continue
            total = round(p.duration_s) if p.duration_s else None
            position = total if p.played and total else p.position_ms // 1000
            entry: dict[str, Any] = {"podcast": p.feed_url, "episode": p.enclosure_url, "guid": p.guid,
                                     "action": "play", "timestamp": _iso(p.updated_ms), "started": 0,
                                     "position": position, "total": max(total or 0, position)}
            if p.device:
                entry["device"] = p.device
            out.append(entry)
        kept = await self.users.actions_since(user.id, since_ms, podcast, device)
        if aggregated:
            latest = {(a.podcast, a.episode): a for a in kept}
            kept = list(latest.values())
        for a in kept:
            entry = {"podcast": a.podcast, "episode": a.episode, "action": a.action, "timestamp": _iso(a.at_ms)}
            entry.update({k: v for k, v in (("device", a.device), ("started", a.started), ("position", a.position),
                                            ("total", a.total)) if v is not None})
            out.append(entry)
        return {"actions": out, "timestamp": now}
