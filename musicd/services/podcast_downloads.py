"""Episode downloads: one download per episode however many listeners, readable while it is written.

A download writes `<episode>.part` under the data dir's podcasts folder; listeners read that file as it
grows (a GrowingBody: HTTP Range works once the size is known, waiting for bytes not fetched yet). At
the end the file is probed: what the enclosure really is decides its format, and a file that is not
audio (an enclosure that lied about its type) is removed and the episode marked failed. A size over
`podcasts.max_episode_bytes` stops the download, whatever the feed or the Content-Length said.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

from musicd.config import PodcastsConfig
from musicd.domain.tiers import content_type
from musicd.library.reader import ReadError, probe
from musicd.logs import get_logger
from musicd.media import ranges
from musicd.net.fetch import Fetcher, FetchError
from musicd.services.playback import GrowingBody
from musicd.store.podcasts import EpisodeFile, PodcastRepository

__all__ = ["Download", "Downloader", "remove_file"]

log = get_logger("musicd.podcasts")

_CHUNK = 256 * 1024
_EXT = {"mp3": ".mp3", "m4a": ".m4a", "ogg": ".ogg", "opus": ".opus", "flac": ".flac", "wav": ".wav",
        "aiff": ".aiff"}


def remove_file(path: str | Path) -> None:
    """Remove a downloaded file if it is there (a quick unlink: no thread hop needed)."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


class Download:
    """One episode being fetched: how far it got, its final size when known, how it ended."""

    def __init__(self, episode_id: str, part: Path) -> None:
        self.episode_id = episode_id
        self.part = part
        self.written = 0
        self.size: int | None = None
        self.content_type = "application/octet-stream"
        self.started = asyncio.Event()  # set once the response headers are in (or it failed)
        self.done = False
        self.error: str | None = None
        self._changed = asyncio.get_running_loop().create_future()

    def _wake(self) -> None:
        fut, self._changed = self._changed, asyncio.get_running_loop().create_future()
        if not fut.done():
            fut.set_result(None)

    def grew(self, n: int) -> None:
        self.written += n
        self._wake()

    def finish(self, error: str | None) -> None:
        self.done, self.error = True, error
        self.started.set()
        self._wake()

    async def wait_done(self) -> None:
        while not self.done:
            await asyncio.shield(self._changed)

    async def span(self, first: int, last: int | None) -> AsyncIterator[bytes]:
        """Bytes first..last of the download as they arrive (an open descriptor survives the final rename)."""
        fd = os.open(self.part, os.O_RDONLY)
        try:
            pos = first
            while last is None or pos <= last:
                end = self.written if last is None else min(self.written, last + 1)
                if pos < end:
                    data = os.pread(fd, min(_CHUNK, end - pos), pos)
                    if not data:
                        raise OSError("download shrank")
                    pos += len(data)
                    yield data
                    continue
                if self.done:
                    if self.error or (last is not None and pos <= last):
                        raise OSError(f"download failed: {self.error or 'ended early'}")
                    return
                await asyncio.shield(self._changed)
        finally:
            os.close(fd)

    def body(self) -> GrowingBody:
        etag = ranges.file_etag(self.size or 0, 0, f"dl-{self.episode_id}")
        return GrowingBody(self.content_type, self.size, etag, 0.0, self.span)


class Downloader:
    """Starts, shares and finishes episode downloads; a few at a time in the background, at once when played."""

    def __init__(self, repo: PodcastRepository, fetcher: Fetcher, folder: Path, cfg: PodcastsConfig,
                 on_done: Callable[[str], Awaitable[None]] | None = None) -> None:
        """`on_done(channel_id)` runs after each completed download (old downloads are cleaned up then)."""
        self.repo = repo
        self.on_done = on_done
        self.fetcher = fetcher
        self.folder = folder
        self.cfg = cfg
        self.active: dict[str, Download] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._background = asyncio.Semaphore(2)

    async def recover(self) -> None:
        """Episodes a stopped server left downloading start over when next asked for."""
        for ep in await self.repo.stale_downloads():
            await self.repo.set_download(ep.id, "new")
        for part in self.folder.glob("*/*.part"):
            part.unlink(missing_ok=True)

    def start(self, ep: EpisodeFile, *, background: bool = False) -> Download:
        """The episode's download, started unless it is running."""
        dl = self.active.get(ep.id)
        if dl is None:
            (self.folder / ep.channel_id).mkdir(parents=True, exist_ok=True)
            dl = self.active[ep.id] = Download(ep.id, self.folder / ep.channel_id / f"{ep.id}.part")
            task = asyncio.create_task(self._run(ep, dl, background), name=f"podcast-download-{ep.id}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return dl

    async def _run(self, ep: EpisodeFile, dl: Download, background: bool) -> None:
        try:
            if background:
                async with self._background:
                    await self._fetch(ep, dl)
            else:
                await self._fetch(ep, dl)
            await self._finish(ep, dl)
        except (FetchError, ReadError, OSError) as e:
            msg = getattr(e, "message", None) or str(e)
            log.warning("podcast.download_failed", episode=ep.id, url=ep.enclosure_url, error=msg)
            dl.part.unlink(missing_ok=True)
            await self.repo.set_download(ep.id, "error", error=msg)
            dl.finish(msg)
        except asyncio.CancelledError:
            dl.part.unlink(missing_ok=True)
            dl.finish("cancelled")
            raise
        finally:
            self.active.pop(ep.id, None)

    async def _fetch(self, ep: EpisodeFile, dl: Download) -> None:
        await self.repo.set_download(ep.id, "downloading")
        limit = self.cfg.max_episode_bytes
        async with self.fetcher.open(ep.enclosure_url) as resp:
            declared = resp.length()
            if declared is not None and declared > limit:
                raise FetchError(f"the enclosure is {declared} bytes, over podcasts.max_episode_bytes ({limit})",
                                 code="too_large")
            dl.size = declared
            dl.content_type = resp.headers.get("content-type", "").split(";")[0].strip() \
                or ep.enclosure_type or "application/octet-stream"
            with dl.part.open("wb") as out:
                dl.started.set()
                async for chunk in resp.chunks(limit):
                    out.write(chunk)
                    out.flush()
                    dl.grew(len(chunk))
        if declared is not None and dl.written != declared:
            raise FetchError(f"the enclosure sent {dl.written} bytes, not the {declared} it announced",
                             code="short_body")

    async def _finish(self, ep: EpisodeFile, dl: Download) -> None:
        fmt, duration, bitrate = await asyncio.to_thread(probe, str(dl.part))
        final = dl.part.with_suffix(_EXT.get(fmt, f".{fmt}"))
        os.replace(dl.part, final)
        dl.part = final
        await self.repo.set_download(ep.id, "completed", path=str(final), fmt=fmt, size=dl.written, bitrate=bitrate,
                                     duration_s=duration)
        dl.content_type = content_type(fmt)
        dl.finish(None)
        log.info("podcast.downloaded", episode=ep.id, bytes=dl.written, format=fmt)
        if self.on_done is not None:
            await self.on_done(ep.channel_id)

    async def remove(self, ep: EpisodeFile, status: str = "deleted") -> None:
        """Forget an episode's file (the episode stays listed and can be fetched again)."""
        dl = self.active.get(ep.id)
        if dl is not None and not dl.done:  # a finished one may be the task running this cleanup
            for task in list(self._tasks):
                if task.get_name() == f"podcast-download-{ep.id}":
                    task.cancel()
        if ep.path:
            remove_file(ep.path)
        await self.repo.set_download(ep.id, status)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task
