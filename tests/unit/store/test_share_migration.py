"""Migration 0012 moves Subsonic shares and /v1 playlist links into one table; every old link keeps working."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from musicd.errors import NotFoundError
from musicd.services.accounts import AccountService
from musicd.services.bus import EventBus
from musicd.services.shares import ShareGone
from musicd.store.db import Database, utc_now
from musicd.store.migrations import available_migrations, migrate
from musicd.store.playlists import PlaylistRepository
from musicd.store.tokens import TokenRepository
from musicd.store.users import UserRepository

OLD_SUBSONIC = "OldSubsonicShareId0001"  # a Subsonic share's id was its link token
OLD_LINK, OLD_REVOKED, OLD_ORPHAN = "old-v1-link-token-live", "old-v1-link-token-revoked", "old-v1-link-no-maker"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def _database_before_0012(data: Path) -> tuple[str, str]:
    """A database at the version before 0012 with shares of both kinds; (alice's id, her playlist's id)."""
    folder = data.parent / "migrations-before-0012"
    folder.mkdir()
    for m in available_migrations():
        if m.version < 12:
            (folder / f"{m.version:04d}_{m.name}.sql").write_text(m.sql)
    db = Database(data / "musicd.db")
    await db.open()
    try:
        await migrate(db, folder)
        accounts = AccountService(UserRepository(db), b"k" * 32, EventBus(), TokenRepository(db))
        alice = await accounts.create("alice", "long-enough-pw")
        gone = await accounts.create("gone", "long-enough-pw")
        pid = "OldPlaylistId000000001"
        await PlaylistRepository(db, data / "covers").create(pid, alice.id, "Old mix", "", False, False)
        now = utc_now()
        await db.execute("INSERT INTO shares (id, user_id, description, created_at, visit_count)"
                         " VALUES (?, ?, 'old', ?, 3)", (OLD_SUBSONIC, alice.id, now))
        await db.execute("INSERT INTO share_items (share_id, position, item_type, item_id)"
                         " VALUES (?, 0, 'playlist', ?)", (OLD_SUBSONIC, pid))
        for link_id, token, maker, revoked in (("L1", OLD_LINK, alice.id, None), ("L2", OLD_REVOKED, alice.id, now),
                                               ("L3", OLD_ORPHAN, gone.id, None)):
            await db.execute("INSERT INTO playlist_shares (id, playlist_id, token_hash, created_by, created_at,"
                             " expires_at, revoked_at) VALUES (?, ?, ?, ?, ?, NULL, ?)",
                             (link_id, pid, _hash(token), maker, now, revoked))
        await accounts.delete_id(gone.id)  # the orphan link's maker is gone (created_by became NULL)
        return alice.id, pid
    finally:
        await db.close()


async def test_old_shares_and_links_keep_working(services_for, tmp_path: Path) -> None:
    data = tmp_path / "data"
    alice_id, pid = await _database_before_0012(data)
    async with services_for(data_dir=data) as s:
        alice = await s.accounts.get(alice_id)
        for token in (OLD_SUBSONIC, OLD_LINK, OLD_ORPHAN):
            page = await s.shares.open(token)
            assert page.playlist.id == pid and page.playlist.name == "Old mix"
        with pytest.raises(ShareGone) as gone:
            await s.shares.open(OLD_REVOKED)
        assert gone.value.code == "share_revoked"
        with pytest.raises(NotFoundError):
            await s.shares.open("old-v1-link-token-unknown")

        # The Subsonic share keeps its id (= token) for its apps; old /v1 links cannot be named there.
        listed = await s.shares.list(alice)
        assert [(x.id, x.token, x.visit_count, x.description) for x in listed] == [
            (OLD_SUBSONIC, OLD_SUBSONIC, 3, "old")]
        links = await s.shares.playlist_links(alice, pid)
        assert sorted((x.id, x.token, x.user_id) for x in links) == sorted([
            ("L1", None, alice_id), ("L2", None, alice_id), ("L3", None, alice_id),
            (OLD_SUBSONIC, OLD_SUBSONIC, alice_id)])
        await s.shares.update(alice, OLD_SUBSONIC, "renamed", None)
        assert (await s.shares.list(alice))[0].description == "renamed"

        # New shares follow the one rule: a token derived from the id, found by its hash.
        made = await s.shares.share_playlist(alice, pid)
        assert made.token and made.token != made.id and (await s.shares.open(made.token)).playlist.id == pid
        tables = {r[0] for r in await s.db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert "playlist_shares" not in tables and {"shares", "share_items"} <= tables
        assert await s.db.fetchone("SELECT 1 FROM shares WHERE token_hash = ?", (made.token,)) is None
