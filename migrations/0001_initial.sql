-- musicd initial schema: the seed's entities on one SQLite file (WAL, foreign keys on).
-- Ids are opaque TEXT (22 base62 chars); times are ISO-8601 UTC text unless named *_ns / *_ms.

CREATE TABLE users (
    id              TEXT PRIMARY KEY,
    username        TEXT NOT NULL UNIQUE COLLATE NOCASE,
    email           TEXT UNIQUE COLLATE NOCASE,
    display_name    TEXT NOT NULL,
    password_hash   TEXT NOT NULL,            -- argon2id
    subsonic_secret BLOB,                     -- password encrypted with the server key, for Subsonic token auth
    role            TEXT NOT NULL DEFAULT 'user' CHECK (role IN ('admin', 'user', 'guest')),
    disabled        INTEGER NOT NULL DEFAULT 0,
    settings        TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(settings)),
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);

CREATE TABLE library_folders (
    id           INTEGER PRIMARY KEY,
    path         TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    last_scan_at TEXT
);

CREATE TABLE covers (
    id         TEXT PRIMARY KEY,             -- content hash of the image bytes
    mime       TEXT NOT NULL,
    width      INTEGER,
    height     INTEGER,
    size       INTEGER NOT NULL,
    source     TEXT NOT NULL,                -- 'embedded' | 'folder' | 'upload'
    created_at TEXT NOT NULL
);

CREATE TABLE artists (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    name_key    TEXT NOT NULL UNIQUE,        -- case-folded name: the grouping key
    sort_name   TEXT,
    mbid        TEXT,
    bio         TEXT,
    cover_id    TEXT REFERENCES covers (id) ON DELETE SET NULL,
    created_at  TEXT NOT NULL
);

CREATE TABLE albums (
    id               TEXT PRIMARY KEY,
    group_key        TEXT NOT NULL UNIQUE,   -- album artist key + album name key
    name             TEXT NOT NULL,
    album_artist_id  TEXT NOT NULL REFERENCES artists (id),
    compilation      INTEGER NOT NULL DEFAULT 0,
    year             INTEGER,
    release_date     TEXT,
    mbid             TEXT,
    cover_id         TEXT REFERENCES covers (id) ON DELETE SET NULL,
    disc_total       INTEGER,
    track_count      INTEGER NOT NULL DEFAULT 0,
    duration         REAL NOT NULL DEFAULT 0,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX albums_artist ON albums (album_artist_id);
CREATE INDEX albums_created ON albums (created_at);
CREATE INDEX albums_year ON albums (year);

CREATE TABLE genres (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE
);

CREATE TABLE tracks (
    id                 TEXT PRIMARY KEY,
    folder_id          INTEGER NOT NULL REFERENCES library_folders (id),
    path               TEXT NOT NULL UNIQUE,   -- absolute; never taken from a client
    size               INTEGER NOT NULL,
    mtime_ns           INTEGER NOT NULL,
    fingerprint        TEXT NOT NULL,          -- content sample hash: finds a moved file
    format             TEXT NOT NULL,
    title              TEXT NOT NULL,
    artist_display     TEXT NOT NULL,          -- the artist string as tagged ("A feat. B")
    album_id           TEXT NOT NULL REFERENCES albums (id),
    track_number       INTEGER,
    track_total        INTEGER,
    disc_number        INTEGER,
    disc_total         INTEGER,
    disc_subtitle      TEXT,
    year               INTEGER,
    release_date       TEXT,
    duration           REAL NOT NULL,
    bitrate            INTEGER,
    sample_rate        INTEGER,
    channels           INTEGER,
    bit_depth          INTEGER,
    isrc               TEXT,
    mbid_recording     TEXT,
    mbid_release_track TEXT,
    rg_track_gain      REAL,
    rg_track_peak      REAL,
    rg_album_gain      REAL,
    rg_album_peak      REAL,
    bpm                INTEGER,
    comment            TEXT,
    cover_id           TEXT REFERENCES covers (id) ON DELETE SET NULL,
    has_lyrics         INTEGER NOT NULL DEFAULT 0,
    play_count         INTEGER NOT NULL DEFAULT 0,
    last_played_at     TEXT,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
);
CREATE INDEX tracks_album ON tracks (album_id, disc_number, track_number);
CREATE INDEX tracks_fingerprint ON tracks (size, fingerprint);
CREATE INDEX tracks_mbid ON tracks (mbid_recording);
CREATE INDEX tracks_folder ON tracks (folder_id);

CREATE TABLE track_artists (
    track_id  TEXT NOT NULL REFERENCES tracks (id) ON DELETE CASCADE,
    artist_id TEXT NOT NULL REFERENCES artists (id),
    role      TEXT NOT NULL CHECK (role IN ('main', 'featured')),
    position  INTEGER NOT NULL,
    PRIMARY KEY (track_id, artist_id)
);
CREATE INDEX track_artists_artist ON track_artists (artist_id);

CREATE TABLE track_genres (
    track_id TEXT NOT NULL REFERENCES tracks (id) ON DELETE CASCADE,
    genre_id INTEGER NOT NULL REFERENCES genres (id),
    position INTEGER NOT NULL,
    PRIMARY KEY (track_id, genre_id)
);
CREATE INDEX track_genres_genre ON track_genres (genre_id);

CREATE TABLE album_genres (
    album_id TEXT NOT NULL REFERENCES albums (id) ON DELETE CASCADE,
    genre_id INTEGER NOT NULL REFERENCES genres (id),
    position INTEGER NOT NULL,
    PRIMARY KEY (album_id, genre_id)
);
CREATE INDEX album_genres_genre ON album_genres (genre_id);

CREATE TABLE lyrics (
    track_id TEXT PRIMARY KEY REFERENCES tracks (id) ON DELETE CASCADE,
    source   TEXT NOT NULL CHECK (source IN ('lrc', 'embedded')),
    synced   INTEGER NOT NULL,
    lang     TEXT,
    text     TEXT NOT NULL
);

-- Files that could not be read: kept so an unchanged broken file is not re-read on every scan.
CREATE TABLE scan_failures (
    path      TEXT PRIMARY KEY,
    size      INTEGER NOT NULL,
    mtime_ns  INTEGER NOT NULL,
    reason    TEXT NOT NULL,
    seen_at   TEXT NOT NULL
);

CREATE TABLE scan_runs (
    id          INTEGER PRIMARY KEY,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    added       INTEGER NOT NULL DEFAULT 0,
    updated     INTEGER NOT NULL DEFAULT 0,
    moved       INTEGER NOT NULL DEFAULT 0,
    removed     INTEGER NOT NULL DEFAULT 0,
    failed      INTEGER NOT NULL DEFAULT 0,
    unchanged   INTEGER NOT NULL DEFAULT 0,
    wall_s      REAL,
    report      TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(report)) -- what referred to removed tracks
);

