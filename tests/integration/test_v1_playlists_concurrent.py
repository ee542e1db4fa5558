"""Two clients edit one collaborative playlist at the same time over HTTP: 100 interleaved changes, each sent
with the snapshot the client last saw. Every accepted change must be in the result (no lost update), and
the final order must be what replaying the accepted changes, in the order the server took them, gives."""

from __future__ import annotations

import random
import threading
from typing import Any

import httpx

from tests.integration.playlist_helpers import (
    all_items,
    model_apply,
    new_user,
    random_change,
    send_change,
    track_ids,
    uri,
    version,
)
from tests.live import LiveServer

ROUNDS = 50  # each round both clients send one change at once: 100 changes


def test_two_clients_edit_one_playlist_concurrently(live_server: LiveServer) -> None:
    pool = track_ids(live_server)[:12]
    _, owner = new_user(live_server)
    editor_id, editor = new_user(live_server)
    r = owner.post("/v1/me/playlists", json={"name": "Party", "public": False, "collaborative": True})
    pid = r.json()["id"]
    assert owner.post(f"/v1/playlists/{pid}/collaborators", json={"ids": [editor_id]}).status_code == 200
    r = owner.post(f"/v1/playlists/{pid}/items", json={"uris": [uri(t) for t in pool[:8]]})
    start = all_items(owner, pid)
    start_version = version(r.json()["snapshot_id"])

    barrier = threading.Barrier(2, timeout=60)
    accepted: list[tuple[int, dict[str, Any]]] = []
    outcomes: dict[str, list[int]] = {"owner": [], "editor": []}
    lock = threading.Lock()
    errors: list[BaseException] = []

    def client(name: str, c: httpx.Client, seed: int) -> None:
        rng = random.Random(seed)
        view: list[str] = []
        snapshot = ""
        try:
            for rnd in range(ROUNDS):
                # Refresh the view only every other round, so changes go out one to three versions stale.
                if rnd % 2 == 0 or not snapshot:
                    pl = c.get(f"/v1/playlists/{pid}").json()
                    snapshot, view = pl["snapshot_id"], all_items(c, pid)
                ch = random_change(rng, view, pool)
                barrier.wait()  # both clients send in the same instant
                r = send_change(c, pid, ch, snapshot)
                with lock:
                    outcomes[name].append(r.status_code)
                    if r.status_code in (200, 201):
                        accepted.append((version(r.json()["snapshot_id"]), ch))
                assert r.status_code in (200, 201, 409), r.text
                if r.status_code == 409:
                    assert r.json()["error"]["code"] == "snapshot_conflict"
                    snapshot = ""  # look again before the next change
                else:
                    # Our own change on our view; the snapshot stays the one that view was read at, so
                    # the next change honestly says how old its positions are.
                    view = model_apply(view, ch)
        except BaseException as e:  # re-raised in the main thread
            errors.append(e)
            barrier.abort()

    threads = [threading.Thread(target=client, args=("owner", owner, 1)),
               threading.Thread(target=client, args=("editor", editor, 2))]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=300)
    if errors:
        raise errors[0]
    assert len(outcomes["owner"]) == len(outcomes["editor"]) == ROUNDS

    # No lost update: every accepted change got its own version, one after another, and nothing else did.
    versions = sorted(v for v, _ in accepted)
    final = owner.get(f"/v1/playlists/{pid}").json()
    assert versions == list(range(start_version + 1, start_version + 1 + len(accepted)))
    assert version(final["snapshot_id"]) == start_version + len(accepted)

    # The final order is what the accepted changes say, applied in the order the server took them.
    expected = start
    for _, ch in sorted(accepted, key=lambda a: a[0]):
        expected = model_apply(expected, ch)
    assert all_items(owner, pid) == expected
    assert all_items(editor, pid) == expected

    # The run did exercise both paths: stale changes that merged and stale changes that were refused.
    statuses = outcomes["owner"] + outcomes["editor"]
    assert statuses.count(409) > 0
    assert len(accepted) > ROUNDS  # more than one change per round landed: stale ones merged
    owner.close()
    editor.close()
