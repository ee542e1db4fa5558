-- Offline listening of podcast shows (issue 17 item 5): a device may keep a show offline, that is the newest
-- `episodes` episodes of it (the newest ones follow as the feed grows). SQLite cannot change a CHECK in
-- place, so offline_marks is rebuilt with 'show' allowed and the per-mark episode count.
CREATE TABLE offline_marks_new (
    device_id   TEXT NOT NULL REFERENCES offline_devices (id) ON DELETE CASCADE,
    source_type TEXT NOT NULL CHECK (source_type IN ('playlist', 'album', 'liked', 'show')),
    source_id   TEXT NOT NULL,
    quality     TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    episodes    INTEGER CHECK (episodes IS NULL OR episodes > 0),  -- a show's newest episodes kept; else NULL
    PRIMARY KEY (device_id, source_type, source_id)
);
INSERT INTO offline_marks_new (device_id, source_type, source_id, quality, created_at)
    SELECT device_id, source_type, source_id, quality, created_at FROM offline_marks;
DROP TABLE offline_marks;
ALTER TABLE offline_marks_new RENAME TO offline_marks;
-- Which devices keep a show (the podcast downloads they need are spared by the cleanup).
CREATE INDEX offline_marks_source ON offline_marks (source_type, source_id);
