"""A backup holds the whole data dir's state: restored on a new box, every table of the database equals what
it was when the backup was taken (listens, shares, audio features, tokens, history, ...), the keys and the
uploaded covers are the same bytes, and everything works again (old access tokens, ListenBrainz tokens,
Subsonic token auth, share links, covers, audio features)."""

from __future__ import annotations

import sqlite3
import time
from contextlib import closing
from pathlib import Path

import httpx
import pytest
from liblistenbrainz import Listen, ListenBrainz

from musicd.devtools.library_builder import BuiltLibrary
from tests.integration.playlist_helpers import upload_cover
from tests.integration.storage_helpers import QUIET, musicd, prepare
from tests.integration.subsonic_support import Sub
from tests.live import USERS, serve

# Tables the scenario below fills: a backup that left any of them out (or a restore that did not put it
# back) fails the comparison on rows that matter, not on empty tables.
FILLED = ("users", "tracks", "albums", "covers", "playlists", "playlist_entries", "listening_history", "saved_items",
          "shares", "share_items", "listens", "listenbrainz_tokens", "track_features", "refresh_tokens")


def dump(db: Path) -> dict[str, list[tuple]]:
    """Every row of every table of the database at `db`, in a stable order."""
    with closing(sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True, timeout=30)) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        return {t: sorted(conn.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr) for t in tables}


def _rows(db: Path, sql: str) -> list[tuple]:
    with closing(sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True, timeout=30)) as conn:
        return conn.execute(sql).fetchall()


def _wait_for(cond, timeout: float = 60) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


@pytest.mark.slow
def test_a_restore_on_a_new_box_brings_back_every_table_key_and_upload(
    built_library: BuiltLibrary, tmp_path: Path
) -> None:
    data = prepare(tmp_path / "data", built_library.root)
    db = data / "musicd.db"
    analysed = musicd("analyze", "run", "--limit", "3", "--json", data_dir=data, library=built_library.root,
                      timeout=180)
    assert analysed.code == 0, analysed.err
    archive = tmp_path / "backup.tar.gz"
    password = USERS["alice"][0]
    with serve(tmp_path, data, built_library.root, **QUIET) as server:
        alice = server.client("alice")
        alice_id, old_access = server.user_id("alice"), server.token("alice")
        tracks = [r[0] for r in _rows(db, "SELECT id FROM tracks ORDER BY path LIMIT 6")]
        pid = alice.post("/v1/me/playlists", json={"name": "kept"}).json()["id"]
        r = alice.post(f"/v1/playlists/{pid}/tracks", json={"uris": [f"spotify:track:{t}" for t in tracks[:4]]})
        assert r.status_code == 201, r.text
        upload_cover(alice, pid, (24, 24), (200, 40, 90))
        assert alice.put("/v1/me/tracks", params={"ids": tracks[4]}).status_code == 200
        link = alice.post(f"/v1/playlists/{pid}/share", json={"expires_in": 86_400}).json()["token"]
        sub = Sub(server.base, "alice", password)
        share = sub.call("createShare", [("id", tracks[5]), ("description", "one song")])["shares"]["share"][0]["id"]
        sub.call("scrobble", {"id": tracks[0], "submission": "true"})
        lb_token = alice.post("/v1/me/listenbrainz-token").json()["token"]
        lb = ListenBrainz(api_base_url=f"{server.base}/listenbrainz")
        lb.set_auth_token(lb_token)
        lb.submit_single_listen(Listen(track_name="Not In The Library", artist_name="Nobody",
                                       listened_at=int(time.time()) - 600))
        # Plays are written in batches: wait until they are in the database, then take the reference.
        _wait_for(lambda: _rows(db, "SELECT count(*) FROM listening_history")[0][0] >= 1
                  and _rows(db, "SELECT count(*) FROM listens")[0][0] >= 1)
        reference = dump(db)
        run = musicd("backup", str(archive), data_dir=data, **QUIET)  # while the server runs
        assert run.code == 0, run.err
        for name in ("listens", "shares", "track_features"):
            assert f" {name}" in run.out, run.out  # the summary counts them
    for table in FILLED:
        assert reference[table], f"the scenario left {table} empty"
    assert reference["track_features"] and [r for r in reference["covers"] if "upload" in r]

    # The old box is gone: restore into an empty data dir.
    box = tmp_path / "new-box"
    run = musicd("restore", str(archive), "--yes", data_dir=box)
    assert run.code == 0, run.err
    restored = dump(box / "musicd.db")
    assert restored.keys() == reference.keys()
    for table, rows in reference.items():
        if table == "health_probe":  # /health rewrites its one row while the server runs
            continue
        assert restored[table] == rows, f"{table} differs after the restore"
    for key in ("keys/server.key", "keys/token.key", "keys/federation.key"):  # the last: the server's identity
        assert (box / key).read_bytes() == (data / key).read_bytes(), key
    uploads = [p.relative_to(data) for p in (data / "covers").rglob("*") if p.is_file()
               and p.stem in {r[0] for r in _rows(db, "SELECT id FROM covers WHERE source = 'upload'")}]
    assert uploads and all((box / p).read_bytes() == (data / p).read_bytes() for p in uploads)

    # And it all works on the new box.
    with serve(tmp_path, box, built_library.root, **QUIET) as again:
        web = httpx.Client(base_url=again.base, headers={"Authorization": f"Bearer {old_access}"}, timeout=30)
        assert web.get("/v1/me").json()["id"] == alice_id  # signed with the restored key
        Sub(again.base, "alice", password).call("ping")  # token auth: the password decrypts with the server key
        lb = ListenBrainz(api_base_url=f"{again.base}/listenbrainz")
        lb.set_auth_token(lb_token)
        assert web.get("/v1/me/listens").json()["total"] >= 1
        assert web.get(f"/v1/playlists/{pid}/tracks").json()["total"] == 4
        image = web.get(f"/v1/playlists/{pid}/images").json()[0]["url"]
        assert web.get(image).content == (data / uploads[0]).read_bytes()
        assert httpx.get(f"{again.base}/share/{link}").json()["id"] == pid
        assert httpx.get(f"{again.base}/share/{share}").status_code == 200
        feature_track = reference["track_features"][0][0]
        assert web.get(f"/v1/audio-features/{feature_track}").status_code == 200