CREATE TABLE playlists (
    id            TEXT PRIMARY KEY,
    owner_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    description   TEXT NOT NULL DEFAULT '',
    public        INTEGER NOT NULL DEFAULT 0,
    collaborative INTEGER NOT NULL DEFAULT 0,
    version       INTEGER NOT NULL DEFAULT 1,  -- optimistic locking: bumped by every change (snapshot_id)
    cover_id      TEXT REFERENCES covers (id) ON DELETE SET NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX playlists_owner ON playlists (owner_id);

CREATE TABLE playlist_entries (
    playlist_id TEXT NOT NULL REFERENCES playlists (id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    track_id    TEXT NOT NULL REFERENCES tracks (id) ON DELETE CASCADE,
    added_by    TEXT REFERENCES users (id) ON DELETE SET NULL,
    added_at    TEXT NOT NULL,
    PRIMARY KEY (playlist_id, position)
);
CREATE INDEX playlist_entries_track ON playlist_entries (track_id);

CREATE TABLE playlist_collaborators (
    playlist_id TEXT NOT NULL REFERENCES playlists (id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    added_at    TEXT NOT NULL,
    PRIMARY KEY (playlist_id, user_id)
);

CREATE TABLE playlist_follows (
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    playlist_id TEXT NOT NULL REFERENCES playlists (id) ON DELETE CASCADE,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (user_id, playlist_id)
);

CREATE TABLE artist_follows (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    artist_id  TEXT NOT NULL REFERENCES artists (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    PRIMARY KEY (user_id, artist_id)
);

CREATE TABLE user_follows (
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    followee_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (user_id, followee_id),
    CHECK (user_id <> followee_id)
);

-- Saved tracks / albums / artists (Subsonic "starred", Spotify "saved").
CREATE TABLE saved_items (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    item_type  TEXT NOT NULL CHECK (item_type IN ('track', 'album', 'artist')),
    item_id    TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (user_id, item_type, item_id)
);

CREATE TABLE ratings (
    user_id   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    item_type TEXT NOT NULL CHECK (item_type IN ('track', 'album', 'artist')),
    item_id   TEXT NOT NULL,
    rating    INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    PRIMARY KEY (user_id, item_type, item_id)
);

-- Append-only, written in batches by the play-event writer (the seed's Cassandra table).
-- No foreign key on track_id: history outlives a removed file.
CREATE TABLE listening_history (
    id          INTEGER PRIMARY KEY,
    user_id     TEXT NOT NULL,
    track_id    TEXT NOT NULL,
    played_at   TEXT NOT NULL,
    ms_played   INTEGER NOT NULL DEFAULT 0,
    context_uri TEXT,
    device_id   TEXT
);
CREATE INDEX listening_history_user ON listening_history (user_id, played_at);
CREATE INDEX listening_history_track ON listening_history (track_id);

CREATE TABLE devices (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    type        TEXT NOT NULL DEFAULT 'computer',
    max_quality TEXT,
    last_seen   TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX devices_user ON devices (user_id);
