-- Friend activity: what each user last played while sharing their listening (the setting is off by
-- default; nothing played during a private session is written here). One row per user, replaced on
-- every shared play start; followers read it through GET /v1/me/friends/activity.
CREATE TABLE friend_activity (
    user_id     TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    track_id    TEXT NOT NULL REFERENCES tracks (id) ON DELETE CASCADE,
    context_uri TEXT,
    started_at  TEXT NOT NULL,
    ended_at    TEXT
);

-- The followers of a user (user_follows is keyed by the follower): friend activity fans out by followee.
CREATE INDEX user_follows_followee ON user_follows (followee_id);
