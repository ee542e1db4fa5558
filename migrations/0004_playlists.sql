-- Playlists: the edit log that decides stale-snapshot merges, share links, follows shown on a profile.

-- One row per playlist version: which change made it and the first entry index it touched (NULL: no
-- entry touched, e.g. a rename). A change sent against an older snapshot is merged only when it does not
-- depend on entries at or after any later change's `low`. Kept for the last few hundred versions.
CREATE TABLE playlist_edits (
    playlist_id TEXT NOT NULL REFERENCES playlists (id) ON DELETE CASCADE,
    version     INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    low         INTEGER,
    user_id     TEXT,
    at          TEXT NOT NULL,
    PRIMARY KEY (playlist_id, version)
) WITHOUT ROWID;

-- Read-only links that work without an account; only a hash of the token is kept.
CREATE TABLE playlist_shares (
    id          TEXT PRIMARY KEY,
    playlist_id TEXT NOT NULL REFERENCES playlists (id) ON DELETE CASCADE,
    token_hash  TEXT NOT NULL UNIQUE,          -- sha256 hex of the token
    created_by  TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT,                          -- NULL: never
    revoked_at  TEXT
);
CREATE INDEX playlist_shares_playlist ON playlist_shares (playlist_id);

-- Spotify's follow has a `public` flag: whether the playlist shows on the follower's profile.
ALTER TABLE playlist_follows ADD COLUMN public INTEGER NOT NULL DEFAULT 1;
CREATE INDEX playlist_follows_playlist ON playlist_follows (playlist_id);
CREATE INDEX playlist_collaborators_user ON playlist_collaborators (user_id);
