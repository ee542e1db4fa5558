"""Tier transcodes with ffmpeg: shared on-the-fly productions, background pre-transcodes, the tier cache.

A *production* is one ffmpeg turning one source into one tier while someone listens. It writes a
`.part` file that every listener of the same (track, tier) reads from the start as it grows (one
ffmpeg however many listeners, flat memory however long the track); it is renamed into the cache
when ffmpeg succeeds, and removed (with a `.failed` note) when it does not.

On-the-fly productions take an encoder from the pool of pre-started ffmpeg processes (see pool.py;
it holds encoders only for tiers transcoded on the fly lately) and feed it the source through stdin:
first Ogg byte in about 5 ms instead of about 50. Sources
ffmpeg cannot demux from a pipe (an MP4 with its index at the end) and seeks (`time_offset`) start
their own ffmpeg on the file. The background transcoder runs one niced ffmpeg per track that writes
all of its missing tiers at once, straight into the cache folder.

Memory is the count of ffmpeg processes (each holds about 10 MiB of its own beside the ~40 MiB of
libraries they share), so it is bounded: `live_limit` encoders run at once, and the pool keeps
`pool_size` more started ahead. Transcodes beyond the limit wait their turn, and the pool warms the
tier the first of them needs, so it starts in milliseconds when a slot frees (on 2 cores two
encoders already use all the CPU: the queue costs little throughput).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from musicd.domain.tiers import Tier
from musicd.errors import MusicdError
from musicd.logs import get_logger
from musicd.media.cache import TranscodeCache
from musicd.media.ffmpeg import ARGV_VERSION, PIPE_INPUT_FORMATS, nice_prefix, tier_argv, tiers_argv
from musicd.media.pool import FfmpegPool, kill, spawn, stderr_tail

__all__ = ["Production", "Source", "TranscodeError", "Transcoder"]

log = get_logger("musicd.media")

CHUNK = 256 * 1024
_PIPE = asyncio.subprocess.PIPE


class TranscodeError(MusicdError):
    """ffmpeg could not make the tier (a damaged or unsupported source); nothing was cached."""

    code = "transcode_failed"
    status = 502


@dataclass(frozen=True, slots=True)
class Source:
    """The file a tier is made from, as the catalogue knows it."""

    track_id: str
    path: str
    format: str
    size: int
    mtime_ns: int
    duration: float = 0.0


class Production:
    """One running transcode, readable by any number of listeners while it is written.

    The output goes to a `.part` file (renamed into the cache at the end); listeners read that file
    from the start up to what has been written so far, so memory stays flat however long the track.
    """

    def __init__(self, path: Path, part: Path) -> None:
        self.path = path
        self.part = part
        self.size = 0
        self.done = False
        self.error: str | None = None
        self._changed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def _wake(self) -> None:
        fut, self._changed = self._changed, asyncio.get_running_loop().create_future()
        if not fut.done():
            fut.set_result(None)

    def grew(self, n: int) -> None:
        """`n` more bytes are in the part file."""
        self.size += n
        self._wake()

    def finish(self, error: str | None) -> None:
        self.done = True
        self.error = error
        self._wake()

    async def _wait(self) -> None:
        # shield: a listener that goes away must not cancel the future the others wait on.
        await asyncio.shield(self._changed)

    async def started(self) -> None:
        """Wait for the first bytes; raise TranscodeError when ffmpeg failed before producing any."""
        while not self.size and not self.done:
            await self._wait()
        if self.error and not self.size:
            raise TranscodeError(f"transcode failed: {self.error}")

    async def wait_done(self) -> None:
        while not self.done:
            await self._wait()

    def _open(self) -> int:
        # Until the end the bytes are in the part file; after a successful end, in the cache file.
        # An open descriptor survives the rename, so a listener keeps reading where it was.
        return os.open(self.path if self.done and not self.error else self.part, os.O_RDONLY)

    async def stream(self) -> AsyncIterator[bytes]:
        """Every byte of the output from the start, as it is produced; TranscodeError if ffmpeg fails."""
        await self.started()
        try:
            fd = self._open()
        except FileNotFoundError:
            raise TranscodeError("transcode output is gone (evicted or failed)") from None
        pos = 0
        try:
            while True:
                if pos < self.size:
                    data = os.pread(fd, min(CHUNK, self.size - pos), pos)
                    if not data:
                        raise TranscodeError("transcode output was truncated")
                    pos += len(data)
                    yield data
                    continue
                if self.done:
                    if self.error:
                        raise TranscodeError(f"transcode failed: {self.error}")
                    return
                await self._wait()
        finally:
            os.close(fd)


def _mp4_index_first(path: str) -> bool:
    """True when an MP4 file's index (moov) comes before its media data, so a pipe can be demuxed."""
    try:
        with open(path, "rb") as f:
            pos = 0
            for _ in range(64):
                f.seek(pos)
                head = f.read(16)
                if len(head) < 8:
                    return False
                size, kind = int.from_bytes(head[:4], "big"), head[4:8]
                if size == 1 and len(head) == 16:
                    size = int.from_bytes(head[8:16], "big")
                if kind == b"moov":
                    return True
                if kind == b"mdat" or size < 8:
                    return False
                pos += size
    except OSError:
        return False
    return False


