-- Lyrics (issue 16): several languages per track from the files, and lyrics users add or fix, kept in the
-- database and never written into the music files. `lyrics_shown` is what every client gets: a user's
-- text replaces the file's in the same language.

CREATE TABLE lyrics_new (
    track_id TEXT NOT NULL REFERENCES tracks (id) ON DELETE CASCADE,
    lang     TEXT NOT NULL DEFAULT 'und',   -- as tagged (ISO 639), 'und' when unknown
    position INTEGER NOT NULL DEFAULT 0,    -- 0: the file's main lyrics (the sidecar's, else the first embedded)
    source   TEXT NOT NULL CHECK (source IN ('lrc', 'embedded')),
    synced   INTEGER NOT NULL,
    text     TEXT NOT NULL,
    PRIMARY KEY (track_id, lang)
);
INSERT INTO lyrics_new (track_id, lang, position, source, synced, text)
    SELECT track_id, coalesce(lang, 'und'), 0, source, synced, text FROM lyrics;
DROP TABLE lyrics;
ALTER TABLE lyrics_new RENAME TO lyrics;

CREATE TABLE lyrics_user (
    track_id   TEXT NOT NULL REFERENCES tracks (id) ON DELETE CASCADE,
    lang       TEXT NOT NULL DEFAULT 'und',
    synced     INTEGER NOT NULL,
    text       TEXT NOT NULL,
    user_id    TEXT REFERENCES users (id) ON DELETE SET NULL,  -- who wrote it last
    updated_at TEXT NOT NULL,
    PRIMARY KEY (track_id, lang)
);

CREATE VIEW lyrics_shown AS
    SELECT u.track_id, u.lang, 'user' AS source, u.synced, u.text,
           coalesce((SELECT l.position FROM lyrics l WHERE l.track_id = u.track_id AND l.lang = u.lang), 1000)
               AS position,
           u.user_id, u.updated_at
      FROM lyrics_user u
    UNION ALL
    SELECT l.track_id, l.lang, l.source, l.synced, l.text, l.position, NULL, NULL
      FROM lyrics l
     WHERE NOT EXISTS (SELECT 1 FROM lyrics_user u WHERE u.track_id = l.track_id AND u.lang = l.lang);
