-- What the Subsonic/OpenSubsonic API keeps beyond the catalogue: API keys, bookmarks, saved play
-- queues and shares.

-- OpenSubsonic apiKey authentication: the key is shown once at creation and stored only as a
-- SHA-256 hash; `prefix` lets a user tell their keys apart in a listing.
CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    key_hash     BLOB NOT NULL UNIQUE,
    created_at   TEXT NOT NULL,
    last_used_at TEXT
);
CREATE INDEX api_keys_user ON api_keys (user_id);

-- A resume position in one track per user (audiobooks, long mixes).
CREATE TABLE bookmarks (
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    track_id    TEXT NOT NULL REFERENCES tracks (id) ON DELETE CASCADE,
    position_ms INTEGER NOT NULL CHECK (position_ms >= 0),
    comment     TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (user_id, track_id)
);

-- The one saved play queue of a user. Entries are a JSON array of track ids (duplicates allowed,
-- order kept); ids of tracks removed since are dropped when the queue is read.
CREATE TABLE play_queues (
    user_id       TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    track_ids     TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(track_ids)),
    current_index INTEGER,
    position_ms   INTEGER NOT NULL DEFAULT 0,
    changed_at    TEXT NOT NULL,
    changed_by    TEXT NOT NULL
);

-- Public links to tracks, albums, artists or playlists; the id is the unguessable link token.
CREATE TABLE shares (
    id              TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    description     TEXT,
    created_at      TEXT NOT NULL,
    expires_at      TEXT,
    last_visited_at TEXT,
    visit_count     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX shares_user ON shares (user_id);

CREATE TABLE share_items (
    share_id  TEXT NOT NULL REFERENCES shares (id) ON DELETE CASCADE,
    position  INTEGER NOT NULL,
    item_type TEXT NOT NULL CHECK (item_type IN ('track', 'album', 'artist', 'playlist')),
    item_id   TEXT NOT NULL,
    PRIMARY KEY (share_id, position)
);
