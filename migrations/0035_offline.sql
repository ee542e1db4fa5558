-- Offline listening (issue 17): devices registered for offline use, what each one keeps offline, and what
-- it last said it holds. No key is stored: device keys and tokens are derived from the server key with the
-- user id, the device id and `key_version` (docs/offline.md). Apart from the `devices` table of playback
-- devices, so a device that only plays (Connect) and one that keeps downloads don't share limits.
CREATE TABLE offline_devices (
    id                TEXT PRIMARY KEY,
    user_id           TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name              TEXT NOT NULL,
    kind              TEXT NOT NULL,
    key_version       INTEGER NOT NULL DEFAULT 1,   -- raised by every revocation
    licence_seq       INTEGER NOT NULL DEFAULT 0,   -- the number of the last licence issued
    revoked_at        TEXT,
    revoked_by        TEXT,                         -- user id of whoever revoked it (the owner or an admin)
    created_at        TEXT NOT NULL,
    last_heartbeat_at TEXT
);
CREATE INDEX offline_devices_user ON offline_devices (user_id);

-- Sources marked for offline on a device: a playlist, an album or the liked songs (source_id '').
-- The tracks are resolved from the source at every licence, so the device follows it.
CREATE TABLE offline_marks (
    device_id   TEXT NOT NULL REFERENCES offline_devices (id) ON DELETE CASCADE,
    source_type TEXT NOT NULL CHECK (source_type IN ('playlist', 'album', 'liked')),
    source_id   TEXT NOT NULL,
    quality     TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (device_id, source_type, source_id)
);

-- The tracks a device reported holding (complete downloads) at its last heartbeat: its progress.
CREATE TABLE offline_held (
    device_id TEXT NOT NULL REFERENCES offline_devices (id) ON DELETE CASCADE,
    track_id  TEXT NOT NULL,
    PRIMARY KEY (device_id, track_id)
) WITHOUT ROWID;
