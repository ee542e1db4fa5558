-- Federation (issue 18): paired peers, invites, the change log peers mirror from, and the mirror of
-- each peer's catalogue. Mirrored rows carry their origin (peer_id); local tables are untouched.

-- The servers this one is paired with. `scopes_granted` is what we let them do (checked on every request
-- they sign), `scopes_received` what they told us they let us do. `folder_no` is the stable Subsonic music
-- folder id of their library here.
CREATE TABLE fed_peers (
    id               TEXT PRIMARY KEY,          -- their instance id
    name             TEXT NOT NULL,
    url              TEXT NOT NULL,
    public_key       BLOB NOT NULL,             -- raw Ed25519 public key, 32 bytes
    status           TEXT NOT NULL CHECK (status IN ('pending', 'active', 'revoked')),
    scopes_granted   TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(scopes_granted)),
    scopes_received  TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(scopes_received)),
    folder_no        INTEGER NOT NULL UNIQUE,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    revoked_at       TEXT,
    sync_cursor      INTEGER,                   -- last change seq of theirs applied here; NULL: full sync next
    synced_at        TEXT,
    sync_error       TEXT,
    unreachable_since TEXT
);

-- One-time invites; only a hash of the secret is kept.
CREATE TABLE fed_invites (
    id          TEXT PRIMARY KEY,
    token_hash  BLOB NOT NULL UNIQUE,
    scopes      TEXT NOT NULL CHECK (json_valid(scopes)),
    approve     INTEGER NOT NULL,               -- 1: the joining peer is active at once; 0: an admin approves
    created_by  TEXT,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_at     TEXT,
    used_by     TEXT
);

-- The change log peers follow: one row per local track, moved to a new seq whenever the track (or its
-- album or artist) changes, `deleted` = 1 for a tombstone. Kept by triggers, so every writer of the
-- catalogue (the scanner, an import) feeds it without knowing about federation. The triggers delete then
-- insert rather than INSERT OR REPLACE: a trigger's conflict clause yields to the outer statement's (an
-- UPSERT or an INSERT OR IGNORE of the scanner would turn it into an error or a silent no-op).
CREATE TABLE fed_changes (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    track_id TEXT NOT NULL UNIQUE,
    deleted  INTEGER NOT NULL DEFAULT 0
);

CREATE TRIGGER fed_track_added AFTER INSERT ON tracks BEGIN
    DELETE FROM fed_changes WHERE track_id = NEW.id;
    INSERT INTO fed_changes (track_id, deleted) VALUES (NEW.id, 0);
END;

-- Play counts change on every play: they are not part of what a peer mirrors.
CREATE TRIGGER fed_track_changed AFTER UPDATE OF
    path, size, mtime_ns, format, title, artist_display, album_id, track_number, track_total, disc_number,
    disc_total, year, duration, bitrate, sample_rate, channels, bit_depth, isrc, mbid_recording, cover_id
    ON tracks BEGIN
    DELETE FROM fed_changes WHERE track_id = NEW.id;
    INSERT INTO fed_changes (track_id, deleted) VALUES (NEW.id, 0);
END;

CREATE TRIGGER fed_track_removed AFTER DELETE ON tracks BEGIN
    DELETE FROM fed_changes WHERE track_id = OLD.id;
    INSERT INTO fed_changes (track_id, deleted) VALUES (OLD.id, 1);
END;

CREATE TRIGGER fed_album_changed AFTER UPDATE OF name, album_artist_id, compilation, year, cover_id, mbid
    ON albums BEGIN
    DELETE FROM fed_changes WHERE track_id IN (SELECT id FROM tracks WHERE album_id = NEW.id);
    INSERT INTO fed_changes (track_id, deleted) SELECT id, 0 FROM tracks WHERE album_id = NEW.id;
END;

-- A track's genres and artists are written after the track row: a change to them is a change of the track.
CREATE TRIGGER fed_track_genres_added AFTER INSERT ON track_genres BEGIN
    DELETE FROM fed_changes WHERE track_id = NEW.track_id;
    INSERT INTO fed_changes (track_id, deleted) VALUES (NEW.track_id, 0);
