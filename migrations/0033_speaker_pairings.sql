-- Pairing codes of `musicd speaker` (issue 14): the speaker shows a short code, the user approves it (web
-- player, `musicd speaker approve`, or POST /v1/me/speakers/approve), the speaker claims its login once.
-- Only hashes of the code and of the speaker's secret are kept; a code expires after 10 minutes.
CREATE TABLE speaker_pairings (
    id          TEXT PRIMARY KEY,
    code_hash   BLOB NOT NULL UNIQUE,
    secret_hash BLOB NOT NULL,
    name        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  REAL NOT NULL,
    user_id     TEXT REFERENCES users (id) ON DELETE CASCADE,
    approved_at TEXT,
    claimed_at  TEXT
);
CREATE INDEX speaker_pairings_expiry ON speaker_pairings (expires_at);
