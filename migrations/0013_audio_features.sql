-- Audio analysis results, one row per track (issue 15). Keyed by the track id, so a moved or renamed
-- file keeps its features (the scanner keeps the id). `size` and `fingerprint` name the content the
-- row was made from: when the track's file changes they no longer match and the track is analysed
-- again. `version` is the analyser's: a newer analyser makes older rows again. A 'failed' or 'silent'
-- row is kept like an 'ok' one, so an undecodable file is not retried on every pass.
CREATE TABLE track_features (
    track_id         TEXT PRIMARY KEY REFERENCES tracks (id) ON DELETE CASCADE,
    status           TEXT NOT NULL CHECK (status IN ('ok', 'silent', 'failed')),
    error            TEXT,
    size             INTEGER NOT NULL,
    fingerprint      TEXT NOT NULL,
    version          INTEGER NOT NULL,
    seconds          REAL NOT NULL DEFAULT 0,   -- audio analysed (a long file: a window of it)
    tempo            REAL,                      -- BPM
    tempo_confidence REAL,
    loudness         REAL,                      -- integrated, LUFS (EBU R128)
    energy           REAL,
    brightness       REAL,                      -- mean spectral centroid, Hz
    beat_strength    REAL,
    danceability     REAL,
    acousticness     REAL,
    valence          REAL,
    key              INTEGER,                   -- 0 = C .. 11 = B, -1 none
    mode             INTEGER,                   -- 1 major, 0 minor
    key_confidence   REAL,
    time_signature   INTEGER,
    timbre           BLOB,                      -- float32 little-endian vector
    analysed_at      TEXT NOT NULL
);
CREATE INDEX track_features_status ON track_features (status, version);
