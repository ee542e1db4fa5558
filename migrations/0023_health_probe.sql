-- One row that /health rewrites (at most every few seconds) to prove a write still commits.
CREATE TABLE health_probe (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    checked_at TEXT NOT NULL
);
