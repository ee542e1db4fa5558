"""Cover resizing with Pillow: aspect kept, transparency kept, cached once, originals never upscaled."""

from __future__ import annotations

import asyncio
from pathlib import Path

from PIL import Image

from musicd.media.images import ImageResizer


def _image(path: Path, size: tuple[int, int], mode: str = "RGB") -> Path:
    Image.new(mode, size, (200, 30, 30, 128) if mode == "RGBA" else (200, 30, 30)).save(path)
    return path


async def test_resize_and_cache(tmp_path: Path) -> None:
    src = _image(tmp_path / "c.jpg", (600, 400))
    r = ImageResizer(tmp_path / "cache")
    out = await r.resized("abc123", src, 150)
    assert out is not None and out.mime == "image/jpeg"
    with Image.open(out.path) as im:
        assert im.size == (150, 100)
    mtime = out.path.stat().st_mtime_ns
    again = await r.resized("abc123", src, 150)
    assert again is not None and again.path == out.path and out.path.stat().st_mtime_ns == mtime


async def test_transparency_stays_png(tmp_path: Path) -> None:
    src = _image(tmp_path / "c.png", (300, 300), "RGBA")
    out = await ImageResizer(tmp_path / "cache").resized("p1", src, 64)
    assert out is not None and out.mime == "image/png"
    with Image.open(out.path) as im:
        assert im.size == (64, 64) and im.mode == "RGBA"


async def test_no_upscale_and_concurrent_requests(tmp_path: Path) -> None:
    small = _image(tmp_path / "s.jpg", (100, 80))
    r = ImageResizer(tmp_path / "cache")
    assert await r.resized("s", small, 500) is None
    assert await r.resized("s", small, 500) is None
    big = _image(tmp_path / "b.jpg", (1000, 1000))
    outs = await asyncio.gather(*(r.resized("b", big, 200) for _ in range(5)))
    assert len({o.path for o in outs if o}) == 1
