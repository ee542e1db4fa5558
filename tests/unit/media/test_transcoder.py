"""Tier transcodes with the real ffmpeg: every source format into every tier, the shared production,
the encoder pool, the cache (hits, LRU eviction, restart), damaged sources and seeking."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from mutagen.oggvorbis import OggVorbis

from musicd.devtools.library_builder import FORMATS, BuiltLibrary
from musicd.domain.tiers import TIERS
from musicd.media.transcoder import Source, TranscodeError, Transcoder, _mp4_index_first


def source(root: Path, rel: str, fmt: str, track_id: str | None = None, duration: float = 0.0) -> Source:
    p = root / rel
    st = p.stat()
    return Source(track_id or rel.replace("/", "_")[:20], str(p), fmt, st.st_size, st.st_mtime_ns, duration)


def one_per_format(lib: BuiltLibrary) -> dict[str, Source]:
    out: dict[str, Source] = {}
    for i, t in enumerate(lib.tracks):
        if t.format not in out:
            out[t.format] = source(lib.root, t.path, t.format, f"t{i}", t.duration)
    return out


async def make(tmp_path: Path, *, pool: int = 1, max_bytes: int = 0, pool_idle: float = 300,
               live_limit: int = 4) -> Transcoder:
    tc = Transcoder(tmp_path / "cache", binary="ffmpeg", max_bytes=max_bytes, pool_size=pool,
                    pool_bitrates=[t.bitrate_kbps for t in TIERS.values()], live_limit=live_limit,
                    pool_idle_seconds=pool_idle)
    await tc.start()
    return tc


@pytest.fixture
async def tc(tmp_path: Path) -> AsyncIterator[Transcoder]:
    t = await make(tmp_path)
    yield t
    await t.close()


async def collect(tc: Transcoder, src: Source, tier_name: str) -> bytes:
    prod = tc.produce(src, TIERS[tier_name])
    return b"".join([c async for c in prod.stream()])


async def test_every_format_into_every_tier(tc: Transcoder, built_library: BuiltLibrary) -> None:
    sources = one_per_format(built_library)
    assert set(sources) == set(FORMATS)
    for name, tier in TIERS.items():  # tier by tier, as a listener plays track after track at one quality
        for fmt, src in sources.items():
            data = await collect(tc, src, name)
            hit = tc.cached(src, tier)
            assert hit is not None, (fmt, name)
            path, _ = hit
            assert path.read_bytes() == data, "listeners get exactly the bytes that are cached"
            assert data[:4] == b"OggS" and b"\x01vorbis" in data[:64]
            info = OggVorbis(path).info
            assert info.bitrate == tier.bitrate_kbps * 1000, (fmt, name)
            assert abs(info.length - src.duration) < 1.0, (fmt, name, info.length, src.duration)
    assert tc.stats["failed"] == 0
    assert tc.stats["from_pool"] > 0, "on-the-fly transcodes take pre-started encoders"


async def test_concurrent_requests_share_one_ffmpeg(tc: Transcoder, built_library: BuiltLibrary) -> None:
    src = one_per_format(built_library)["flac"]
    tier = TIERS["normal"]
    prods = [tc.produce(src, tier) for _ in range(5)]
    assert all(p is prods[0] for p in prods)
    await prods[0].started()
    late = tc.produce(src, tier)  # joins after the first bytes: still reads from the start
    outs = await asyncio.gather(*(collect_prod(p) for p in [*prods, late]))
    assert tc.stats["started"] == 1
    assert len(set(outs)) == 1
    hit = tc.cached(src, tier)
    assert hit is not None and hit[0].read_bytes() == outs[0]


async def collect_prod(prod) -> bytes:  # type: ignore[no-untyped-def]
    return b"".join([c async for c in prod.stream()])


def _ffmpeg_children() -> int:
    """ffmpeg processes this test process started and that are still running."""
    n = 0
    for d in Path("/proc").iterdir():
        try:
            stat = (d / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        n += int(fields[1]) == os.getpid() and fields[0] != "Z" and "(ffmpeg)" in stat
    return n


async def _until(cond: Callable[[], bool]) -> None:
    for _ in range(400):  # 20 s
        if cond():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in 20 s")


async def test_the_pool_warms_a_tier_after_its_first_use_and_stops_when_idle(
        tmp_path: Path, built_library: BuiltLibrary) -> None:
    tc = await make(tmp_path, pool_idle=3.0)
    try:
        srcs = one_per_format(built_library)
        for _ in range(20):
            assert tc.pool.idle() == 0 and _ffmpeg_children() == 0, "no encoder runs before anyone transcodes"
            await asyncio.sleep(0.05)
        await collect(tc, srcs["flac"], "normal")
        assert tc.stats["from_pool"] == 0
        await _until(lambda: tc.pool.idle() == 1)  # only the tier someone listens to is warmed
        await collect(tc, srcs["mp3"], "normal")
        assert tc.stats["from_pool"] == 1, "the next track of that tier starts from a warm encoder"
        await _until(lambda: tc.pool.idle() == 0 and _ffmpeg_children() == 0)  # unused for 3 s: stopped
        assert tc.pool.reaped >= 1
    finally:
        await tc.close()


async def test_encoders_stay_within_the_limit_and_a_waiting_tier_is_warmed(
        tmp_path: Path, built_library: BuiltLibrary) -> None:
    """Many listeners of three qualities at once: at most live_limit encoders run and the pool holds
    pool_size more (not one per tier); each waiting transcode still gets its stream, the first in line
    from an encoder warmed for its tier while it waited."""
    tc = await make(tmp_path, pool=1, live_limit=2)
    peak = 0

    async def watch() -> None:
        nonlocal peak
        while True:
            peak = max(peak, _ffmpeg_children())
            await asyncio.sleep(0.005)

    watcher = asyncio.create_task(watch())
    try:
        srcs = [s for fmt, s in one_per_format(built_library).items() if fmt in ("flac", "mp3", "ogg", "wav")]
        jobs = [(src, name) for src in srcs for name in ("low", "normal", "high")]
        outs = await asyncio.gather(*(collect(tc, src, name) for src, name in jobs))
        assert all(o[:4] == b"OggS" for o in outs) and tc.stats["failed"] == 0
        assert all(tc.cached(src, TIERS[name]) is not None for src, name in jobs)
        assert peak <= 3, f"{peak} ffmpeg processes at once (limit 2 + pool 1)"
        assert tc.stats["from_pool"] >= 1, "a transcode that waited starts from an encoder warmed for its tier"
    finally:
        watcher.cancel()
        await tc.close()


async def test_cache_hit_miss_and_lru_eviction(tmp_path: Path, built_library: BuiltLibrary) -> None:
    srcs = list(one_per_format(built_library).values())[:3]
    tier = TIERS["low"]
    tc = await make(tmp_path, pool=0)
    try:
        a, b, c = srcs
        assert tc.cached(a, tier) is None  # miss
        await collect(tc, a, "low")
        size_a = tc.cached(a, tier)[1].st_size  # type: ignore[index]
        await collect(tc, b, "low")
        # Room for two files: the third evicts the least recently used one.
        tc.cache.max_bytes = tc.cache.total_bytes + 1
        await asyncio.sleep(0.01)
        assert tc.cached(a, tier) is not None  # a hit makes `a` the most recently used
        await asyncio.sleep(0.01)
        await collect(tc, c, "low")
        assert tc.cached(b, tier) is None, "b was the least recently used"
        assert tc.cached(a, tier) is not None and tc.cached(c, tier) is not None
        assert tc.cache.total_bytes <= tc.cache.max_bytes
        assert tc.cache.evicted == 1
        assert size_a > 0
    finally:
        await tc.close()
    # A restart finds the same files (and drops leftovers of interrupted transcodes).
    leftover = tc.path(a, tier).with_name("x.ogg.123.part")
    leftover.write_bytes(b"half")
    tc2 = await make(tmp_path, pool=0)
    try:
        assert len(tc2.cache) == 2
        assert tc2.cache.total_bytes == tc.cache.total_bytes
        assert not leftover.exists()
        assert tc2.cached(a, tier) is not None
    finally:
        await tc2.close()


async def test_damaged_source_fails_clearly_and_is_not_cached(tc: Transcoder, tmp_path: Path,
                                                              built_library: BuiltLibrary) -> None:
    good = one_per_format(built_library)["mp3"]
    bad_path = tmp_path / "bad.mp3"
    bad_path.write_bytes(os.urandom(50_000))
    st = bad_path.stat()
    bad = Source("bad", str(bad_path), "mp3", st.st_size, st.st_mtime_ns, 5.0)
    prod = tc.produce(bad, TIERS["normal"])
    with pytest.raises(TranscodeError) as err:
        await prod.started()
    assert err.value.code == "transcode_failed" and err.value.status == 502
    assert "transcode failed" in err.value.message and len(err.value.message) > len("transcode failed: ")
    assert tc.cached(bad, TIERS["normal"]) is None
    assert not list(tc.path(bad, TIERS["normal"]).parent.glob("*.ogg"))
    assert not list(tc.path(bad, TIERS["normal"]).parent.glob("*.part"))
    assert tc.failure(bad, TIERS["normal"]) is not None
    # Once the file is repaired (new size / mtime) the old failure no longer applies.
    shutil.copyfile(good.path, bad_path)
    st = bad_path.stat()
    fixed = Source("bad", str(bad_path), "mp3", st.st_size, st.st_mtime_ns, 5.0)
    assert tc.failure(fixed, TIERS["normal"]) is None
    assert (await collect(tc, fixed, "normal"))[:4] == b"OggS"


async def test_seek_starts_later(tc: Transcoder, built_library: BuiltLibrary) -> None:
    src = max(one_per_format(built_library).values(), key=lambda s: s.duration)
    data = b"".join([c async for c in tc.seek(src, TIERS["low"], 1.5)])
    out = Path(tc.cache.root) / "seek.ogg"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    assert abs(OggVorbis(out).info.length - (src.duration - 1.5)) < 1.0
    assert tc.cached(src, TIERS["low"]) is None, "a seek is not cached"


async def test_pretranscode_makes_several_tiers_in_one_go(tc: Transcoder, built_library: BuiltLibrary,
                                                            tmp_path: Path) -> None:
    src = one_per_format(built_library)["wav"]
    assert await tc.pretranscode(src, list(TIERS.values())) == {"low": None, "normal": None, "high": None}
    for name, tier in TIERS.items():
        path, _ = tc.cached(src, tier)  # type: ignore[misc]
        assert OggVorbis(path).info.bitrate == tier.bitrate_kbps * 1000, name
        assert abs(OggVorbis(path).info.length - src.duration) < 1.0
    # The same bytes as an on-the-fly transcode of that tier: one ETag can name both.
    live = b"".join([c async for c in tc.seek(src, TIERS["normal"], 0.0)])
    assert live == tc.cached(src, TIERS["normal"])[0].read_bytes()  # type: ignore[index]
    bad = tmp_path / "bad.flac"
    bad.write_bytes(b"fLaC" + os.urandom(4000))
    st = bad.stat()
    results = await tc.pretranscode(Source("b", str(bad), "flac", st.st_size, st.st_mtime_ns, 1.0),
                                    [TIERS["low"], TIERS["high"]])
    assert set(results) == {"low", "high"} and all(results.values())
    assert not list(tc.cache.root.rglob("*.part"))


def test_mp4_index_position(tmp_path: Path, built_library: BuiltLibrary) -> None:
    m4a = one_per_format(built_library)["m4a"]
    fast = tmp_path / "fast.m4a"
    subprocess.run(["ffmpeg", "-v", "error", "-i", m4a.path, "-c", "copy", "-movflags", "+faststart", str(fast)],
                   check=True)
    assert _mp4_index_first(str(fast))
    assert not _mp4_index_first(str(tmp_path / "missing.m4a"))
