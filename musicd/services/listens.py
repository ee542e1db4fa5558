"""Plays from every scrobbler: the ListenBrainz submissions (`single`, `playing_now`, `import`), history
imports, and the matching of listens to library tracks, again after every scan.

Where a matched listen's play goes:
- a `single` listen of the last week is a play like any player's: a `scrobble` event through
  PlayReportService / PlayEventService, so it counts, shows in recently played and reaches whatever follows
  play events (now playing, friend activity) exactly as a /v1 or Subsonic play does;
- imported listens (`import` submissions, a ListenBrainz export, a Last.fm CSV), older `single` listens,
  and listens matched after a rescan are history, not current listening: the listen store writes their
  plays in batches (ListenRepository.add / set_matches), one transaction per batch with the listens
  themselves, so a re-import or a retry never counts a play twice and a crash never leaves half a batch.
  The play-event path is the wrong door for them: it counts plays as they happen, a batch of years-old
  plays is not one, and one event per listen would cost a journal row each for a million-listen import.
- `playing_now` is a `start` event (now playing); it is not stored as a listen.

Every listen is kept in the listens table, matched or not; an unmatched one is matched after a scan.
The rule for guests is the rulebook's: they record no plays (musicd.services.rules).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator, Sequence

from musicd.domain.listens import Listen, ListenSummary, listen_identity
from musicd.domain.models import User
from musicd.errors import AuthError
from musicd.logs import get_logger
from musicd.services.listen_files import ListenFile, Rejected
from musicd.services.listen_matching import TrackIndex
from musicd.services.listen_tokens import ListenTokenService
from musicd.services.listenbrainz_payload import parse_submission
from musicd.services.play_events import MAX_EVENT_MS, PlayEvent, PlayEventService
from musicd.services.play_reports import PlayReportService
from musicd.services.rules import require_member
from musicd.store.listens import ListenCounts, ListenRepository, ListenRow

__all__ = ["LIVE_MAX_AGE_S", "ListenService", "ProgressFn"]

log = get_logger("musicd.listens")

LIVE_MAX_AGE_S = 7 * 24 * 3600  # a `single` listen older than this is history (batch path), not a play event
_LIVE_AHEAD_S = 5 * 60
_BATCH = 1000
_MAX_ERRORS = 20

ProgressFn = Callable[[int, int, ListenSummary], None]


def _device(client: str | None) -> str:
    return f"listenbrainz:{client or 'scrobbler'}"


class ListenService:
    def __init__(self, repo: ListenRepository, tokens: ListenTokenService, plays: PlayReportService,
                 events: PlayEventService, check_rate: Callable[[User, bool], None]) -> None:
        self.repo = repo
        self.tokens = tokens
        self.plays = plays
        self.events = events
        self._check_rate = check_rate
        self._index: TrackIndex | None = None
        self._index_lock = asyncio.Lock()
        self._rematch_lock = asyncio.Lock()

    # ---- the ListenBrainz API ----

    async def token_user(self, token: str | None) -> User | None:
        """validate-token: the user a token names, or None."""
        return await self.tokens.user_for_token(token or "")

    async def submit(self, authorization: str | None, raw: bytes) -> ListenSummary:
        """submit-listens: authenticate the `Authorization: Token` header, read the body as ListenBrainz
        does, then record the listens (all or none: one bad listen refuses the request)."""
        if not authorization:
            raise AuthError("You need to provide an Authorization header.", code="no_token")
        _, _, token = authorization.strip().partition(" ")
        if not token.strip():
            raise AuthError("Provided Authorization header is invalid.", code="invalid_token")
        user = await self.tokens.user_for_token(token.strip())
        if user is None:
            raise AuthError("Invalid authorization token.", code="invalid_token")
        require_member(user)  # guests record no plays
        self._check_rate(user, True)
        now = time.time()
        listen_type, listens = parse_submission(raw, now)
        if listen_type == "playing_now":
            await self._playing_now(user, listens[0], now)
            return ListenSummary(read=1)
        live = listen_type == "single" and now - LIVE_MAX_AGE_S <= listens[0].listened_at
        return await self.record(user, listens, "single" if listen_type == "single" else "import", live=live)

    async def _playing_now(self, user: User, listen: Listen, now: float) -> None:
        index = await self.index()
        found = index.match(listen)
        if found is None:
            return  # nothing of this library is playing: there is nothing to show
        await self.plays.submit(user, [PlayEvent(user.id, found[0], "start", now, device_id=_device(listen.client))])

    # ---- recording listens ----

    async def record(self, user: User, listens: Sequence[Listen], source: str, *, live: bool = False) -> ListenSummary:
        """Store listens (duplicates skipped) and count the plays of the matched ones; `live`: the plays go
        through the play-event path (a `single` listen of now), else they are written as a batch."""
        require_member(user)
        index = await self.index()
        rows: list[ListenRow] = []
        matched: list[tuple[Listen, str]] = []
        for li in listens:
            found = index.match(li)
            if found is not None:
                matched.append((li, found[0]))
            rows.append((user.id, li.listened_at, listen_identity(li.artist, li.title), li.artist, li.title,
                         li.release, li.duration_ms, li.recording_mbid, li.isrc, source, li.client,
                         found[0] if found else None, found[1] if found else None))
        result = await self.repo.add(rows, with_history=not live)
        summary = ListenSummary(read=len(rows), matched=result.matched, unmatched=result.inserted - result.matched,
                                duplicates=len(rows) - result.inserted)
        if live and result.inserted and matched:
            await self._live_plays(user, matched, index)
        return summary

    async def _live_plays(self, user: User, matched: list[tuple[Listen, str]], index: TrackIndex) -> None:
        now = time.time()
        events: list[PlayEvent] = []
        for li, tid in matched:
            # Whole seconds, so that `at - ms_played` (how the writer dates a play) is exactly listened_at.
            ms = int(li.duration_ms / 1000 if li.duration_ms else index.duration(tid)) * 1000
            if li.listened_at + ms / 1000 > now + _LIVE_AHEAD_S or ms > MAX_EVENT_MS:
                ms = 0  # an impossible length (a clock ahead, a day-long "track"): the play is dated when it began
            dev = _device(li.client)
            # The scrobbler said it was playing this (playing_now): that play is over, so it is no longer playing
            # now, and ending it first makes the scrobble a play of its own, dated when the listen started.
            playing = self.events.now_playing()
            if any(n.user_id == user.id and n.device_id == dev and n.track_id == tid for n in playing):
                events.append(PlayEvent(user.id, tid, "end", now, device_id=dev))
            # A listen up to an hour ahead is taken (ListenBrainz's rule); a play event at most _LIVE_AHEAD_S ahead.
            at = min(li.listened_at + ms / 1000, now + _LIVE_AHEAD_S)
            events.append(PlayEvent(user.id, tid, "scrobble", at, ms_played=ms, device_id=dev))
        await self.plays.submit(user, events)

    async def import_file(self, user: User, listen_file: ListenFile, progress: ProgressFn | None = None
                          ) -> ListenSummary:
        """Import a ListenBrainz export or a Last.fm CSV, a batch at a time (the file is read in a thread)."""
        require_member(user)
        source = "lastfm_csv" if listen_file.format == "lastfm" else "listenbrainz_export"
        total = ListenSummary()
        items = iter(listen_file)
        while batch := await asyncio.to_thread(_next_batch, items):
            listens = [b for b in batch if isinstance(b, Listen)]
            part = await self.record(user, listens, source) if listens else ListenSummary()
            for b in batch:
                if isinstance(b, Rejected):
                    part.read += 1
                    part.rejected += 1
                    if len(part.errors) < _MAX_ERRORS:
                        part.errors.append(b.reason)
            total.add(part)
            if progress:
                progress(listen_file.position, listen_file.total, total)
        log.info("listens.imported", user=user.username, format=listen_file.format, read=total.read,
                 matched=total.matched, unmatched=total.unmatched, duplicates=total.duplicates,
                 rejected=total.rejected)
        return total

    async def counts(self, user: User) -> ListenCounts:
        """How many listens the user has, matched to a track or not."""
        return await self.repo.counts(user.id)

    # ---- matching ----

    async def index(self) -> TrackIndex:
        """The library index for matching, built on first use and after every scan."""
        if self._index is None:
            async with self._index_lock:
                if self._index is None:
                    tracks = await self.repo.tracks()
                    self._index = await asyncio.to_thread(TrackIndex, tracks)
        return self._index

    async def on_scanned(self, _: object = None) -> None:
        """After a scan: a fresh index, and the listens nothing matched before are tried again."""
        self._index = None
        try:
            n = await self.rematch()
        except Exception as e:  # the scan is done either way; the next one tries again
            log.error("listens.rematch_failed", error=str(e))
            return
        if n:
            log.info("listens.rematched", matched=n)

    async def rematch(self) -> int:
        """Match the listens still unmatched against the library; how many found their track."""
        async with self._rematch_lock:
            done, after = 0, 0
            # The index of the whole library is built only when some listen waits for it: after most scans
            # none does, and building it cost a first scan of 10k tracks about half a CPU-second.
            while rows := await self.repo.unmatched(after, _BATCH):
                index = await self.index()
                after = rows[-1][0]
                found = []
                for lid, artist, title, release, duration_ms, mbid, isrc in rows:
                    m = index.match(Listen(0, artist, title, release, duration_ms, mbid, isrc))
                    if m is not None:
                        found.append((lid, m[0], m[1]))
                done += await self.repo.set_matches(found)
            return done


def _next_batch(items: Iterator[Listen | Rejected]) -> list[Listen | Rejected]:
    batch: list[Listen | Rejected] = []
    for item in items:
        batch.append(item)
        if len(batch) >= _BATCH:
            break
    return batch
