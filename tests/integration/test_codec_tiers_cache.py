"""MP3/AAC/Opus tiers live in the same cache as the Vorbis ones: a background pass keeps them (it only
removes tiers of tracks that are gone or changed) and they land under their own extension."""

from __future__ import annotations

import shutil
from pathlib import Path

from musicd.devtools.library_builder import BuiltLibrary
from musicd.services.playback import LiveBody


async def test_a_pass_keeps_the_other_codecs_tiers(services_for, built_library: BuiltLibrary,  # type: ignore[no-untyped-def]
                                                   tmp_path: Path) -> None:
    """A pass after phones asked for MP3, AAC and Opus leaves those files in place."""
    lib = tmp_path / "Music"
    shutil.copytree(built_library.root / "Röyksopp", lib / "Röyksopp")
    async with services_for(lib) as s:
        await s.library.scan()
        row = (await s.transcoding.lookup.all_sources())[0]
        made = []
        for codec, ext in (("mp3", ".mp3"), ("aac", ".aac"), ("opus", ".opus")):
            body = await s.playback.open_track(row.id, "normal", codec=codec)
            assert isinstance(body, LiveBody) and body.production is not None
            await body.production.wait_done()
            assert body.production.error is None and body.production.path.suffix == ext
            made.append(body.production.path)
        summary = await s.transcoding.run_pass()
        assert summary.made > 0
        assert all(p.exists() for p in made), [str(p) for p in made]
        again = await s.playback.open_track(row.id, "normal", codec="mp3")  # from the cache now
        assert getattr(again, "path", None) == str(made[0])
