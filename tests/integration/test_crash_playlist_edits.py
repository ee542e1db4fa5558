"""kill -9 during playlist edits (issue 13 item 10): nothing acknowledged is lost, nothing is doubled.

Three clients, each on its own playlist, send a stream of edits (adds, inserts, removes, reorders through
/v1 and Subsonic updatePlaylist), each against the snapshot of its last acknowledged edit, while the
server is killed with SIGKILL at a random moment. After the restart every acknowledged edit is
there; the one edit in flight at the kill either landed whole or not at all; a client that retries it
only when the snapshot says it did not land makes no duplicate; positions are dense and the snapshot
version is the edit log's; and the next edit gets a newer snapshot.
"""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fractional_indexing import validate_order_key

from musicd.devtools.library_builder import BuiltLibrary
from musicd.devtools.processes import kill_tree
from tests.integration.playlist_helpers import all_items, model_apply, random_change, send_change, version
from tests.integration.subsonic_support import Sub
from tests.live import USERS, LiveServer, serve, start_server

CLIENTS = ("alice", "bob", "admin")  # one user each: their own write rate limit
BEFORE_KILL = 20  # acknowledged edits per client at least, then the kill comes within half a second
ENV = {"MUSICD_TRANSCODE_PRE_TRANSCODE": "false", "MUSICD_LIBRARY_SCAN_ON_START": "never",
       "MUSICD_AUTH_LOGIN_PER_MINUTE": "600", "MUSICD_AUTH_WRITES_PER_SECOND": "10000"}


@dataclass
class Editor:
    """One client's playlist as the client knows it from acknowledged edits only."""

    user: str
    playlist_id: str
    items: list[str]
    version: int
    snapshot: str | None
    pending: dict[str, Any] | None = None  # the edit whose answer never came (the server died)
    acked: int = 0


def _apply(items: list[str], ch: dict[str, Any]) -> list[str]:
    if ch["kind"] == "subsonic":  # updatePlaylist: remove by index (of the list before), then append
        kept = model_apply(items, {"kind": "remove_at", "positions": ch["remove"]}) if ch["remove"] else items
        return kept + ch["add"]
    return model_apply(items, ch)


def _change(rng: random.Random, items: list[str], pool: list[str]) -> dict[str, Any]:
    if rng.random() < 0.25:
        remove = sorted(rng.sample(range(len(items)), min(len(items), rng.randint(0, 2))))
        return {"kind": "subsonic", "remove": remove, "add": rng.sample(pool, rng.randint(1, 2))}
    return random_change(rng, items, pool)


def _send(c: httpx.Client, sub: Sub, ed: Editor, ch: dict[str, Any]) -> str | None:
    """Send one edit; its new snapshot (None for Subsonic, which answers none). Raises on no answer."""
    if ch["kind"] == "subsonic":
        params = [("playlistId", ed.playlist_id), *(("songIndexToRemove", i) for i in ch["remove"]),
                  *(("songIdToAdd", t) for t in ch["add"])]
        r = sub.raw("updatePlaylist", params)
        r.raise_for_status()
        body = r.json()["subsonic-response"]
        assert body["status"] == "ok", body
        return None
    r = send_change(c, ed.playlist_id, ch, ed.snapshot)  # type: ignore[arg-type]
    r.raise_for_status()
    return str(r.json()["snapshot_id"])


def _acknowledge(ed: Editor, ch: dict[str, Any], snapshot: str | None) -> None:
    ed.items = _apply(ed.items, ch)
    ed.version += 1
    assert snapshot is None or version(snapshot) == ed.version, (snapshot, ed.version)
    ed.snapshot = snapshot
    ed.pending = None
    ed.acked += 1


def _clients(srv: LiveServer, user: str) -> tuple[httpx.Client, Sub]:
    c = srv.client(user)
    return c, Sub(srv.base, user, USERS[user][0], client=httpx.Client(timeout=10))


def _edit_until_the_server_dies(srv: LiveServer, ed: Editor, pool: list[str], seed: int,
                                errors: list[BaseException]) -> None:
    rng = random.Random(seed)
    c, sub = _clients(srv, ed.user)
    try:
        for _ in range(5000):
            ch = _change(rng, ed.items, pool)
            ed.pending = ch
            try:
                snapshot = _send(c, sub, ed, ch)
            except httpx.TransportError:
                return  # killed: the answer to `pending` never came
            _acknowledge(ed, ch, snapshot)
        errors.append(AssertionError("the server was never killed"))
    except BaseException as e:  # re-raised in the test's thread
        errors.append(e)
    finally:
        c.close()
        sub.http.close()


