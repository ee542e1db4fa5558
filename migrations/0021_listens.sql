-- Plays from every scrobbler (issue 15 item 7): ListenBrainz tokens and the listens received through
-- /listenbrainz/1/submit-listens or imported from a ListenBrainz export or a Last.fm CSV.

-- One ListenBrainz token per user. The token is looked up by its SHA-256 hash; it is also kept sealed
-- with the server key (AES-GCM), so the web player's settings can show it again, as ListenBrainz does.
CREATE TABLE listenbrainz_tokens (
    user_id      TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    token_hash   BLOB NOT NULL UNIQUE,
    token_sealed BLOB NOT NULL,
    created_at   TEXT NOT NULL,
    last_used_at TEXT
);

-- Every listen received, matched to a library track or not. `identity` is a 64-bit hash of the
-- normalised artist and title: a listen is the same listen when user, time and identity agree, whatever
-- door it came through, so re-importing a file (or a scrobbler retrying) adds nothing. An unmatched
-- listen (track_id NULL) is matched again after every scan; a matched one has its play in
-- listening_history (written through the play-event path, or in batches for imports and rematches).
CREATE TABLE listens (
    id             INTEGER PRIMARY KEY,
    user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    listened_at    INTEGER NOT NULL,          -- POSIX seconds, when the listen started
    identity       INTEGER NOT NULL,
    artist         TEXT NOT NULL,
    title          TEXT NOT NULL,
    release        TEXT,
    duration_ms    INTEGER,
    recording_mbid TEXT,
    isrc           TEXT,
    source         TEXT NOT NULL CHECK (source IN ('single', 'import', 'listenbrainz_export', 'lastfm_csv')),
    client         TEXT,
    track_id       TEXT,                      -- no foreign key: like history, a listen outlives a removed file
    matched_by     TEXT CHECK (matched_by IN ('mbid', 'isrc', 'name')),
    received_at    TEXT NOT NULL,
    UNIQUE (user_id, listened_at, identity)
);
CREATE INDEX listens_unmatched ON listens (id) WHERE track_id IS NULL;
