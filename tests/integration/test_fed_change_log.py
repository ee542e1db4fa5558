"""The change log peers mirror from: kept by triggers on whatever writes the catalogue (the scanner here)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from musicd.devtools.library_builder import BuiltLibrary, write_tags


async def _log(services: Any) -> dict[str, tuple[int, bool]]:
    rows = await services.db.fetchall("SELECT track_id, seq, deleted FROM fed_changes")
    return {r[0]: (r[1], bool(r[2])) for r in rows}


async def test_scans_feed_the_change_log_with_changes_and_tombstones(
    services_for: Any, library_copy: BuiltLibrary,
) -> None:
    async with services_for(library_copy.root) as s:
        await s.library.scan()
        tracks = {r[0]: r[1] for r in await s.db.fetchall("SELECT id, path FROM tracks")}
        log = await _log(s)
        assert set(log) == set(tracks) and not any(d for _, d in log.values())
        head = max(seq for seq, _ in log.values())
        page = await s.fed.export.catalog("", 500)
        assert page.cursor == head and page.total == len(tracks)
        assert [t.id for t in page.items] == sorted(tracks)

        # Retag one file and remove another: the next scan moves the first past the head, tombstones the second.
        changed = library_copy.tracks[0]
        removed = library_copy.tracks[1]
        from dataclasses import replace

        write_tags(library_copy.root / changed.path, replace(changed, title="A New Title"))
        (library_copy.root / removed.path).unlink()
        await s.library.scan()
        by_path = {Path(p).relative_to(library_copy.root).as_posix(): i for i, p in tracks.items()}
        feed = await s.fed.export.changes(head, 500)
        got = {c.id: c for c in feed.items}
        assert got[by_path[removed.path]].deleted is True and got[by_path[removed.path]].track is None
        assert got[by_path[changed.path]].track is not None
        assert got[by_path[changed.path]].track.title == "A New Title"
        assert all(c.seq > head for c in feed.items) and feed.head == max(c.seq for c in feed.items)
        # Play counts change on every play: they are not changes a peer needs.
        before = await s.fed.export.export.head()
        await s.db.execute("UPDATE tracks SET play_count = play_count + 1")
        assert await s.fed.export.export.head() == before