class Transcoder:
    """Productions by cache path, the encoder pool and the tier cache of one process."""

    def __init__(
        self, cache_dir: Path, *, binary: str, max_bytes: int, pool_size: int, pool_bitrates: list[int],
        live_limit: int, on_finished: Callable[[str, bool], None] | None = None, pool_idle_seconds: float = 300.0,
    ) -> None:
        self.binary = binary
        self.cache = TranscodeCache(cache_dir, max_bytes)
        self.pool = FfmpegPool(binary, pool_bitrates, pool_size, pool_idle_seconds)
        self._live = asyncio.Semaphore(max(1, live_limit))
        # The tiers (codec, bitrate) of the piped transcodes waiting for a slot, first in line first.
        self._waiting: list[tuple[str, int]] = []
        self._active: dict[Path, Production] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._serial = itertools.count()
        self._on_finished = on_finished or (lambda kind, ok: None)
        self.stats = {"started": 0, "done": 0, "failed": 0, "from_pool": 0}

    async def load(self) -> None:
        """Index the cache folder (sizes and last use, for the size limit)."""
        await asyncio.to_thread(self.cache.load)

    async def start(self) -> None:
        """Index the cache folder (the encoder pool fills on first use of a tier, see pool.py)."""
        await self.load()

    def path(self, src: Source, tier: Tier) -> Path:
        return self.cache.path_for(src.track_id, tier.name, src.size, src.mtime_ns, ARGV_VERSION, tier.ext)

    def cached(self, src: Source, tier: Tier) -> tuple[Path, os.stat_result] | None:
        """The finished transcode of this source version and tier, if it is in the cache."""
        p = self.path(src, tier)
        st = self.cache.lookup(p)
        return (p, st) if st is not None else None

    def failure(self, src: Source, tier: Tier) -> str | None:
        return self.cache.failure(self.path(src, tier))

    def active(self) -> int:
        return len(self._active)

    @asynccontextmanager
    async def _slot(self, key: tuple[str, int] | None = None) -> AsyncIterator[None]:
        """One of the `live_limit` slots for an encoder; a piped transcode of tier `key` that must wait has the
        pool warm its tier when it is first in line."""
        if self._live.locked() and key is not None:
            self._waiting.append(key)
            if self._waiting[0] == key:
                self.pool.refill(key)
            try:
                await self._live.acquire()
            finally:
                self._waiting.remove(key)  # the first equal one: the same tiers stay in line either way
        else:
            await self._live.acquire()
        try:
            yield
        finally:
            self._live.release()

    def _next_waiting(self) -> tuple[str, int] | None:
        return self._waiting[0] if self._waiting else None

    def _warm_next(self, key: tuple[str, int]) -> None:
        """After a take: warm the tier of the first piped transcode in line, else this one's (the next track)."""
        self.pool.refill(self._next_waiting() or key)

    def produce(self, src: Source, tier: Tier) -> Production:
        """The running on-the-fly production of (source, tier), joined, or a new one started."""
        path = self.path(src, tier)
        prod = self._active.get(path)
        if prod is not None:
            return prod
        prod = Production(path, path.with_name(f"{path.name}.{os.getpid()}.{next(self._serial)}.part"))
        self._active[path] = prod
        self.stats["started"] += 1
        task = asyncio.create_task(self._run(prod, src, tier), name=f"transcode-{src.track_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return prod

    def _pipe_ok(self, src: Source) -> bool:
        fmt = src.format.lower()
        if fmt not in PIPE_INPUT_FORMATS:
            return False
        return fmt not in ("m4a", "mp4", "alac") or _mp4_index_first(src.path)

    async def _feed(self, proc: asyncio.subprocess.Process, path: str) -> None:
        stdin = proc.stdin
        assert stdin is not None
        try:
            # Local files read from the page cache: a thread hop per chunk would cost more than the read.
            with open(path, "rb") as f:  # noqa: ASYNC230
                while data := f.read(CHUNK):
                    stdin.write(data)
                    await stdin.drain()
        except (BrokenPipeError, ConnectionResetError):
            pass  # ffmpeg stopped reading: its exit status tells why
        except OSError as e:
            log.warning("transcode.feed_failed", path=path, error=str(e))
        finally:
            with contextlib.suppress(Exception):
                stdin.close()

    async def _encode(self, prod: Production, src: Source, tier: Tier, out: Any, *, piped: bool) -> tuple[int, str]:
        """Run one ffmpeg into `prod` and `out`; returns (exit status, stderr tail)."""
        proc = feeder = None
        if piped:
            proc = self.pool.take(tier.bitrate_kbps, tier.codec)
            self._warm_next((tier.codec, tier.bitrate_kbps))
        try:
            if proc is not None:
                self.stats["from_pool"] += 1
                feeder = asyncio.create_task(self._feed(proc, src.path))
            else:
                proc = await spawn(tier_argv(self.binary, tier.bitrate_kbps, source=src.path, codec=tier.codec),
                                   stdin=False)
            err_task = asyncio.create_task(stderr_tail(proc.stderr))
            assert proc.stdout is not None
            while chunk := await proc.stdout.read(CHUNK):
                out.write(chunk)  # unbuffered: listeners read the file as soon as `grew` says so
                prod.grew(len(chunk))
            rc = await proc.wait()
            err = await err_task
            if feeder is not None:
                await feeder
            return rc, err
        finally:
            kill(proc)
            if feeder is not None and not feeder.done():
                feeder.cancel()
            if piped:
                self.pool.touch(tier.bitrate_kbps, tier.codec)  # the idle time of this tier's encoders counts from now

    async def _run(self, prod: Production, src: Source, tier: Tier) -> None:
        final, part = prod.path, prod.part
        error: str | None = None
        try:
            piped = self.pool.size > 0 and self._pipe_ok(src)
            async with self._slot((tier.codec, tier.bitrate_kbps) if piped else None):
                final.parent.mkdir(parents=True, exist_ok=True)
                with open(part, "wb", buffering=0) as out:  # noqa: ASYNC230 (writes land in the page cache)
                    rc, err = await self._encode(prod, src, tier, out, piped=piped)
                    if piped and rc != 0 and prod.size == 0:
                        # Some files demux from a pipe badly; the file itself is the authority.
                        rc, err = await self._encode(prod, src, tier, out, piped=False)
            if rc != 0 or prod.size == 0:
                error = err.splitlines()[-1] if err else f"ffmpeg exited with status {rc}"
                self.cache.record_failure(final, err or error)
            else:
                os.replace(part, final)
                self.cache.clear_failure(final)
                await asyncio.to_thread(self.cache.add, final)  # may walk the folder to evict
        except asyncio.CancelledError:
            error = "cancelled"
            raise
        except Exception as e:
            error = f"{type(e).__name__}: {e}"
            log.error("transcode.crashed", track=src.track_id, tier=tier.name, error=error)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(part)
            self.stats["done" if error is None else "failed"] += 1
            if error != "cancelled":
                self._on_finished("live", error is None)
            if error is not None and error != "cancelled":
                log.warning("transcode.failed", track=src.track_id, tier=tier.name, path=src.path, error=error)
            self._active.pop(final, None)
            prod.finish(error)

    async def pretranscode(self, src: Source, tiers: list[Tier]) -> dict[str, str | None]:
        """Make several tiers of one source with one niced ffmpeg, straight into the cache.

        Returns the error per tier name (None when made). Not joinable by listeners: a request for a
        tier in the making starts its own transcode, which is rare and harmless (both land atomically).
        """
        serial = next(self._serial)
        finals = [(t, self.path(src, t)) for t in tiers]
        jobs = [(t, p, p.with_name(f"{p.name}.{os.getpid()}.{serial}.part")) for t, p in finals]
        for _, final, _ in jobs:
            final.parent.mkdir(parents=True, exist_ok=True)
        argv = nice_prefix() + tiers_argv(self.binary, src.path, [(t.bitrate_kbps, str(part)) for t, _, part in jobs])
        proc = await asyncio.create_subprocess_exec(*argv, stdin=asyncio.subprocess.DEVNULL,
                                                    stdout=asyncio.subprocess.DEVNULL, stderr=_PIPE)
        results: dict[str, str | None] = {}
        try:
            err = await stderr_tail(proc.stderr)
            rc = await proc.wait()
            for tier, final, part in jobs:
                size = part.stat().st_size if part.exists() else 0
                if rc == 0 and size > 0:
                    os.replace(part, final)
                    self.cache.clear_failure(final)
                    await asyncio.to_thread(self.cache.add, final)
                    results[tier.name] = None
                    self.stats["done"] += 1
                    self._on_finished("background", True)
                else:
                    reason = err.splitlines()[-1] if err else f"ffmpeg exited with status {rc}"
                    self.cache.record_failure(final, err or reason)
                    results[tier.name] = reason
                    self.stats["failed"] += 1
                    self._on_finished("background", False)
            if any(results.values()):
                log.warning("transcode.failed", track=src.track_id, path=src.path,
                            error=next(e for e in results.values() if e))
            return results
        finally:
            kill(proc)
            for _, _, part in jobs:
                with contextlib.suppress(OSError):
                    os.unlink(part)

    async def seek(self, src: Source, tier: Tier, offset: float) -> AsyncIterator[bytes]:
        """The tier from `offset` seconds on, straight from a new ffmpeg (not cached, not shared)."""
        async with self._slot():
            proc = await spawn(tier_argv(self.binary, tier.bitrate_kbps, source=src.path, time_offset=offset,
                                         codec=tier.codec), stdin=False)
            err_task = asyncio.create_task(stderr_tail(proc.stderr))
            sent = 0
            try:
                assert proc.stdout is not None
                while chunk := await proc.stdout.read(CHUNK):
                    sent += len(chunk)
                    yield chunk
                rc = await proc.wait()
                err = await err_task
                if rc != 0 and sent == 0:
                    raise TranscodeError(f"transcode failed: {err.splitlines()[-1] if err else rc}")
            finally:
                kill(proc)
                err_task.cancel()
                with contextlib.suppress(BaseException):
                    await proc.wait()

    async def close(self) -> None:
        """Stop every production (nothing half-made is cached) and the encoder pool."""
        for t in list(self._tasks):
            t.cancel()
        for t in list(self._tasks):
            with contextlib.suppress(BaseException):
                await t
        await self.pool.close()
