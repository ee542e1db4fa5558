-- Playlist files found in the library folders (.m3u, .m3u8), imported as playlists of the first admin,
-- visible to the household (issue 19). A row remembers which file made which playlist and the file's size
-- and mtime, so a changed file updates its playlist's tracks and an unchanged one is not read again.
-- A playlist deleted by hand stays deleted (playlist_id NULL) until its file changes.
CREATE TABLE library_playlists (
    path        TEXT PRIMARY KEY,
    playlist_id TEXT REFERENCES playlists (id) ON DELETE SET NULL,
    size        INTEGER NOT NULL,
    mtime_ns    INTEGER NOT NULL,
    matched     INTEGER NOT NULL,
    unmatched   INTEGER NOT NULL,
    imported_at TEXT NOT NULL
);
