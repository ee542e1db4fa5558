"""The search index follows the catalogue: first scan, retag, removal, rebuild, reopen after damage."""

from __future__ import annotations

import os
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from musicd.devtools.library_builder import BuiltLibrary, write_tags
from musicd.domain.events import LibraryChanged, TracksStored
from musicd.library import scanner


def _bump_mtime(path: Path) -> None:
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))


async def _track_ids(s, query: str) -> list[str]:
    return [i for i, _ in (await s.search.search(query, {"track"}, 10))["track"].hits]


async def _id_of(s, lib: BuiltLibrary, rel: str) -> str:
    row = await s.db.fetchone("SELECT id FROM tracks WHERE path = ?", (str(lib.root / rel),))
    assert row is not None
    return row[0]


async def test_index_follows_scans(library_copy: BuiltLibrary, services_for) -> None:
    lib = library_copy
    t = next(x for x in lib.tracks if x.format == "flac" and x.lyrics != "lrc" and "/Disc " not in x.path)
    path = lib.root / t.path
    async with services_for(lib.root) as s:
        await s.library.scan()
        tid = await _id_of(s, lib, t.path)
        assert tid in await _track_ids(s, t.title)
        artists = (await s.search.search(t.artists[0], {"artist"}, 10))["artist"].hits
        assert artists, "the track's artist is searchable"

        write_tags(path, replace(t, title="Zanzibar Quokka"))
        _bump_mtime(path)
        await s.library.scan()
        assert await _track_ids(s, "zanzibar quokka") == [tid]
        assert await _track_ids(s, "zanzibar qokka") == [tid]  # a typo still finds it
        assert await _track_ids(s, "zanzib") == [tid]  # and so does a prefix

        path.unlink()
        await s.library.scan()
        assert await _track_ids(s, "zanzibar quokka") == []


async def test_tracks_are_indexed_once_as_the_scan_stores_them(
    library_copy: BuiltLibrary, services_for, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each write of a scan is indexed while the scan reads on (TracksStored); the scan's end indexes only
    what is left, so every track goes in once, and a re-read track replaces its document."""
    lib = library_copy
    monkeypatch.setattr(scanner, "_BATCH", 4)  # several reader answers and writes even in the small library
    monkeypatch.setattr(scanner, "_FLUSH", 5)
    async with services_for(lib.root) as s:
        added: list[str] = []
        real_add = s.search.index.add

        def add(docs, *, replace: bool = True) -> None:
            docs = list(docs)
            added.extend(d.id for d in docs if d.kind == "track")
            real_add(docs, replace=replace)

        s.search.index.add = add  # type: ignore[method-assign]
        events = s.bus.listen("test", (TracksStored, LibraryChanged))
        await s.library.scan()
        got = []
        while (e := events.get_nowait()) is not None:
            got.append(e)
        stored = [e for e in got if isinstance(e, TracksStored)]
        changed = next(e for e in got if isinstance(e, LibraryChanged))
        assert len(stored) > 1 and got[-1] is changed
        assert [i for e in stored for i in e.track_ids] == list(changed.changed_track_ids)
        assert sorted(added) == sorted(changed.changed_track_ids)  # each once: none again at the end
        n = len(changed.changed_track_ids)
        assert s.search.index.tracks.count() == n
        for t in lib.tracks[:5]:
            assert await _id_of(s, lib, t.path) in await _track_ids(s, t.title)

        t = next(x for x in lib.tracks if x.format == "flac" and x.lyrics != "lrc")
        tid = await _id_of(s, lib, t.path)
        write_tags(lib.root / t.path, replace(t, title="Zanzibar Quokka"))
        _bump_mtime(lib.root / t.path)
        added.clear()
        await s.library.scan()
        assert added == [tid]
        assert s.search.index.tracks.count() == n  # replaced, not added twice
        assert await _track_ids(s, "zanzibar quokka") == [tid]


async def test_damaged_index_is_rebuilt_at_start(built_library: BuiltLibrary, services_for, tmp_path: Path) -> None:
    lib = built_library
    t = lib.tracks[0]
    async with services_for(lib.root) as s:
        await s.library.scan()
        assert await _track_ids(s, t.title)
        data = s.config.data_dir
    for f in (data / "index").rglob("meta.json"):
        f.write_text("{ not json")
    async with services_for(lib.root, data_dir=data) as s:
        assert s.search.index.count() > 0
        assert await _track_ids(s, t.title)
    shutil.rmtree(data / "index")
    async with services_for(lib.root, data_dir=data) as s:
        assert await _track_ids(s, t.title)
