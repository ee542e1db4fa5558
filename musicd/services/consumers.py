"""Who follows the event bus: the search index, the metrics, the media caches, the background passes
(pre-transcoder, analyser), listen rematching, the account caches, friend activity and the realtime
channel. Each is a bus consumer with a bounded queue; those that must not miss anything rebuild from the
database when theirs overflows."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from musicd.domain import events as ev

if TYPE_CHECKING:
    from musicd.services.registry import Services

__all__ = ["wire_consumers"]

_SEARCH = (ev.PlaylistCreated, ev.PlaylistChanged, ev.PlaylistDeleted, ev.PlaylistFollowChanged, ev.TracksStored,
           ev.LibraryChanged)
_ACCOUNTS = (ev.UserChanged, ev.UserSettingsChanged, ev.UserDeleted, ev.SessionsRevoked)
_OUTCOMES = ("added", "updated", "moved", "removed", "failed", "unchanged")


def wire_consumers(s: Services) -> None:
    """Register every consumer on `s.bus` (they run once `s.bus.start()` is called)."""
    bus = s.bus

    async def search(e: Any) -> None:
        if isinstance(e, ev.TracksStored):
            await s.search.on_tracks_stored(e)
        elif isinstance(e, ev.LibraryChanged):
            await s.search.on_scanned(e)
        elif isinstance(e, ev.PlaylistDeleted):
            await s.search.playlists_deleted([e.playlist_id])
        elif not isinstance(e, ev.PlaylistChanged) or e.kind == "details":
            # Name, description, visibility and follows are indexed; item edits are not.
            await s.search.playlists_changed([e.playlist_id])

    async def rebuild_search() -> None:
        await s.search.rebuild()

    async def count_scan(e: ev.ScanDone) -> None:
        if e.error is None:
            for outcome in _OUTCOMES:
                s.metrics.scan_files.labels(outcome).inc(getattr(e, outcome))
            s.metrics.scan_last_seconds.set(e.wall_s)

    async def media(_: Any = None) -> None:
        s.playback.forget_sources()

    async def background(e: Any = None) -> None:
        # After every scan, changed or not: the background passes skip while a scan runs and wait for this.
        if e is None or e.error is None:
            s.transcoding.wake()
            await s.analysis.on_scanned(e)

    async def library_playlists(e: Any = None) -> None:
        # Playlist files found in the library folders become playlists once a scan has read their tracks.
        if e is None or e.error is None:
            await s.library_playlists.sync()

    async def accounts(e: Any = None) -> None:
        uid = getattr(e, "user_id", None)  # None (after an overflow): forget everyone
        for cache in (s.auth, s.api_keys, s.subsonic_auth, s.playback, s.friends, s.listen_tokens, s.offline):
            cache.forget_user(uid)

    bus.consume("search", search, _SEARCH, on_overflow=rebuild_search)
    bus.consume("metrics", count_scan, (ev.ScanDone,), awaited=False)  # type: ignore[arg-type]
    bus.consume("media", media, (ev.LibraryChanged,), on_overflow=media)
    bus.consume("background", background, (ev.ScanDone,), on_overflow=background, awaited=False)
    # Listens nothing matched before are tried again once a scan changed the library.
    bus.consume("listens", s.listens.on_scanned, (ev.LibraryChanged,), on_overflow=s.listens.on_scanned)
    bus.consume("library-playlists", library_playlists, (ev.ScanDone,), on_overflow=library_playlists, awaited=False)
    bus.consume("accounts", accounts, _ACCOUNTS, on_overflow=accounts)
    # The recommendation models are trained again after a library change or enough new plays (an overflow
    # loses a count only: the trainer also compares the history table).
    bus.consume("recommend", s.recommend.on_event, (ev.LibraryChanged, ev.PlayEnded, ev.PlayScrobbled),
                on_overflow=s.recommend.on_overflow, awaited=False)
    # These only inform: requests never wait for them.
    bus.consume("friend-activity", s.friends.record, (ev.PlayStarted, ev.PlayEnded, ev.PlayScrobbled),  # type: ignore[arg-type]
                awaited=False)
    bus.consume("realtime", s.realtime.on_event, on_overflow=s.realtime.on_overflow, awaited=False)