def _crash_during_edits(srv: LiveServer, editors: list[Editor], pool: list[str], seed: int) -> None:
    errors: list[BaseException] = []
    threads = [threading.Thread(target=_edit_until_the_server_dies, args=(srv, ed, pool, seed * 10 + i, errors))
               for i, ed in enumerate(editors)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 60
    while any(ed.acked < BEFORE_KILL for ed in editors) and not errors:
        assert time.monotonic() < deadline, "the edits did not get going"
        time.sleep(0.02)
    time.sleep(random.Random(seed).uniform(0, 0.5))
    kill_tree(srv.proc.pid)  # the server and its children, as a power cut would stop them
    srv.proc.wait(timeout=10)
    for t in threads:
        t.join(timeout=30)
    if errors:
        raise errors[0]


def _check_after_restart(srv: LiveServer, editors: list[Editor]) -> None:
    db = sqlite3.connect(f"file:{srv.data_dir / 'musicd.db'}?mode=ro", uri=True)
    try:
        for ed in editors:
            c, sub = _clients(srv, ed.user)
            with c, sub.http:
                got = c.get(f"/v1/playlists/{ed.playlist_id}").json()
                items, v = all_items(c, ed.playlist_id), version(got["snapshot_id"])
                assert got["tracks"]["total"] == len(items)
                if ed.pending is not None and (items, v) == (_apply(ed.items, ed.pending), ed.version + 1):
                    _acknowledge(ed, ed.pending, got["snapshot_id"])  # it landed just before the kill
                else:
                    assert (items, v) == (ed.items, ed.version), f"{ed.user}: acknowledged edits lost or changed"
                    if ed.pending is not None:  # it did not land: the client sends it again, once
                        _acknowledge(ed, ed.pending, _send(c, sub, ed, ed.pending))
                        assert all_items(c, ed.playlist_id) == ed.items
            keys = [r[0] for r in db.execute(
                "SELECT order_key FROM playlist_entries WHERE playlist_id = ? ORDER BY order_key", (ed.playlist_id,))]
            assert len(set(keys)) == len(keys) == len(ed.items), f"{ed.user}: order keys lost or doubled"
            for k in keys:
                validate_order_key(k)  # every stored key still sorts between its neighbours' keys
            (stored, logged), = db.execute(
                "SELECT p.version, (SELECT max(version) FROM playlist_edits e WHERE e.playlist_id = p.id)"
                " FROM playlists p WHERE p.id = ?", (ed.playlist_id,))
            assert stored == logged == ed.version
    finally:
        db.close()


@pytest.mark.slow
def test_kill_9_during_playlist_edits_loses_no_acknowledged_edit(built_library: BuiltLibrary, tmp_path: Path
                                                                 ) -> None:
    lib = built_library.root
    editors: list[Editor] = []
    with start_server(tmp_path / "run0", lib, **ENV) as srv:
        db = sqlite3.connect(f"file:{srv.data_dir / 'musicd.db'}?mode=ro", uri=True)
        pool = [r[0] for r in db.execute("SELECT id FROM tracks ORDER BY id LIMIT 30")]
        db.close()
        for user in CLIENTS:
            with srv.client(user) as c:
                r = c.post("/v1/me/playlists", json={"name": f"crash {user}", "public": False})
                assert r.status_code == 201, r.text
                editors.append(Editor(user, r.json()["id"], [], version(r.json()["snapshot_id"]),
                                      r.json()["snapshot_id"]))
        data_dir = srv.data_dir
        _crash_during_edits(srv, editors, pool, seed=1)
    acked = [ed.acked for ed in editors]
    assert all(a >= BEFORE_KILL for a in acked), acked
    (tmp_path / "run1").mkdir()
    with serve(tmp_path / "run1", data_dir, lib, **ENV) as srv:
        _check_after_restart(srv, editors)
        for ed in editors:  # and it goes on: the next edit gets a newer snapshot
            c, sub = _clients(srv, ed.user)
            with c, sub.http:
                ch = {"kind": "append", "ids": pool[:1]}
                _acknowledge(ed, ch, _send(c, sub, ed, ch))
                assert all_items(c, ed.playlist_id) == ed.items
