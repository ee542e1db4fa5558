-- Playlist entries ordered by fractional order keys instead of dense positions (issue 12 item 5).
--
-- A position was the primary key, so moving one entry renumbered every entry after it (a reorder of a
-- 10,000-item playlist rewrote up to 10,000 rows). An order key is a string that sorts between its
-- neighbours (the fractional-indexing scheme: base-62 digits, an integer head and a fraction), so a move,
-- an insert or a removal writes only the entries it moves, adds or removes. An entry's index is its rank.
--
-- Existing entries get the integer keys 'c' + 3 base-62 digits of their position (valid keys for
-- positions below 62^3; a playlist holds at most 10,000 entries).
CREATE TABLE playlist_entries_new (
    playlist_id TEXT NOT NULL REFERENCES playlists (id) ON DELETE CASCADE,
    order_key   TEXT NOT NULL COLLATE BINARY,
    track_id    TEXT NOT NULL REFERENCES tracks (id) ON DELETE CASCADE,
    added_by    TEXT REFERENCES users (id) ON DELETE SET NULL,
    added_at    TEXT NOT NULL,
    PRIMARY KEY (playlist_id, order_key)
) WITHOUT ROWID;

INSERT INTO playlist_entries_new (playlist_id, order_key, track_id, added_by, added_at)
SELECT playlist_id,
       'c' || substr('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', (rn / 3844) % 62 + 1, 1)
           || substr('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', (rn / 62) % 62 + 1, 1)
           || substr('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', rn % 62 + 1, 1),
       track_id, added_by, added_at
FROM (SELECT *, row_number() OVER (PARTITION BY playlist_id ORDER BY position) - 1 AS rn FROM playlist_entries);

DROP TABLE playlist_entries;
ALTER TABLE playlist_entries_new RENAME TO playlist_entries;
CREATE INDEX playlist_entries_track ON playlist_entries (track_id);

-- What each logged version did to the entries (JSON [[added keys], [[removed key, track id], ...]]; NULL
-- when it was too big to log): enough to see a stale snapshot's order again and rebase a reorder made on it.
ALTER TABLE playlist_edits ADD COLUMN changes TEXT;
