-- Issue 20 item 4: getArtists at 100k tracks spent most of its time in per-artist subqueries (albums,
-- tracks, a cover to show). They are stored on the artist now, derived from albums and tracks alone and
-- recomputed by the scan's finalize step with the album aggregates (musicd/store/artist_totals.py).
ALTER TABLE artists ADD COLUMN album_count INTEGER NOT NULL DEFAULT 0;  -- albums they are the album artist of
ALTER TABLE artists ADD COLUMN track_count INTEGER NOT NULL DEFAULT 0;  -- tracks crediting them
-- The cover shown when the artist has none of its own (artists.cover_id): their newest album's, else that
-- of the first track crediting them (by path: the live query it replaces took whichever row came first,
-- which depended on the order a scan wrote them in).
ALTER TABLE artists ADD COLUMN fallback_cover_id TEXT;

UPDATE artists SET
 album_count = (SELECT count(*) FROM albums al WHERE al.album_artist_id = artists.id),
 track_count = (SELECT count(*) FROM track_artists ta WHERE ta.artist_id = artists.id),
 fallback_cover_id = coalesce(
   (SELECT al.cover_id FROM albums al WHERE al.album_artist_id = artists.id AND al.cover_id IS NOT NULL
     ORDER BY al.year DESC, al.name, al.id LIMIT 1),
   (SELECT t.cover_id FROM track_artists ta JOIN tracks t ON t.id = ta.track_id
     WHERE ta.artist_id = artists.id AND t.cover_id IS NOT NULL ORDER BY t.path LIMIT 1));

-- getAlbumList2 alphabeticalByName sorted every album by fold(name) on each request (6 ms at 10k albums):
-- the folded name is stored (set by the scan's finalize with the album aggregates) and indexed.
ALTER TABLE albums ADD COLUMN name_fold TEXT;
UPDATE albums SET name_fold = fold(name);
CREATE INDEX albums_name_fold ON albums (name_fold, name, id);

-- A counter the scan's finalize step bumps whenever it recomputes the catalogue: the server keeps the
-- artist index (getArtists, getIndexes) in memory while the counter stays the same, in any process.
CREATE TABLE catalogue_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO catalogue_version (id, version) VALUES (1, 0);
