"""Catalogue writes for the scanner: tracks, artists, albums, genres, covers, lyrics, failures."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import aiosqlite

from musicd.domain.grouping import album_identity, artist_key
from musicd.domain.ids import derived_id
from musicd.domain.models import CoverRef, KnownFile, TrackChange
from musicd.store.album_totals import MARKED_ALBUMS, recompute_marked_albums
from musicd.store.db import Database, utc_now

__all__ = ["CatalogRepository"]


_TRACK_COLS = (
    "id", "folder_id", "path", "size", "mtime_ns", "fingerprint", "format", "title", "artist_display",
    "album_id", "track_number", "track_total", "disc_number", "disc_total", "disc_subtitle", "year",
    "release_date", "duration", "bitrate", "sample_rate", "channels", "bit_depth", "isrc", "mbid_recording",
    "mbid_release_track", "rg_track_gain", "rg_track_peak", "rg_album_gain", "rg_album_peak", "bpm",
    "comment", "cover_id", "has_lyrics", "created_at", "updated_at",
)
_UPSERT_TRACK = (
    f"INSERT INTO tracks ({', '.join(_TRACK_COLS)}) VALUES ({', '.join('?' * len(_TRACK_COLS))}) "
    "ON CONFLICT (id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in _TRACK_COLS if c not in ("id", "created_at"))
)
_IDS = "SELECT value FROM json_each(?)"
# One value of many spellings or ids, whichever file was stored first: the smallest non-null, so two
# scans of one library keep the same one whatever order their files were read in.
_SMALLEST_SQL = "coalesce(min({0} COLLATE BINARY, excluded.{1}), {0}, excluded.{1})"


def _smallest(a: str | None, b: str | None) -> str | None:
    """`_SMALLEST_SQL` in Python: the smaller of two values, or the one that is not None."""
    return b if a is None else a if b is None else min(a, b)


class CatalogRepository:
    """The scanner's view of the catalogue. Each `apply` is one transaction.

    Every write that changes an album's tracks marks the album in `scan_dirty_albums` in the same
    transaction; the `finalize` that ends a complete scan recomputes the marked albums and clears the
    marks in one transaction. So a scan stopped anywhere (kill -9, a full disk) leaves marks that the
    next scan heals.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self._genre_ids: dict[str, int] = {}
        # Within a scan (cleared by finalize): artist name -> (key, id) and album key -> id. Every track
        # names its album and artists again, and deriving an id (hash, base62) cost a third of `apply`.
        self._artist_refs: dict[str, tuple[str, str]] = {}
        self._album_ids: dict[str, str] = {}

    async def ensure_folder(self, path: str) -> int:
        """The id of a library folder, creating its row on first sight."""
        row = await self.db.fetchone("SELECT id FROM library_folders WHERE path = ?", (path,))
        if row:
            return int(row[0])
        name = path.rstrip("/").rsplit("/", 1)[-1] or path
        async with self.db.transaction() as conn:
            await conn.execute("INSERT OR IGNORE INTO library_folders (path, name) VALUES (?, ?)", (path, name))
            async with conn.execute("SELECT id FROM library_folders WHERE path = ?", (path,)) as cur:
                r = await cur.fetchone()
        assert r is not None
        return int(r[0])

    async def folders(self) -> dict[int, str]:
        """Every library folder the catalogue has seen, by id."""
        return {int(r[0]): r[1] for r in await self.db.fetchall("SELECT id, path FROM library_folders")}

    async def forget_folder(self, folder_id: int) -> None:
        """Drop a library folder's row once it holds no tracks (it is no longer configured)."""
        await self.db.execute("DELETE FROM library_folders WHERE id = ? AND NOT EXISTS "
                              "(SELECT 1 FROM tracks WHERE folder_id = ?)", (folder_id, folder_id))

    async def mark_scanned(self, folder_id: int) -> None:
        """Record when a folder was last scanned in full."""
        await self.db.execute("UPDATE library_folders SET last_scan_at = ? WHERE id = ?", (utc_now(), folder_id))

    async def known_files(self, folder_id: int) -> dict[str, KnownFile]:
        rows = await self.db.fetchall(
            "SELECT path, id, size, mtime_ns, fingerprint, mbid_recording, album_id FROM tracks WHERE folder_id = ?",
            (folder_id,),
        )
        return {r[0]: KnownFile(*r[1:]) for r in rows}

    async def known_failures(self) -> dict[str, tuple[int, int, str]]:
        rows = await self.db.fetchall("SELECT path, size, mtime_ns, reason FROM scan_failures")
        return {r[0]: (r[1], r[2], r[3]) for r in rows}

    async def failures_page(self, limit: int, offset: int) -> tuple[list[tuple[str, str, str]], int]:
        """Files the scans could not read, by path: (path, reason, seen_at), and how many there are."""
        rows = await self.db.fetchall(
            "SELECT path, reason, seen_at FROM scan_failures ORDER BY path LIMIT ? OFFSET ?", (limit, offset))
        total = await self.db.fetchone("SELECT count(*) FROM scan_failures")
        return [(r[0], r[1], r[2]) for r in rows], int(total[0]) if total else 0

    async def track_count(self) -> int:
        row = await self.db.fetchone("SELECT count(*) FROM tracks")
        return int(row[0]) if row else 0

    async def counts(self) -> dict[str, int]:
        row = await self.db.fetchone(
            "SELECT (SELECT count(*) FROM tracks), (SELECT count(*) FROM albums), (SELECT count(*) FROM artists),"
            " (SELECT count(*) FROM covers), (SELECT count(*) FROM lyrics)"
        )
        assert row is not None
        return dict(zip(("tracks", "albums", "artists", "covers", "lyrics"), row, strict=True))

    async def _genre_map(self, conn: aiosqlite.Connection, names: Iterable[str]) -> dict[str, int]:
        """Genre ids by exact spelling; spellings that differ in case share one row, named by the smallest."""
        missing = sorted({n for n in names if n not in self._genre_ids})
        if missing:
            await conn.executemany(
                f"INSERT INTO genres (name) VALUES (?) ON CONFLICT (name) DO UPDATE SET name = "
                f"{_SMALLEST_SQL.format('genres.name', 'name')}", [(n,) for n in missing],
            )
            for n in missing:
                async with conn.execute("SELECT id FROM genres WHERE name = ?", (n,)) as cur:
                    row = await cur.fetchone()
                assert row is not None
                self._genre_ids[n] = row[0]
        return self._genre_ids

    async def apply(self, folder_id: int, changes: Sequence[TrackChange], old_album_ids: Iterable[str]) -> None:
        """Store new, re-read and moved tracks in one transaction, marking the albums they touched
        (`old_album_ids`: the albums re-read and moved tracks were in before) for `finalize`."""
        now = utc_now()
        artists: dict[str, tuple[Any, ...]] = {}
        albums: dict[str, tuple[Any, ...]] = {}
        covers: dict[str, CoverRef] = {}
        track_rows, artist_links, genre_links, lyric_rows, replaced = [], [], [], [], []
        touched = set(old_album_ids)

        def add_artist(name: str, mbid: str | None) -> str:
            if (ref := self._artist_refs.get(name)) is None:
                key = artist_key(name)
                ref = self._artist_refs[name] = (key, derived_id("artist", key))
            key, aid = ref
            if key in artists:
                name, mbid = min(name, artists[key][1]), _smallest(mbid, artists[key][3])
            artists[key] = (aid, name, key, mbid, now)
            return aid

        for ch in changes:
            t = ch.track
            tid = ch.track_id
            if not ch.new:
                replaced.append(tid)
            gkey, aa_name, aa_mbid = album_identity(t)
            if (album_id := self._album_ids.get(gkey)) is None:
                album_id = self._album_ids[gkey] = derived_id("album", gkey)
            aa_id = add_artist(aa_name, aa_mbid)
            name, mbid, comp = t.album, t.mbid_album, int(t.compilation)
            if (seen := albums.get(gkey)) is not None:
                name, mbid, comp = min(name, seen[2]), _smallest(mbid, seen[7]), max(comp, seen[4])
            # year, release_date and disc_total are placeholders here: finalize derives them from the tracks.
            albums[gkey] = (album_id, gkey, name, aa_id, comp, t.year, t.release_date, mbid, t.disc_total, now, now)
            touched.add(album_id)
            for pos, credit in enumerate(t.artists):
                artist_links.append((tid, add_artist(credit.name, credit.mbid), credit.role, pos))
            cover = t.cover or t.folder_cover
            for c in (t.cover, t.folder_cover):
                if c is not None:
                    covers.setdefault(c.id, c)
            track_rows.append((
                tid, folder_id, t.path, t.size, t.mtime_ns, t.fingerprint, t.format, t.title, t.artist,
                album_id, t.track_number, t.track_total, t.disc_number, t.disc_total, t.disc_subtitle, t.year,
                t.release_date, t.duration, t.bitrate, t.sample_rate, t.channels, t.bit_depth, t.isrc,
                t.mbid_recording, t.mbid_release_track, t.rg_track_gain, t.rg_track_peak, t.rg_album_gain,
                t.rg_album_peak, t.bpm, t.comment, cover.id if cover else None, int(t.lyrics is not None),
                now, now,
            ))
            for pos, g in enumerate(t.genres):
                genre_links.append((tid, g, pos))
            for pos, ly in enumerate([t.lyrics, *t.more_lyrics] if t.lyrics is not None else []):
                lyric_rows.append((tid, ly.source, int(ly.synced), ly.lang or "und", ly.text, pos))

        try:
            async with self.db.transaction() as conn:
                await conn.execute(
                    f"INSERT OR IGNORE INTO scan_dirty_albums (album_id) {_IDS}", (json.dumps(sorted(touched)),)
                )
                await conn.executemany(
                    "INSERT INTO artists (id, name, name_key, mbid, created_at) VALUES (?, ?, ?, ?, ?) "
                    f"ON CONFLICT (name_key) DO UPDATE SET name = {_SMALLEST_SQL.format('artists.name', 'name')},"
                    f" mbid = {_SMALLEST_SQL.format('artists.mbid', 'mbid')}",
                    list(artists.values()),
                )
                await conn.executemany(
                    "INSERT OR IGNORE INTO covers (id, mime, width, height, size, source, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [(c.id, c.mime, c.width, c.height, c.size, c.source, now) for c in covers.values()],
                )
                await conn.executemany(
                    "INSERT INTO albums (id, group_key, name, album_artist_id, compilation, year, release_date, mbid,"
                    " disc_total, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (group_key) DO UPDATE SET updated_at = excluded.updated_at,"
                    f" name = {_SMALLEST_SQL.format('albums.name', 'name')},"
                    f" mbid = {_SMALLEST_SQL.format('albums.mbid', 'mbid')},"
                    " compilation = max(albums.compilation, excluded.compilation)",
                    list(albums.values()),
                )
                if replaced:
                    js = json.dumps(replaced)
                    for table in ("track_artists", "track_genres", "lyrics"):
                        await conn.execute(f"DELETE FROM {table} WHERE track_id IN ({_IDS})", (js,))
                await conn.executemany(_UPSERT_TRACK, track_rows)
                await conn.executemany(
                    "INSERT OR IGNORE INTO track_artists (track_id, artist_id, role, position) VALUES (?, ?, ?, ?)",
                    artist_links,
                )
                gmap = await self._genre_map(conn, {g for _, g, _ in genre_links})
                await conn.executemany(
                    "INSERT OR IGNORE INTO track_genres (track_id, genre_id, position) VALUES (?, ?, ?)",
                    [(tid, gmap[g], pos) for tid, g, pos in genre_links],
                )
                await conn.executemany(
                    "INSERT OR IGNORE INTO lyrics (track_id, source, synced, lang, text, position)"
                    " VALUES (?, ?, ?, ?, ?, ?)", lyric_rows,
                )
                if track_rows:
                    await conn.execute(f"DELETE FROM scan_failures WHERE path IN ({_IDS})",
                                       (json.dumps([r[2] for r in track_rows]),))
        except BaseException:
            self._genre_ids.clear()  # the genres it inserted were rolled back with the rest
            raise

    async def record_failures(self, failures: Sequence[tuple[str, int, int, str]]) -> None:
        """Remember files that could not be read (path, size, mtime_ns, reason)."""
        now = utc_now()
        await self.db.executemany(
            "INSERT INTO scan_failures (path, size, mtime_ns, reason, seen_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (path) DO UPDATE SET size = excluded.size, mtime_ns = excluded.mtime_ns,"
            " reason = excluded.reason, seen_at = excluded.seen_at",
            [(*f, now) for f in failures],
        )

    async def forget_failures(self, paths: Sequence[str]) -> None:
        if paths:
            await self.db.execute(f"DELETE FROM scan_failures WHERE path IN ({_IDS})", (json.dumps(list(paths)),))

    async def removal_report(self, track_ids: Sequence[str]) -> dict[str, Any]:
        """What refers to tracks about to be removed: playlist entries, saves, ratings, kept history."""
        js = json.dumps(list(track_ids))
        playlists = await self.db.fetchall(
            "SELECT p.id, p.name, u.username, count(*) FROM playlist_entries e JOIN playlists p ON p.id = e.playlist_id"
            f" JOIN users u ON u.id = p.owner_id WHERE e.track_id IN ({_IDS}) GROUP BY p.id ORDER BY p.name", (js,)
        )
        saved = await self.db.fetchall(
            "SELECT u.username, count(*) FROM saved_items s JOIN users u ON u.id = s.user_id"
            f" WHERE s.item_type = 'track' AND s.item_id IN ({_IDS}) GROUP BY u.username", (js,)
        )
        rated = await self.db.fetchone(
            f"SELECT count(*) FROM ratings WHERE item_type = 'track' AND item_id IN ({_IDS})", (js,)
        )
        history = await self.db.fetchone(f"SELECT count(*) FROM listening_history WHERE track_id IN ({_IDS})", (js,))
        return {
            "playlist_entries": [
                {"playlist_id": r[0], "playlist": r[1], "owner": r[2], "entries": r[3]} for r in playlists
            ],
            "saved_by": {r[0]: r[1] for r in saved},
            "ratings": rated[0] if rated else 0,
            "history_rows_kept": history[0] if history else 0,
        }

    async def remove_tracks(self, track_ids: Sequence[str]) -> None:
        """Delete tracks (their playlist entries, saves and ratings go with them), marking their albums."""
        if not track_ids:
            return
        js = json.dumps(list(track_ids))
        async with self.db.transaction() as conn:
            await conn.execute(
                f"INSERT OR IGNORE INTO scan_dirty_albums (album_id) SELECT album_id FROM tracks WHERE id IN ({_IDS})",
                (js,),
            )
            await conn.execute(
                "UPDATE playlists SET version = version + 1, updated_at = ? WHERE id IN"
                f" (SELECT DISTINCT playlist_id FROM playlist_entries WHERE track_id IN ({_IDS}))", (utc_now(), js)
            )
            for table in ("saved_items", "ratings"):
                await conn.execute(f"DELETE FROM {table} WHERE item_type = 'track' AND item_id IN ({_IDS})", (js,))
            await conn.execute(f"DELETE FROM tracks WHERE id IN ({_IDS})", (js,))

    async def unfinished_albums(self) -> list[str]:
        """Albums changed since the last complete scan: at the start of a scan, what an interrupted one left."""
        return [r[0] for r in await self.db.fetchall(f"{MARKED_ALBUMS} ORDER BY album_id")]

    async def album_track_ids(self, album_ids: Sequence[str]) -> list[str]:
        """The ids of the tracks of `album_ids`."""
        rows = await self.db.fetchall(
            f"SELECT id FROM tracks WHERE album_id IN ({_IDS}) ORDER BY path", (json.dumps(list(album_ids)),)
        )
        return [r[0] for r in rows]

    async def finalize(self, *, clear: bool = True) -> int:
        """Recompute every marked album (`recompute_marked_albums`) and clear the marks unless `clear` is
        False (a scan that is not complete yet); one transaction. Returns how many albums it recomputed."""
        async with self.db.transaction() as conn:
            done = await recompute_marked_albums(conn, utc_now())
            if done and clear:
                await conn.execute("DELETE FROM scan_dirty_albums")
        self._genre_ids.clear()
        self._artist_refs.clear()
        self._album_ids.clear()
        return done

    async def search_track_rows(self, track_ids: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """Tracks with what the search index needs: names, artists, album, genres, year, lyrics, plays."""
        where, params = "", ()
        if track_ids is not None:
            where, params = f"WHERE t.id IN ({_IDS})", (json.dumps(list(track_ids)),)
        rows = await self.db.fetchall(
            "SELECT t.id, t.title, al.name, aa.name, t.year, t.play_count,"
            # lyrics_shown, spelt out: through the view SQLite rebuilt an index of every lyric for each
            # statement (a third of the search index's time after a first scan of 100k tracks).
            " (SELECT group_concat(text, ' ') FROM (SELECT u.text FROM lyrics_user u WHERE u.track_id = t.id"
            "  UNION ALL SELECT l.text FROM lyrics l WHERE l.track_id = t.id AND NOT EXISTS"
            "  (SELECT 1 FROM lyrics_user u WHERE u.track_id = l.track_id AND u.lang = l.lang))),"
            " (SELECT json_group_array(name) FROM (SELECT a.name FROM track_artists ta JOIN artists a"
            "   ON a.id = ta.artist_id WHERE ta.track_id = t.id ORDER BY ta.position)),"
            " (SELECT json_group_array(name) FROM (SELECT g.name FROM track_genres tg JOIN genres g"
            "   ON g.id = tg.genre_id WHERE tg.track_id = t.id ORDER BY tg.position))"
            " FROM tracks t JOIN albums al ON al.id = t.album_id JOIN artists aa ON aa.id = al.album_artist_id"
            f" {where}",
            params,
        )
        return [
            {"id": r[0], "name": r[1], "album": r[2], "album_artist": r[3], "year": r[4], "popularity": r[5],
             "lyrics": r[6], "artists": json.loads(r[7]), "genres": json.loads(r[8])}
            for r in rows
        ]

    async def album_and_artist_ids(self) -> set[str]:
        """Ids of every album and artist (cheap: no aggregates)."""
        rows = await self.db.fetchall("SELECT id FROM albums UNION ALL SELECT id FROM artists")
        return {r[0] for r in rows}

    async def search_album_rows(self) -> list[dict[str, Any]]:
        """Every album with its artist, genres, year and summed plays."""
        rows = await self.db.fetchall(
            "SELECT al.id, al.name, ar.name, al.year,"
            " coalesce((SELECT sum(play_count) FROM tracks t WHERE t.album_id = al.id), 0),"
            " (SELECT json_group_array(name) FROM (SELECT g.name FROM album_genres ag JOIN genres g"
            "   ON g.id = ag.genre_id WHERE ag.album_id = al.id ORDER BY ag.position))"
            " FROM albums al JOIN artists ar ON ar.id = al.album_artist_id"
        )
        return [{"id": r[0], "name": r[1], "artists": [r[2]], "album_artist": r[2], "year": r[3],
                 "popularity": r[4], "genres": json.loads(r[5])} for r in rows]

    async def search_artist_rows(self) -> list[dict[str, Any]]:
        """Every artist with the plays of the tracks they are credited on."""
        rows = await self.db.fetchall(
            "SELECT a.id, a.name, coalesce((SELECT sum(t.play_count) FROM track_artists ta JOIN tracks t"
            " ON t.id = ta.track_id WHERE ta.artist_id = a.id), 0) FROM artists a"
        )
        return [{"id": r[0], "name": r[1], "popularity": r[2]} for r in rows]

    async def search_playlist_rows(self, playlist_ids: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """Playlists with their owner's name, description, visibility and follower count."""
        where, params = "", ()
        if playlist_ids is not None:
            where, params = f"WHERE p.id IN ({_IDS})", (json.dumps(list(playlist_ids)),)
        rows = await self.db.fetchall(
            "SELECT p.id, p.name, p.description, u.display_name, p.owner_id, p.public,"
            " (SELECT count(*) FROM playlist_follows f WHERE f.playlist_id = p.id)"
            f" FROM playlists p JOIN users u ON u.id = p.owner_id {where}",
            params,
        )
        return [{"id": r[0], "name": r[1], "lyrics": r[2] or None, "artists": [r[3]], "owner_id": r[4],
                 "public": bool(r[5]), "popularity": r[6]} for r in rows]

    async def begin_scan(self, started_at: str) -> int:
        """Record that a scan started; its `finished_at` stays NULL unless `record_scan` sees it finish."""
        async with self.db.transaction() as conn:
            cur = await conn.execute("INSERT INTO scan_runs (started_at) VALUES (?)", (started_at,))
            return int(cur.lastrowid or 0)

    async def record_scan(self, run_id: int, summary: dict[str, Any]) -> None:
        """Record what a finished scan did."""
        await self.db.execute(
            "UPDATE scan_runs SET finished_at = ?, added = ?, updated = ?, moved = ?, removed = ?, failed = ?,"
            " unchanged = ?, wall_s = ?, report = ? WHERE id = ?",
            (utc_now(), summary["added"], summary["updated"], summary["moved"], summary["removed"],
             summary["failed"], summary["unchanged"], summary["wall_s"], json.dumps(summary.get("report", {})), run_id),
        )

    async def last_scan_unfinished(self) -> bool:
        """Whether the last scan stopped before it finished (killed, failed) or left albums unfinished."""
        row = await self.db.fetchone(
            "SELECT (SELECT finished_at IS NULL FROM scan_runs ORDER BY id DESC LIMIT 1)"
            " OR EXISTS (SELECT 1 FROM scan_dirty_albums)"
        )
        return bool(row and row[0])
