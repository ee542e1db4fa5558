-- Refresh tokens for /v1: stored as SHA-256 hashes, rotated on every use. A family is one login;
-- reusing an already-rotated token revokes the whole family (stolen-token detection).
CREATE TABLE refresh_tokens (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    family_id   TEXT NOT NULL,
    token_hash  BLOB NOT NULL UNIQUE,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_at     TEXT,
    revoked_at  TEXT,
    user_agent  TEXT
);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);

-- Bumped when a user's access must end at once (password change, disable, logout everywhere):
-- access tokens carry the generation they were issued under.
ALTER TABLE users ADD COLUMN token_generation INTEGER NOT NULL DEFAULT 0;