END;

CREATE TRIGGER fed_track_artists_added AFTER INSERT ON track_artists BEGIN
    DELETE FROM fed_changes WHERE track_id = NEW.track_id;
    INSERT INTO fed_changes (track_id, deleted) VALUES (NEW.track_id, 0);
END;

-- The mirror of peers' catalogues. Ids are local, opaque and start with "F" (musicd.domain.ids), so a
-- request can be routed by origin without a lookup; (peer_id, remote_id) is the track on its origin.
-- `local_track_id` is set when the user already has the same recording here (MusicBrainz id, ISRC, or
-- normalised artist + title + duration): the friend's copy then collapses into the local one.
CREATE TABLE fed_tracks (
    id              TEXT PRIMARY KEY,
    peer_id         TEXT NOT NULL REFERENCES fed_peers (id) ON DELETE CASCADE,
    remote_id       TEXT NOT NULL,
    album_id        TEXT NOT NULL,              -- local F-id of the mirrored album
    title           TEXT NOT NULL,
    artist_display  TEXT NOT NULL,
    artists         TEXT NOT NULL CHECK (json_valid(artists)),   -- [[F-id, name], ...] main then featured
    album_name      TEXT NOT NULL,
    album_artist_id TEXT NOT NULL,
    album_artist    TEXT NOT NULL,
    compilation     INTEGER NOT NULL DEFAULT 0,
    track_number    INTEGER,
    track_total     INTEGER,
    disc_number     INTEGER,
    disc_total      INTEGER,
    year            INTEGER,
    genres          TEXT NOT NULL CHECK (json_valid(genres)),
    duration        REAL NOT NULL,
    format          TEXT NOT NULL,
    size            INTEGER NOT NULL,
    bitrate         INTEGER,
    sample_rate     INTEGER,
    channels        INTEGER,
    bit_depth       INTEGER,
    isrc            TEXT,
    mbid_recording  TEXT,
    album_mbid      TEXT,
    version         INTEGER NOT NULL,           -- their change seq when we last copied it
    local_track_id  TEXT,
    UNIQUE (peer_id, remote_id)
);
CREATE INDEX fed_tracks_album ON fed_tracks (album_id, disc_number, track_number);
CREATE INDEX fed_tracks_album_artist ON fed_tracks (album_artist_id);

CREATE TABLE fed_track_artists (
    track_id  TEXT NOT NULL REFERENCES fed_tracks (id) ON DELETE CASCADE,
    artist_id TEXT NOT NULL,
    name      TEXT NOT NULL,
    position  INTEGER NOT NULL,
    PRIMARY KEY (track_id, artist_id)
) WITHOUT ROWID;
CREATE INDEX fed_track_artists_artist ON fed_track_artists (artist_id);

-- Users here following users on a peer (their friend activity is read from the peer).
CREATE TABLE fed_follows (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    peer_id    TEXT NOT NULL REFERENCES fed_peers (id) ON DELETE CASCADE,
    username   TEXT NOT NULL,
    display_name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (user_id, peer_id, username)
) WITHOUT ROWID;

-- Local playlists an owner shared with a peer (the peer's users may read them).
CREATE TABLE fed_playlist_shares (
    playlist_id TEXT NOT NULL REFERENCES playlists (id) ON DELETE CASCADE,
    peer_id     TEXT NOT NULL REFERENCES fed_peers (id) ON DELETE CASCADE,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (playlist_id, peer_id)
) WITHOUT ROWID;

-- Playlists peers shared with this server, mirrored at each sync; `track_ids` are local F-ids.
CREATE TABLE fed_playlists (
    id          TEXT PRIMARY KEY,
    peer_id     TEXT NOT NULL REFERENCES fed_peers (id) ON DELETE CASCADE,
    remote_id   TEXT NOT NULL,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    owner_name  TEXT NOT NULL,
    track_ids   TEXT NOT NULL CHECK (json_valid(track_ids)),
    updated_at  TEXT NOT NULL,
    UNIQUE (peer_id, remote_id)
);
