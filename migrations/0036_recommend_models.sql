-- Recommendation models (issue 15): what the background trainer built from the listening history, kept so
-- a restarted server recommends at once instead of waiting for the next build. One row per model name;
-- `history_id` is the last listening_history row the model saw (new plays past it count toward a rebuild).
-- `data` is an .npz archive (numpy arrays only, loaded with allow_pickle=False); derived data, rebuilt at
-- will, so a row of an older `version` is ignored and replaced.
CREATE TABLE recommend_models (
    name        TEXT PRIMARY KEY,
    version     INTEGER NOT NULL,
    built_at    TEXT NOT NULL,
    history_id  INTEGER NOT NULL,
    listens     INTEGER NOT NULL,
    tracks      INTEGER NOT NULL,
    users       INTEGER NOT NULL,
    data        BLOB NOT NULL
);
