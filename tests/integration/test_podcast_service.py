"""The podcast service in-process on a local feed server: paged feeds, the refresh schedule and its backoff,
automatic downloads and the cleanup of old ones, downloads a stopped server left half done."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from musicd.domain.models import User
from musicd.services.registry import Services, open_services
from tests.feed_server import FeedServer, Item, Route, feed_server, make_episode_audio, rss
from tests.live import make_config


def _pub(day: int) -> str:
    return datetime(2024, 1, day, 10, tzinfo=UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[tuple[Services, FeedServer, User, bytes]]:
    audio = make_episode_audio(tmp_path.parent.parent / "musicd-episode-audio", "svc", 3, 700)
    with feed_server() as fs:
        config = make_config(tmp_path / "data", MUSICD_PODCASTS_ALLOW_HOSTS=f"127.0.0.1:{fs.port}",
                             MUSICD_PODCASTS_AUTO_DOWNLOAD="2", MUSICD_PODCASTS_KEEP_DOWNLOADS="1",
                             MUSICD_PODCASTS_REFRESH_MINUTES="30", MUSICD_PODCASTS_MAX_PAGES="3")
        services = await open_services(config)
        try:
            admin = await services.accounts.create("boss", "boss-password", role="admin")
            yield services, fs, admin, audio
        finally:
            await services.close()


async def _until(check: object, within: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await check():  # type: ignore[operator]
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_paged_feed_downloads_and_cleanup(setup: tuple[Services, FeedServer, User, bytes]) -> None:
    services, fs, admin, audio = setup
    for i in range(1, 7):
        fs.routes[f"/e{i}.mp3"] = Route(audio, "audio/mpeg")
    # Three pages (RFC 5005 rel="next"); the last links back to the first (a loop is not followed) and repeats
    # a guid of page one; a fourth page is past max_pages.
    fs.routes["/p1.xml"] = Route(rss("Paged", [Item("e6", "Six", fs.url("/e6.mp3"), pub=_pub(6)),
                                               Item("e5", "Five", fs.url("/e5.mp3"), pub=_pub(5))],
                                     next_page=fs.url("/p2.xml")), etag='"p1"')
    fs.routes["/p2.xml"] = Route(rss("Paged", [Item("e4", "Four", fs.url("/e4.mp3"), pub=_pub(4)),
                                               Item("e3", "Three", fs.url("/e3.mp3"), pub=_pub(3))],
                                     next_page=fs.url("/p3.xml")))
    fs.routes["/p3.xml"] = Route(rss("Paged", [Item("e2", "Two", fs.url("/e2.mp3"), pub=_pub(2)),
                                               Item("e6", "Six again", fs.url("/e6.mp3"), pub=_pub(6))],
                                     next_page=fs.url("/p4.xml")))
    fs.routes["/p4.xml"] = Route(rss("Paged", [Item("e1", "One", fs.url("/e1.mp3"), pub=_pub(1))],
                                     next_page=fs.url("/p1.xml")))
    show = await services.podcasts.add_feed(admin, fs.url("/p1.xml"))
    page = await services.podcasts.show_episodes(show.id, admin.id, 50, 0)
    assert [e.title for e in page.items] == ["Six", "Five", "Four", "Three", "Two"]
    assert fs.hits.get("/p4.xml") is None  # max_pages = 3
    assert "duplicate guid 'e6'" in (await services.podcasts.show(show.id)).error  # type: ignore[operator]

    # The newest two were fetched ahead of time; only the newest download is kept (keep_downloads = 1).
    async def one_left() -> bool:
        eps = (await services.podcasts.show_episodes(show.id, None, 50, 0)).items
        # Both fetched, nothing downloading any more, and only the newest download left.
        return [e.title for e in eps if e.status == "completed"] == ["Six"] and fs.hits.get("/e5.mp3") == 1 \
            and not services.podcasts.downloads.active and all(e.status != "downloading" for e in eps)
    try:
        await _until(one_left)
    except AssertionError:
        eps = (await services.podcasts.show_episodes(show.id, None, 50, 0)).items
        raise AssertionError([(e.title, e.status, e.error) for e in eps], fs.hits) from None
    files = [p for p in (services.config.data_dir / "podcasts").rglob("*") if p.is_file()]
    assert len(files) == 1 and files[0].read_bytes() == audio, [f.name for f in files]
    five = next(e for e in (await services.podcasts.show_episodes(show.id, None, 50, 0)).items if e.title == "Five")
    assert five.status == "new"  # cleaned up, still listed, fetched again when played


async def test_refresh_schedule_and_backoff(setup: tuple[Services, FeedServer, User, bytes]) -> None:
    services, fs, admin, audio = setup
    fs.routes["/a.mp3"] = Route(audio, "audio/mpeg")
    fs.routes["/s.xml"] = Route(rss("Scheduled", [Item("a", "A", fs.url("/a.mp3"))]), etag='"s1"')
    show = await services.podcasts.add_feed(admin, fs.url("/s.xml"))

    async def next_refresh() -> float:
        row = await services.db.fetchone("SELECT next_refresh_at, failures FROM podcast_channels WHERE id = ?",
                                         (show.id,))
        assert row is not None
        due = datetime.fromisoformat(row[0].replace("Z", "+00:00"))
        return (due - datetime.now(UTC)).total_seconds() / 60

    assert 29 < await next_refresh() <= 30  # refresh_minutes
    del fs.routes["/s.xml"]
    waits = []
    for _ in range(3):
        [res] = await services.podcasts.refresh(admin, [show.id])
        assert res.status == "error"
        waits.append(round(await next_refresh()))
    assert waits == [60, 120, 240]  # the wait doubles after each failure
    fs.routes["/s.xml"] = Route(rss("Scheduled", [Item("a", "A", fs.url("/a.mp3"))]), etag='"s1"')
    [res] = await services.podcasts.refresh(admin, [show.id])
    assert res.status == "not_modified" and 29 < await next_refresh() <= 30
    # A channel that is due is refreshed by the scheduler.
    await services.db.execute("UPDATE podcast_channels SET next_refresh_at = '2000-01-01T00:00:00Z'")
    before = fs.not_modified.get("/s.xml", 0)
    task = asyncio.create_task(services.podcasts.refresher.loop())
    try:
        async def refreshed() -> bool:
            return fs.not_modified.get("/s.xml", 0) > before and await next_refresh() > 29
        await _until(refreshed)
    finally:
        task.cancel()


async def test_a_download_left_half_done_starts_over(setup: tuple[Services, FeedServer, User, bytes]) -> None:
    services, fs, admin, audio = setup
    fs.routes["/h.mp3"] = Route(audio, "audio/mpeg")
    fs.routes["/h.xml"] = Route(rss("Half", [Item("h", "H", fs.url("/h.mp3"))]))
    show = await services.podcasts.add_feed(admin, fs.url("/h.xml"))
    ep = (await services.podcasts.show_episodes(show.id, None, 1, 0)).items[0]
    await _until(lambda: _status_is(services, ep.id, "completed"))
    # As if the server had stopped mid-download: a .part file and the episode marked downloading.
    part = services.config.data_dir / "podcasts" / show.id / f"{ep.id}.part"
    part.write_bytes(b"half")
    await services.podcasts.repo.set_download(ep.id, "downloading")
    await services.podcasts.start()
    assert not part.exists() and (await services.podcasts.episode(ep.id)).status == "new"


async def _status_is(services: Services, episode_id: str, status: str) -> bool:
    return (await services.podcasts.episode(episode_id)).status == status
