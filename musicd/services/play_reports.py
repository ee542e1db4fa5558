"""What players report, from every API, turned into play events for the caller: the web player's
`/v1/me/player/events`, Subsonic's `scrobble` and OpenSubsonic's `reportPlayback`.

The rule is the rulebook's (musicd.services.rules): a guest's listening is not recorded, neither in the
history, nor in everyone's play counts, nor in now playing; a report from a guest is refused. The values
of each event are checked by PlayEventService.submit.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from musicd.domain.models import User
from musicd.errors import NotFoundError, ValidationError
from musicd.services.catalog import CatalogService
from musicd.services.play_events import MAX_EVENT_MS, PlayEvent, PlayEventService
from musicd.services.rules import require_member

if TYPE_CHECKING:
    from musicd.services.player_subsonic import SubsonicPlayback

__all__ = ["PLAYBACK_STATES", "EpisodeReports", "PlayReportService"]

# OpenSubsonic playbackReport states and the play event each one is.
PLAYBACK_STATES = {"starting": "start", "playing": "progress", "paused": "progress", "stopped": "end"}


class EpisodeReports(Protocol):
    async def report_playback(self, user: User, episode_id: str, position_ms: int, state: str,
                              client: str | None) -> None: ...


def _device(client: str | None) -> str:
    # Each Subsonic app counts as one device of the user, so two apps playing at once both show.
    return f"subsonic:{(client or 'unknown')[:64]}"


class PlayReportService:
    def __init__(self, events: PlayEventService, catalog: CatalogService) -> None:
        self.events = events
        self.catalog = catalog
        self.playback: SubsonicPlayback | None = None  # reports also feed the server-held playback state
        self._episodes: EpisodeReports | None = None

    def attach_episodes(self, episodes: EpisodeReports) -> None:
        """Reports of podcast episodes (mediaType=podcast) move their listening position (services/podcasts.py)."""
        self._episodes = episodes

    async def submit(self, user: User, events: Sequence[PlayEvent]) -> int:
        """Record the user's own play events (start, progress, end); how many were taken (and journaled)."""
        require_member(user)
        if any(e.user_id != user.id for e in events):
            raise ValidationError("play events are reported for oneself", code="invalid_event")
        return await self.events.submit(events)

    async def scrobble(self, user: User, track_ids: Sequence[str], times_ms: Sequence[int] = (),
                       submission: bool = True, client: str | None = None) -> None:
        """Subsonic scrobble: finished plays (`submission`), at `times_ms` when given, else now playing."""
        require_member(user)
        if not track_ids:
            raise ValidationError("required parameter is missing: id", code="missing_parameter")
        found = await self.catalog.tracks(track_ids)
        for i, t in zip(track_ids, found, strict=True):
            if t is None:
                raise NotFoundError(f"no song with id {i}", code="track_not_found")
        now = time.time()
        events = []
        for n, t in enumerate(found):
            assert t is not None
            at = times_ms[n] / 1000 if n < len(times_ms) else now
            if submission:  # the listening time only says how long the track is: a scrobble counts at once
                events.append(PlayEvent(user.id, t.id, "scrobble", at, device_id=_device(client),
                                        ms_played=min(round(t.duration * 1000), MAX_EVENT_MS)))
            else:
                events.append(PlayEvent(user.id, t.id, "start", at, device_id=_device(client)))
        await self.submit(user, events)

    async def report_playback(self, user: User, media_id: str, media_type: str, position_ms: int, state: str,
                              ignore_scrobble: bool = False, client: str | None = None) -> None:
        """OpenSubsonic playbackReport: the player's state and position; the play counts once long enough."""
        require_member(user)
        if media_type == "podcast" and self._episodes is not None:  # an episode: its one listening position
            await self._episodes.report_playback(user, media_id, position_ms, state, client)
            return
        if media_type != "song":
            raise NotFoundError("only songs and podcast episodes can be reported", code="track_not_found")
        if state not in PLAYBACK_STATES:
            raise ValidationError(f"state must be one of {', '.join(PLAYBACK_STATES)}", code="invalid_event")
        await self.catalog.track(media_id)
        position = max(0, position_ms)
        # Without a separate clock per session the position is the best estimate of what was heard.
        played = 0 if ignore_scrobble else position
        await self.submit(user, [PlayEvent(user.id, media_id, PLAYBACK_STATES[state], time.time(), position_ms=position,
                                     ms_played=played, device_id=_device(client))])
        if self.playback is not None:
            await self.playback.reported(user, client, media_id, position, state)
