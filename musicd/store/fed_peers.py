"""Paired peers, one-time invites, follows of users on peers, and playlists shared with peers."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence

from musicd.domain.federation import Peer
from musicd.store.db import Database, utc_now

__all__ = ["FedPeerRepository", "InviteRow"]

_PEER_COLS = ("p.id, p.name, p.url, p.public_key, p.status, p.scopes_granted, p.scopes_received, p.folder_no,"
              " p.created_at, p.synced_at, p.sync_error, p.unreachable_since, p.sync_cursor,"
              " (SELECT count(*) FROM fed_tracks t WHERE t.peer_id = p.id)")


def _peer(r: sqlite3.Row) -> Peer:
    return Peer(r[0], r[1], r[2], bytes(r[3]), r[4], json.loads(r[5]), json.loads(r[6]), r[7], r[8], r[9], r[10],
                r[11], r[12], r[13])


class InviteRow:
    __slots__ = ("approve", "expires_at", "id", "scopes", "used_at")

    def __init__(self, r: sqlite3.Row) -> None:
        self.id, self.approve, self.expires_at, self.used_at = r[0], bool(r[1]), r[2], r[3]
        self.scopes: list[str] = json.loads(r[4])


class FedPeerRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- peers ----

    async def get(self, peer_id: str) -> Peer | None:
        row = await self.db.fetchone(f"SELECT {_PEER_COLS} FROM fed_peers p WHERE p.id = ?", (peer_id,))
        return _peer(row) if row else None

    async def all(self, counts: bool = True) -> list[Peer]:
        """Every peer; without `counts`, `track_count` is 0 (a cheaper read, for what only needs names and state)."""
        cols = _PEER_COLS if counts else _PEER_COLS.rsplit(",", 1)[0] + ", 0"
        rows = await self.db.fetchall(f"SELECT {cols} FROM fed_peers p ORDER BY p.folder_no")
        return [_peer(r) for r in rows]

    async def auth_row(self, peer_id: str) -> tuple[bytes, str, list[str]] | None:
        """(public key, status, scopes granted) of a peer: the one read on every signed request."""
        row = await self.db.fetchone("SELECT public_key, status, scopes_granted FROM fed_peers WHERE id = ?",
                                     (peer_id,))
        return (bytes(row[0]), row[1], json.loads(row[2])) if row else None

    async def upsert(self, peer_id: str, name: str, url: str, public_key: bytes, status: str,
                     scopes_granted: Sequence[str], scopes_received: Sequence[str]) -> None:
        """Add a peer, or renew a known one (pairing again after a revocation starts its mirror afresh)."""
        now = utc_now()
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO fed_peers (id, name, url, public_key, status, scopes_granted, scopes_received,"
                " folder_no, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?,"
                " (SELECT coalesce(max(folder_no), 1000) + 1 FROM fed_peers), ?, ?)"
                " ON CONFLICT (id) DO UPDATE SET name = excluded.name, url = excluded.url,"
                " public_key = excluded.public_key, status = excluded.status,"
                " scopes_granted = excluded.scopes_granted, scopes_received = excluded.scopes_received,"
                " revoked_at = NULL, sync_cursor = NULL, updated_at = excluded.updated_at",
                (peer_id, name, url, public_key, status, json.dumps(list(scopes_granted)),
                 json.dumps(list(scopes_received)), now, now),
            )

    async def set_status(self, peer_id: str, status: str) -> bool:
        now = utc_now()
        n = await self.db.execute(
            "UPDATE fed_peers SET status = ?, updated_at = ?,"
            " revoked_at = CASE WHEN ? = 'revoked' THEN ? ELSE revoked_at END WHERE id = ?",
            (status, now, status, now, peer_id),
        )
        return n > 0

    async def set_scopes(self, peer_id: str, granted: Sequence[str] | None = None,
                         received: Sequence[str] | None = None) -> None:
        if granted is not None:
            await self.db.execute("UPDATE fed_peers SET scopes_granted = ?, updated_at = ? WHERE id = ?",
                                  (json.dumps(list(granted)), utc_now(), peer_id))
        if received is not None:
            await self.db.execute("UPDATE fed_peers SET scopes_received = ? WHERE id = ? AND scopes_received <> ?",
                                  (json.dumps(list(received)), peer_id, json.dumps(list(received))))

    async def sync_done(self, peer_id: str, cursor: int | None, error: str | None) -> None:
        await self.db.execute(
            "UPDATE fed_peers SET sync_cursor = ?, synced_at = ?, sync_error = ?, unreachable_since = NULL"
            " WHERE id = ?", (cursor, utc_now(), error, peer_id))

    async def set_cursor(self, peer_id: str, cursor: int | None) -> None:
        await self.db.execute("UPDATE fed_peers SET sync_cursor = ? WHERE id = ?", (cursor, peer_id))

    async def unreachable(self, peer_id: str, error: str) -> None:
        await self.db.execute(
            "UPDATE fed_peers SET sync_error = ?, unreachable_since = coalesce(unreachable_since, ?) WHERE id = ?",
            (error[:500], utc_now(), peer_id))

    async def forget(self, peer_id: str) -> None:
        """Delete a peer and everything mirrored from it."""
        await self.db.execute("DELETE FROM fed_peers WHERE id = ?", (peer_id,))

    # ---- invites ----

    async def add_invite(self, invite_id: str, token_hash: bytes, scopes: Sequence[str], approve: bool,
                         created_by: str | None, expires_at: str) -> None:
        await self.db.execute(
            "INSERT INTO fed_invites (id, token_hash, scopes, approve, created_by, created_at, expires_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (invite_id, token_hash, json.dumps(list(scopes)), int(approve), created_by, utc_now(), expires_at))

    async def take_invite(self, token_hash: bytes, used_by: str, now: str) -> InviteRow | str:
        """Use an invite once: its row, or why it cannot be used ("unknown", "used", "expired")."""
        async with self.db.transaction() as conn:
            async with conn.execute("SELECT id, approve, expires_at, used_at, scopes FROM fed_invites"
                                    " WHERE token_hash = ?", (token_hash,)) as cur:
                row = await cur.fetchone()
            if row is None:
                return "unknown"
            invite = InviteRow(row)
            if invite.used_at is not None:
                return "used"
            if invite.expires_at <= now:
                return "expired"
            await conn.execute("UPDATE fed_invites SET used_at = ?, used_by = ? WHERE id = ?",
                               (now, used_by, invite.id))
            return invite

    # ---- follows of users on peers ----

    async def follow(self, user_id: str, peer_id: str, username: str, display_name: str) -> None:
        await self.db.execute(
            "INSERT INTO fed_follows (user_id, peer_id, username, display_name, created_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT DO UPDATE SET display_name = excluded.display_name",
            (user_id, peer_id, username, display_name, utc_now()))

    async def unfollow(self, user_id: str, peer_id: str, username: str) -> bool:
        return await self.db.execute("DELETE FROM fed_follows WHERE user_id = ? AND peer_id = ? AND username = ?",
                                     (user_id, peer_id, username)) > 0

    async def follows(self, user_id: str) -> list[tuple[str, str, str, str]]:
        """(peer id, username, display name, followed at) of the remote users `user_id` follows."""
        rows = await self.db.fetchall("SELECT peer_id, username, display_name, created_at FROM fed_follows"
                                      " WHERE user_id = ? ORDER BY created_at", (user_id,))
        return [(r[0], r[1], r[2], r[3]) for r in rows]

    # ---- playlists shared with peers ----

    async def share_playlist(self, playlist_id: str, peer_id: str) -> None:
        await self.db.execute("INSERT OR IGNORE INTO fed_playlist_shares (playlist_id, peer_id, created_at)"
                              " VALUES (?, ?, ?)", (playlist_id, peer_id, utc_now()))

    async def unshare_playlist(self, playlist_id: str, peer_id: str) -> bool:
        return await self.db.execute("DELETE FROM fed_playlist_shares WHERE playlist_id = ? AND peer_id = ?",
                                     (playlist_id, peer_id)) > 0

    async def playlists_shared_with(self, peer_id: str) -> list[str]:
        rows = await self.db.fetchall("SELECT playlist_id FROM fed_playlist_shares WHERE peer_id = ?"
                                      " ORDER BY created_at", (peer_id,))
        return [r[0] for r in rows]

    async def peers_of_playlist(self, playlist_id: str) -> list[str]:
        rows = await self.db.fetchall("SELECT peer_id FROM fed_playlist_shares WHERE playlist_id = ?", (playlist_id,))
        return [r[0] for r in rows]
