"""Cover art resized with Pillow on first request and kept on disk, one file per (image, size)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

__all__ = ["MAX_SIZE", "ImageResizer", "ResizedImage"]

MAX_SIZE = 2048  # the largest edge anyone asks for; bigger requests get the original


class ResizedImage:
    __slots__ = ("mime", "path")

    def __init__(self, path: Path, mime: str) -> None:
        self.path = path
        self.mime = mime


def _resize(src: Path, base: Path, size: int) -> ResizedImage | None:
    """Write `src` scaled to fit `size`×`size` beside `base` (.jpg, or .png to keep transparency)."""
    from PIL import Image

    with Image.open(src) as im:
        if max(im.size) <= size:
            return None
        if im.format == "JPEG":
            im.draft("RGB", (size, size))  # let libjpeg decode at a reduced scale: much faster
        has_alpha = im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info)
        im = im.convert("RGBA" if has_alpha else "RGB")
        im.thumbnail((size, size), Image.Resampling.LANCZOS)
        dest = base.with_name(base.name + (".png" if has_alpha else ".jpg"))
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f"{dest.name}.{os.getpid()}.tmp")
        try:
            if has_alpha:
                im.save(tmp, "PNG", optimize=True)
            else:
                im.save(tmp, "JPEG", quality=85, optimize=True, progressive=True)
            os.replace(tmp, dest)
        finally:
            if tmp.exists():
                tmp.unlink()
    return ResizedImage(dest, "image/png" if has_alpha else "image/jpeg")


class ImageResizer:
    """Resized copies of cover images under `cache_dir/<size>/`; concurrent requests share one resize."""

    def __init__(self, cache_dir: Path) -> None:
        self.cache_dir = cache_dir
        self._pending: dict[Path, asyncio.Future[ResizedImage | None]] = {}

    def _dest(self, image_id: str, size: int, ext: str) -> Path:
        safe = "".join(c for c in image_id if c.isalnum() or c in "-_") or "x"
        return self.cache_dir / str(size) / safe[:2] / f"{safe}{ext}"

    async def resized(self, image_id: str, src: Path, size: int) -> ResizedImage | None:
        """The image scaled to fit `size` pixels, or None when the original is not larger than that."""
        for ext, mime in ((".jpg", "image/jpeg"), (".png", "image/png")):
            p = self._dest(image_id, size, ext)
            if p.is_file():
                return ResizedImage(p, mime)
        if (orig := self._dest(image_id, size, ".orig")).is_file():
            return None
        key = self._dest(image_id, size, "")
        fut = self._pending.get(key)
        if fut is not None:
            return await asyncio.shield(fut)
        fut = asyncio.get_running_loop().create_future()
        self._pending[key] = fut
        try:
            result = await asyncio.to_thread(self._make, image_id, src, size, orig)
            fut.set_result(result)
            return result
        except BaseException as e:
            fut.set_exception(e)
            fut.exception()  # retrieved here, so a future nobody else awaits does not log a warning
            raise
        finally:
            self._pending.pop(key, None)

    def _make(self, image_id: str, src: Path, size: int, orig_marker: Path) -> ResizedImage | None:
        out = _resize(src, self._dest(image_id, size, ""), size)
        if out is None:
            # Remember "not larger": the next request skips opening the image.
            orig_marker.parent.mkdir(parents=True, exist_ok=True)
            orig_marker.touch()
        return out
