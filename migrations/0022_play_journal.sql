-- Durable play events (issue 13). The APIs acknowledge a play event only once it is committed to
-- play_journal; the batch writer later folds journal rows into listening_history and the play counts and
-- deletes them in the same transaction, and folds what is left at start, so a crash loses nothing that
-- was acknowledged. play_sessions holds the plays still open (started, maybe counted, not yet ended), so
-- an `end` that arrives after a restart lengthens the stored play instead of counting it twice.
CREATE TABLE play_journal (
    id          INTEGER PRIMARY KEY,
    user_id     TEXT NOT NULL,
    track_id    TEXT NOT NULL,
    event       TEXT NOT NULL,
    at          REAL NOT NULL,
    position_ms INTEGER NOT NULL,
    ms_played   INTEGER NOT NULL,
    context_uri TEXT,
    device_id   TEXT
);

CREATE TABLE play_sessions (
    user_id     TEXT NOT NULL,
    device_key  TEXT NOT NULL,
    track_id    TEXT NOT NULL,
    played_at   TEXT NOT NULL,
    ms_played   INTEGER NOT NULL,
    stored_ms   INTEGER NOT NULL,
    counted     INTEGER NOT NULL,
    context_uri TEXT,
    device_id   TEXT,
    seen        REAL NOT NULL,
    PRIMARY KEY (user_id, device_key, track_id)
) WITHOUT ROWID;
CREATE INDEX play_sessions_seen ON play_sessions (seen);

-- A journal row the writer could not store (kept with the reason, never retried on its own), so one bad
-- row never blocks or poisons the others. Columns are untyped: whatever the row held is kept as it was.
CREATE TABLE play_journal_parked (
    id          INTEGER PRIMARY KEY,
    journal_id  INTEGER,
    user_id,
    track_id,
    event,
    at,
    position_ms,
    ms_played,
    context_uri,
    device_id,
    error       TEXT NOT NULL,
    parked_at   TEXT NOT NULL
);
