-- Server-held playback (issue 14): one state per user, the devices that may play it.
-- The state is a JSON document (musicd.domain.player.PlayerState) beside its version, written on every
-- change so that a restart resumes where the user was; `version` only grows.
CREATE TABLE player_states (
    user_id    TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    version    INTEGER NOT NULL,
    state      TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- Devices a user has played on: web player tabs, speakers, Subsonic apps (the table exists since 0001).
-- Whether one is online is the server's memory (an open realtime connection, a recent report).
ALTER TABLE devices ADD COLUMN kind TEXT NOT NULL DEFAULT 'web';
ALTER TABLE devices ADD COLUMN supports_volume INTEGER NOT NULL DEFAULT 1;
