-- Per-user play counts for the catalogue read models (ItemState.play_count / last_played_at, album lists
-- "frequent" and "recent"). Kept by a trigger on listening_history, so whichever writer appends history
-- (the batch play-event writer, an import) keeps them right without knowing about this table.
CREATE TABLE user_track_plays (
    user_id        TEXT NOT NULL,
    track_id       TEXT NOT NULL,
    play_count     INTEGER NOT NULL DEFAULT 0,
    last_played_at TEXT NOT NULL,
    PRIMARY KEY (user_id, track_id)
) WITHOUT ROWID;
CREATE INDEX user_track_plays_last ON user_track_plays (user_id, last_played_at);

INSERT INTO user_track_plays (user_id, track_id, play_count, last_played_at)
    SELECT user_id, track_id, count(*), max(played_at) FROM listening_history GROUP BY user_id, track_id;

CREATE TRIGGER listening_history_user_plays AFTER INSERT ON listening_history BEGIN
    INSERT INTO user_track_plays (user_id, track_id, play_count, last_played_at)
        VALUES (NEW.user_id, NEW.track_id, 1, NEW.played_at)
        ON CONFLICT (user_id, track_id) DO UPDATE SET
            play_count = play_count + 1,
            last_played_at = max(last_played_at, excluded.last_played_at);
END;

-- Album lists sorted by name, and saved items listed newest first.
CREATE INDEX albums_name ON albums (name COLLATE NOCASE);
CREATE INDEX saved_items_recent ON saved_items (user_id, item_type, created_at);
CREATE INDEX ratings_item ON ratings (user_id, item_type, rating);
