-- Albums whose aggregates (track count, duration, discs, year, cover, genres) are out of step with
-- their tracks. A scan marks an album here in the same transaction that writes or deletes its tracks,
-- and its finalize step clears the mark in the transaction that recomputes the album. A scan stopped
-- part-way (kill -9, power cut, a full disk) leaves its marks behind, and the next scan heals them.
CREATE TABLE scan_dirty_albums (
    album_id TEXT PRIMARY KEY
) WITHOUT ROWID;

-- Catalogues scanned before this table existed may hold albums an interrupted scan never finished
-- (no track count, no duration, no cover, no genres): mark those so the next scan heals them too.
INSERT INTO scan_dirty_albums (album_id)
    SELECT al.id FROM albums al
    WHERE al.track_count <> (SELECT count(*) FROM tracks t WHERE t.album_id = al.id)
       OR abs(al.duration - (SELECT total(t.duration) FROM tracks t WHERE t.album_id = al.id)) > 0.001
       OR (al.cover_id IS NULL AND EXISTS (SELECT 1 FROM tracks t WHERE t.album_id = al.id AND t.cover_id IS NOT NULL))
       OR (NOT EXISTS (SELECT 1 FROM album_genres ag WHERE ag.album_id = al.id)
           AND EXISTS (SELECT 1 FROM tracks t JOIN track_genres tg ON tg.track_id = t.id WHERE t.album_id = al.id));
