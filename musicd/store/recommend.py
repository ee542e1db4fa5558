"""Reads and writes of the recommendation models: the catalogue facts and listening history they are
trained on, one user's plays at request time, and the stored models (table recommend_models)."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from musicd.store.db import Database, utc_now

__all__ = ["ModelInfo", "RecommendRepository", "StoredModel", "TrackFact", "UserPlay"]

# played_at (ISO-8601 UTC text) as POSIX seconds, in SQL.
_EPOCH = "(julianday({}) - 2440587.5) * 86400.0"


class TrackFact(msgspec.Struct, frozen=True, array_like=True):
    """What the models know of a track: its first main artist, album, genres, title and library plays."""

    id: str
    title: str
    artist_id: str
    artist_name: str
    album_id: str
    genres: tuple[str, ...]
    play_count: int
    duration: float
    created_at: str


class UserPlay(msgspec.Struct, frozen=True, array_like=True):
    """One track a user played: how often and when last (POSIX seconds)."""

    track_id: str
    plays: int
    last_at: float


class ModelInfo(msgspec.Struct, frozen=True):
    version: int
    history_id: int
    listens: int
    tracks: int
    users: int


class StoredModel(msgspec.Struct, frozen=True):
    name: str
    version: int
    built_at: str
    history_id: int
    listens: int
    tracks: int
    users: int
    data: bytes


class RecommendRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def track_facts(self) -> list[TrackFact]:
        """Every track of the library, by id."""
        rows = await self.db.fetchall(
            "SELECT t.id, t.title, coalesce(ar.id, al.album_artist_id), coalesce(ar.name, aa.name), t.album_id,"
            " (SELECT group_concat(name, char(31)) FROM (SELECT g.name FROM track_genres tg"
            "   JOIN genres g ON g.id = tg.genre_id WHERE tg.track_id = t.id ORDER BY tg.position)),"
            " t.play_count, t.duration, t.created_at"
            " FROM tracks t JOIN albums al ON al.id = t.album_id JOIN artists aa ON aa.id = al.album_artist_id"
            " LEFT JOIN artists ar ON ar.id = (SELECT ta.artist_id FROM track_artists ta WHERE ta.track_id = t.id"
            "   ORDER BY ta.role = 'featured', ta.position LIMIT 1)"
            " ORDER BY t.id"
        )
        return [TrackFact(r[0], r[1], r[2], r[3], r[4], tuple(r[5].split("\x1f")) if r[5] else (), int(r[6]),
                          float(r[7]), r[8]) for r in rows]

    async def listens(self, after_id: int = 0, upto_id: int | None = None) -> list[tuple[int, str, str, float]]:
        """Listening history rows (id, user id, track id, POSIX seconds) past `after_id` up to `upto_id`, in
        row order (plain rows: a model build turns them into arrays in its own thread)."""
        return await self.db.fetchall(  # type: ignore[return-value]
            f"SELECT id, user_id, track_id, {_EPOCH.format('played_at')} FROM listening_history"
            " WHERE id > ? AND id <= ? ORDER BY id", (after_id, upto_id if upto_id is not None else 2**62))

    async def last_listen_id(self) -> int:
        """The id of the newest listening_history row (0 when there is none)."""
        row = await self.db.fetchone("SELECT coalesce(max(id), 0) FROM listening_history")
        return int(row[0]) if row else 0

    async def user_plays(self, user_id: str) -> list[UserPlay]:
        """Every track the user played, most played first (kept by a trigger on the history)."""
        rows = await self.db.fetchall(
            f"SELECT track_id, play_count, {_EPOCH.format('last_played_at')} FROM user_track_plays"
            " WHERE user_id = ? ORDER BY play_count DESC, last_played_at DESC, track_id", (user_id,))
        return [UserPlay(r[0], int(r[1]), float(r[2] or 0.0)) for r in rows]

    async def recent_listens(self, user_id: str, since: float, limit: int = 5000) -> list[tuple[str, float]]:
        """(track id, POSIX seconds) of the user's listens since `since`, newest first."""
        rows = await self.db.fetchall(
            f"SELECT track_id, {_EPOCH.format('played_at')} FROM listening_history"
            f" WHERE user_id = ? AND played_at >= strftime('%Y-%m-%dT%H:%M:%fZ', ?, 'unixepoch')"
            " ORDER BY played_at DESC LIMIT ?", (user_id, since, limit))
        return [(r[0], float(r[1] or 0.0)) for r in rows]

    async def model_info(self, name: str) -> ModelInfo | None:
        """What a stored model was built from, without the model itself."""
        row = await self.db.fetchone(
            "SELECT version, history_id, listens, tracks, users FROM recommend_models WHERE name = ?", (name,))
        return None if row is None else ModelInfo(*row)

    async def model(self, name: str) -> StoredModel | None:
        row = await self.db.fetchone(
            "SELECT name, version, built_at, history_id, listens, tracks, users, data FROM recommend_models"
            " WHERE name = ?", (name,))
        return None if row is None else StoredModel(*row)

    async def save_model(self, name: str, version: int, history_id: int, listens: int, tracks: int, users: int,
                         data: bytes) -> None:
        """Store (replace) a model."""
        await self.db.execute(
            "INSERT INTO recommend_models (name, version, built_at, history_id, listens, tracks, users, data)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET version = excluded.version,"
            " built_at = excluded.built_at, history_id = excluded.history_id, listens = excluded.listens,"
            " tracks = excluded.tracks, users = excluded.users, data = excluded.data",
            (name, version, utc_now(), history_id, listens, tracks, users, data))

    async def append_listens(self, rows: Sequence[tuple[str, str, str]]) -> None:
        """Append (user id, track id, played_at) listens in one transaction, with the tracks' play counts (for
        synthetic histories: tests, benchmarks, the evaluation; players report through the play events)."""
        counts: dict[str, tuple[int, str]] = {}
        for _, track, at in rows:
            n, last = counts.get(track, (0, ""))
            counts[track] = (n + 1, max(last, at))
        async with self.db.transaction() as conn:
            await conn.executemany(
                "INSERT INTO listening_history (user_id, track_id, played_at, ms_played) VALUES (?, ?, ?, 180000)",
                rows)
            await conn.executemany(
                "UPDATE tracks SET play_count = play_count + ?, last_played_at = max(coalesce(last_played_at, ''), ?)"
                " WHERE id = ?", [(n, last, t) for t, (n, last) in counts.items()])
