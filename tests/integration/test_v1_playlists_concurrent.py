"""Two clients edit one collaborative playlist at the same time over HTTP: 100 interleaved changes, each sent
with the snapshot the client last saw (its positions are those of that snapshot). Every accepted change
must be in the result (no lost update), and the final order must be what replaying the accepted changes,
in the order the server took them, gives: a stale reorder moves the entries its sender saw to before the
entry its sender saw (they are found again by identity), any other stale change only merges where its
positions still mean the same entries."""

from __future__ import annotations

import random
import threading
from typing import Any

import httpx

from tests.integration.playlist_helpers import (
    all_items,
    new_user,
    random_change,
    send_change,
    track_ids,
    uri,
    version,
)
from tests.live import LiveServer

ROUNDS = 50  # each round both clients send one change at once: 100 changes


def _consistent_view(c: httpx.Client, pid: str) -> tuple[str, list[str]]:
    """The items and the snapshot they are of (read again when the other client changed it meanwhile)."""
    while True:
        before = c.get(f"/v1/playlists/{pid}").json()["snapshot_id"]
        items = all_items(c, pid)
        if c.get(f"/v1/playlists/{pid}").json()["snapshot_id"] == before:
            return before, items


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
    accepted: list[tuple[int, dict[str, Any], int]] = []  # (version made, change, version it was made on)
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
                    snapshot, view = _consistent_view(c, pid)
                ch = random_change(rng, view, pool)
                barrier.wait()  # both clients send in the same instant
                r = send_change(c, pid, ch, snapshot)
                with lock:
                    outcomes[name].append(r.status_code)
                    if r.status_code in (200, 201):
                        accepted.append((version(r.json()["snapshot_id"]), ch, version(snapshot)))
                assert r.status_code in (200, 201, 409), r.text
                if r.status_code == 409:
                    assert r.json()["error"]["code"] == "snapshot_conflict"
                    snapshot = ""  # look again before the next change
                # Otherwise the view stays the one read at the snapshot, so the next change honestly says
                # which list its positions are of.
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
    versions = sorted(v for v, _, _ in accepted)
    final = owner.get(f"/v1/playlists/{pid}").json()
    assert versions == list(range(start_version + 1, start_version + 1 + len(accepted)))
    assert version(final["snapshot_id"]) == start_version + len(accepted)

    # The final order is what the accepted changes say, applied in the order the server took them, on a
    # model whose entries have identities (so a stale reorder's entries can be found again).
    uids = iter(range(1_000_000))
    history = {start_version: [(t, next(uids)) for t in start]}
    for v, ch, base in sorted(accepted, key=lambda a: a[0]):
        cur = history[v - 1]
        if ch["kind"] == "reorder":
            then = history[base]
            s0, n, b = ch["range_start"], ch["range_length"], ch["insert_before"]
            block = then[s0:s0 + n]
            anchor = then[b] if b < len(then) else None
            at = [cur.index(e) for e in block]
            assert at == list(range(at[0], at[0] + n)), "a reorder was accepted though its block was split"
            assert anchor is None or anchor in cur, "a reorder was accepted though its anchor is gone"
            if anchor in block:
                history[v] = cur  # moved to where it already was
                continue
            rest = [e for e in cur if e not in block]
            i = rest.index(anchor) if anchor is not None else len(rest)
            history[v] = rest[:i] + block + rest[i:]
        else:
            if base < v - 1 and ch["kind"] in ("insert", "remove_at"):
                # Merged only where its positions mean the same entries in the current list.
                need = ch["position"] if ch["kind"] == "insert" else max(ch["positions"]) + 1
                assert history[base][:need] == cur[:need], "a stale change merged where its prefix changed"
            fresh = [(t, next(uids)) for t in ch.get("ids", [])] if ch["kind"] in ("append", "insert") else []
            if ch["kind"] == "remove":
                history[v] = [e for e in cur if e[0] not in set(ch["ids"])]
            elif ch["kind"] == "remove_at":
                drop = set(ch["positions"])
                history[v] = [e for i, e in enumerate(cur) if i not in drop]
            else:
                p = len(cur) if ch["kind"] == "append" else ch["position"]
                history[v] = cur[:p] + fresh + cur[p:]
    expected = [t for t, _ in history[start_version + len(accepted)]]
    assert all_items(owner, pid) == expected
    assert all_items(editor, pid) == expected

    # The run did exercise both paths: stale changes that merged and stale changes that were refused.
    statuses = outcomes["owner"] + outcomes["editor"]
    assert statuses.count(409) > 0
    assert len(accepted) > ROUNDS  # more than one change per round landed: stale ones merged
    owner.close()
    editor.close()
