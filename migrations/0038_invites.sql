-- Invite links (issue 19): an admin makes a link that lets one new member create their own account with
-- the role the admin chose, until it expires. Only the SHA-256 of the link's token is kept.
CREATE TABLE invites (
    id          TEXT PRIMARY KEY,
    token_hash  TEXT NOT NULL UNIQUE,
    role        TEXT NOT NULL CHECK (role IN ('admin', 'user', 'guest')),
    note        TEXT,                                                  -- who it is for, as the admin wrote it
    created_by  TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_at     TEXT,
    used_by     TEXT REFERENCES users (id) ON DELETE SET NULL,
    revoked_at  TEXT
);
CREATE INDEX invites_created ON invites (created_at);
