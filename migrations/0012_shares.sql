-- One share table behind both APIs: Subsonic shares (createShare & co) and /v1 playlist share links were
-- two tables with two token rules; they become `shares` + `share_items`, with one rule: a share is found
-- by its link token, of which only the SHA-256 is kept (`token_hash`). A share is revoked (visitors get
-- 410) or deleted (404). The rows moved here keep working with the tokens they had: a Subsonic share's
-- token was its id, a /v1 link's token is known by its hash only.
-- `sha256_hex` is a function the migration runner gives migrations (musicd.store.migrations).

CREATE TABLE shares_new (
    id              TEXT PRIMARY KEY,
    token_hash      TEXT NOT NULL UNIQUE,      -- sha256 hex of the link token
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    description     TEXT,
    created_at      TEXT NOT NULL,
    expires_at      TEXT,                      -- NULL: never
    revoked_at      TEXT,
    last_visited_at TEXT,
    visit_count     INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE share_items_new (
    share_id  TEXT NOT NULL REFERENCES shares_new (id) ON DELETE CASCADE,
    position  INTEGER NOT NULL,
    item_type TEXT NOT NULL CHECK (item_type IN ('track', 'album', 'artist', 'playlist')),
    item_id   TEXT NOT NULL,
    PRIMARY KEY (share_id, position)
);

INSERT INTO shares_new (id, token_hash, user_id, description, created_at, expires_at, revoked_at,
                        last_visited_at, visit_count)
SELECT id, sha256_hex(id), user_id, description, created_at, expires_at, NULL, last_visited_at, visit_count
FROM shares;

INSERT INTO share_items_new (share_id, position, item_type, item_id)
SELECT share_id, position, item_type, item_id FROM share_items;

-- A link whose maker's account is gone belongs to the playlist's owner.
INSERT INTO shares_new (id, token_hash, user_id, description, created_at, expires_at, revoked_at, visit_count)
SELECT ps.id, ps.token_hash, COALESCE(ps.created_by, p.owner_id), NULL, ps.created_at, ps.expires_at,
       ps.revoked_at, 0
FROM playlist_shares ps JOIN playlists p ON p.id = ps.playlist_id;

INSERT INTO share_items_new (share_id, position, item_type, item_id)
SELECT id, 0, 'playlist', playlist_id FROM playlist_shares;

DROP TABLE share_items;
DROP TABLE shares;
DROP TABLE playlist_shares;
ALTER TABLE shares_new RENAME TO shares;
ALTER TABLE share_items_new RENAME TO share_items;
CREATE INDEX shares_user ON shares (user_id);
CREATE INDEX share_items_item ON share_items (item_type, item_id);
