-- Podcasts (issue 16): channels shared by the server, their episodes and downloads, each user's
-- subscriptions and place in each episode, and the gPodder sync API's devices and episode actions.

CREATE TABLE podcast_channels (
    id              TEXT PRIMARY KEY,
    feed_url        TEXT NOT NULL UNIQUE,
    title           TEXT NOT NULL DEFAULT '',
    author          TEXT NOT NULL DEFAULT '',
    description     TEXT NOT NULL DEFAULT '',    -- sanitised HTML
    link            TEXT,
    image_url       TEXT,
    cover_id        TEXT REFERENCES covers (id) ON DELETE SET NULL,  -- the image, fetched and stored
    cover_url       TEXT,                        -- the image_url the cover was fetched from
    language        TEXT,
    categories      TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(categories)),
    status          TEXT NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'ok', 'error')),
    error           TEXT,
    failures        INTEGER NOT NULL DEFAULT 0,  -- refreshes failed in a row (backoff)
    etag            TEXT,
    last_modified   TEXT,
    last_refresh_at TEXT,
    next_refresh_at TEXT NOT NULL,
    added_by        TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX podcast_channels_due ON podcast_channels (next_refresh_at);

CREATE TABLE podcast_episodes (
    id               TEXT PRIMARY KEY,
    channel_id       TEXT NOT NULL REFERENCES podcast_channels (id) ON DELETE CASCADE,
    guid             TEXT NOT NULL,
    title            TEXT NOT NULL,
    description      TEXT NOT NULL DEFAULT '',   -- sanitised HTML
    published_at     TEXT,
    duration_s       REAL,
    link             TEXT,
    enclosure_url    TEXT NOT NULL,
    enclosure_type   TEXT,
    enclosure_length INTEGER,
    image_url        TEXT,
    chapters_url     TEXT,
    chapters         TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(chapters)),
    transcripts      TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(transcripts)),
    status           TEXT NOT NULL DEFAULT 'new'
                     CHECK (status IN ('new', 'downloading', 'completed', 'error', 'deleted')),
    error            TEXT,
    path             TEXT,                       -- the downloaded file, under the data dir
    format           TEXT,                       -- what the file really is (probed), not what the feed said
    size             INTEGER,
    bitrate          INTEGER,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    UNIQUE (channel_id, guid)
);
CREATE INDEX podcast_episodes_channel ON podcast_episodes (channel_id, published_at);
CREATE INDEX podcast_episodes_enclosure ON podcast_episodes (enclosure_url);
CREATE INDEX podcast_episodes_recent ON podcast_episodes (published_at);

-- A user's subscriptions; a removal is kept (removed_at) so gPodder clients syncing `since` see it.
CREATE TABLE podcast_subscriptions (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    channel_id TEXT NOT NULL REFERENCES podcast_channels (id) ON DELETE CASCADE,
    added_at   TEXT NOT NULL,
    removed_at TEXT,
    changed_ms INTEGER NOT NULL,                 -- epoch milliseconds of the last add or remove
    PRIMARY KEY (user_id, channel_id)
) WITHOUT ROWID;
CREATE INDEX podcast_subscriptions_changed ON podcast_subscriptions (user_id, changed_ms);

-- One place per user and episode, whoever set it (web player, Subsonic bookmark or reportPlayback, gPodder).
CREATE TABLE episode_progress (
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    episode_id  TEXT NOT NULL REFERENCES podcast_episodes (id) ON DELETE CASCADE,
    position_ms INTEGER NOT NULL DEFAULT 0 CHECK (position_ms >= 0),
    played      INTEGER NOT NULL DEFAULT 0,
    device      TEXT,
    updated_ms  INTEGER NOT NULL,                -- epoch milliseconds when the listener was there (newest wins)
    stored_ms   INTEGER NOT NULL,                -- when the server stored it (what gPodder's `since` compares)
    PRIMARY KEY (user_id, episode_id)
) WITHOUT ROWID;
CREATE INDEX episode_progress_recent ON episode_progress (user_id, updated_ms);
CREATE INDEX episode_progress_stored ON episode_progress (user_id, stored_ms);

CREATE TABLE gpodder_devices (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    id         TEXT NOT NULL,
    caption    TEXT NOT NULL DEFAULT '',
    type       TEXT NOT NULL DEFAULT 'other',
    updated_at TEXT NOT NULL,
    PRIMARY KEY (user_id, id)
) WITHOUT ROWID;

-- Episode actions a gPodder client uploaded for episodes musicd does not know (another feed, an old
-- enclosure URL) and the non-play actions: kept as sent so the user's other devices still get them.
CREATE TABLE gpodder_actions (
    seq        INTEGER PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    podcast    TEXT NOT NULL,
    episode    TEXT NOT NULL,
    action     TEXT NOT NULL,
    device     TEXT,
    started    INTEGER,
    position   INTEGER,
    total      INTEGER,
    at_ms      INTEGER NOT NULL,                 -- the action's own timestamp
    stored_ms  INTEGER NOT NULL                  -- when the server received it (what `since` compares)
);
CREATE INDEX gpodder_actions_user ON gpodder_actions (user_id, stored_ms);
