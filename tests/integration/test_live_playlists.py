"""Live collaborative playlists (docs/realtime.md, "Live playlists"), checked against the page's text.

- Each kind of edit, made with spotipy (the Spotify Web API client), sends one `playlist_changed` whose
  operations have exactly the fields the page's `operation` table lists, whose `base_snapshot_id` is the
  previous event's `snapshot_id`, and whose operations, replayed as the page says, give the server's list.
- Subsonic `updatePlaylist` (py-sonic) and the /v1 routes (spotipy) make the same list and the same
  operations from the same edits.
- An edit writes only the entries it moves, adds or removes (`musicd_playlist_entry_writes_total`), where
  dense positions rewrote every entry after the first one it touched.
- Two writers reordering one playlist at the same instant, both on the snapshot they read: both land, no
  entry is lost or doubled, and the result is both moves.
"""

from __future__ import annotations

import base64
import io
import random
import re
import threading
import urllib.parse
from typing import Any

import httpx
import libsonic
import pytest
import spotipy
from PIL import Image

from tests.integration.playlist_helpers import all_items, track_ids
from tests.integration.realtime_support import TABLES, Client, api, metric, new_user
from tests.live import LiveServer

WRITES = "musicd_playlist_entry_writes_total"


def _doc_operations() -> dict[str, set[str]]:
    """The `operation` table: each operation type with its fields (parenthesised notes dropped)."""
    return {row[0]: {f.strip() for f in re.sub(r"\([^)]*\)", "", row[1]).split(",")}
            for row in TABLES["operation"]}


def replay(items: list[str], ops: list[dict[str, Any]]) -> list[str]:
    """The page's meaning of `operations`, written from its text: each op on the list the ones before left."""
    items = list(items)
    for op in ops:
        kind = op["type"]
        if kind == "append":
            items += op["track_ids"]
        elif kind == "insert":
            p = op["position"]
            items[p:p] = op["track_ids"]
        elif kind == "remove_at":
            assert op["positions"] == sorted(op["positions"])
            assert [items[p] for p in op["positions"]] == op["expected"]
            drop = set(op["positions"])
            items = [t for i, t in enumerate(items) if i not in drop]
        elif kind == "reorder":
            s, n, b = op["range_start"], op["range_length"], op["insert_before"]
            block = items[s:s + n]
            rest = items[:s] + items[s + n:]
            at = b if b <= s else b - n
            items = rest[:at] + block + rest[at:]
        elif kind == "replace":
            items = list(op["track_ids"])
        else:
            assert kind in ("details", "cover"), kind
    return items


def _spotipy(server: LiveServer, token: str) -> spotipy.Spotify:
    sp = spotipy.Spotify(auth=token, requests_timeout=30, retries=0, status_retries=0)
    sp.prefix = server.base + "/v1/"
    return sp


def _person(server: LiveServer, prefix: str) -> dict[str, Any]:
    name, password, uid = new_user(server, prefix)
    return {"name": name, "password": password, "id": uid, "token": server.login(name, password)["access_token"]}


def _jpeg() -> str:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buf, "JPEG")
    return base64.b64encode(buf.getvalue()).decode()


async def _changes(c: Client, pid: str, n: int) -> list[dict[str, Any]]:
    return [await c.expect("playlist_changed", where=lambda d: d["playlist_id"] == pid) for _ in range(n)]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # spotipy marks user_playlist_create deprecated
async def test_every_edit_sends_the_documented_operations(live_server: LiveServer) -> None:
    s = live_server
    t = track_ids(s)
    owner, collab = _person(s, "lpo"), _person(s, "lpc")
    sp = _spotipy(s, owner["token"])
    pid = sp.user_playlist_create(owner["id"], "Live ops", public=False, collaborative=True)["id"]
    sp.playlist_add_items(pid, t[:1])  # a first snapshot to start the chain from
    with api(s, owner["token"]) as http:
        assert http.post(f"/v1/playlists/{pid}/collaborators", json={"ids": [collab["id"]]}).status_code in (200,
                                                                                                             201)
    o = await Client.open(s, owner["token"])
    c = await Client.open(s, collab["token"])
    start_snapshot = sp.playlist(pid)["snapshot_id"]

    # Each edit as a client would send it; what the docs call it.
    edits = [
        (lambda: sp.playlist_add_items(pid, [t[1], t[2], t[3], t[1]]), ["append"]),
        (lambda: sp.playlist_add_items(pid, [t[4]], position=1), ["insert"]),
        (lambda: sp.playlist_reorder_items(pid, range_start=0, insert_before=4, range_length=2), ["reorder"]),
        (lambda: sp.playlist_remove_all_occurrences_of_items(pid, [t[1]]), ["remove_at"]),
        (lambda: sp.playlist_remove_specific_occurrences_of_items(
            pid, [{"uri": f"spotify:track:{t[3]}", "positions": [3]}]), ["remove_at"]),
        (lambda: sp.playlist_replace_items(pid, [t[5], t[6], t[7]]), ["replace"]),
        (lambda: sp.playlist_change_details(pid, name="Live ops, renamed", description="now described"),
         ["details"]),
        (lambda: sp.playlist_upload_cover_image(pid, _jpeg()), ["cover"]),
    ]
    documented = _doc_operations()
    seen: set[str] = set()
    model = all_items(httpx.Client(base_url=s.base, headers={"Authorization": f"Bearer {owner['token']}"}), pid)
    previous = start_snapshot
    for send, kinds in edits:
        send()
        got = [(await _changes(who, pid, 1))[0] for who in (o, c)]
        assert got[0] == got[1]  # owner and collaborator see the same change
        ev = got[0]
        assert ev["base_snapshot_id"] == previous, "the changes of a playlist form a chain"
        assert ev["snapshot_id"] == sp.playlist(pid)["snapshot_id"] and ev["by"] == owner["id"]
        assert [op["type"] for op in ev["operations"]] == kinds
        for op in ev["operations"]:
            assert set(op) - {"type"} == documented[op["type"]], op
            seen.add(op["type"])
        model = replay(model, ev["operations"])
        with api(s, owner["token"]) as http:
            assert all_items(http, pid) == model, ev
        previous = ev["snapshot_id"]
    assert seen == set(documented), "every documented operation was sent"
    for who in (o, c):
        await who.close()


async def test_subsonic_update_and_v1_make_the_same_list_and_operations(live_server: LiveServer) -> None:
    s = live_server
    t = track_ids(s)
    who = _person(s, "lps")
    sp = _spotipy(s, who["token"])
    u = urllib.parse.urlsplit(s.base)
    sonic = libsonic.Connection(f"http://{u.hostname}", who["name"], who["password"], port=u.port or 80,
                                appName="musicd-tests", apiVersion="1.16.1")
    start = [t[0], t[1], t[2], t[3], t[4]]
    v1 = sp._post("me/playlists", payload={"name": "via v1", "public": False})["id"]
    sp.playlist_add_items(v1, start)
    made = sonic.createPlaylist(name="via subsonic", songIds=start)
    sub = made["playlist"]["id"]
    ws = await Client.open(s, who["token"])
    await ws.drain()

    # Remove the entries at 1 and 3, then add t5: /v1 in two requests, Subsonic in one updatePlaylist.
    sp.playlist_remove_specific_occurrences_of_items(
        v1, [{"uri": f"spotify:track:{t[1]}", "positions": [1]}, {"uri": f"spotify:track:{t[3]}", "positions": [3]}])
    sp.playlist_add_items(v1, [t[5]])
    v1_ops = [op for ev in await _changes(ws, v1, 2) for op in ev["operations"]]
    assert sonic.updatePlaylist(sub, songIdsToAdd=[t[5]], songIndexesToRemove=[1, 3])["status"] == "ok"
    sub_ev = (await _changes(ws, sub, 1))[0]
    assert sub_ev["kind"] == "update"
    assert sub_ev["operations"] == v1_ops == [
        {"type": "remove_at", "positions": [1, 3], "expected": [t[1], t[3]]}, {"type": "append", "track_ids": [t[5]]}]
    with api(s, who["token"]) as http:
        assert all_items(http, v1) == all_items(http, sub) == replay(start, v1_ops)
    got = sonic.getPlaylist(sub)["playlist"]["entry"]
    assert [e["id"] for e in got] == [t[0], t[2], t[4], t[5]]
    await ws.close()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_an_edit_writes_only_the_entries_it_changes(live_server: LiveServer) -> None:
    s = live_server
    t = track_ids(s)
    who = _person(s, "lpw")
    sp = _spotipy(s, who["token"])
    pid = sp._post("me/playlists", payload={"name": "Long one", "public": False})["id"]
    n = 2000
    entries = [t[i % len(t)] for i in range(n)]
    for i in range(0, n, 100):
        sp.playlist_add_items(pid, entries[i:i + 100])

    def cost(edit: Any) -> float:
        before = metric(s, WRITES)
        edit()
        return metric(s, WRITES) - before

    # Dense positions rewrote every entry from the first one touched: these cost 2000, 1997, 2001, 2000.
    assert cost(lambda: sp.playlist_reorder_items(pid, range_start=0, insert_before=n)) == 1
    assert cost(lambda: sp.playlist_reorder_items(pid, range_start=n - 10, insert_before=3, range_length=5)) == 5
    assert cost(lambda: sp.playlist_add_items(pid, [t[0]], position=0)) == 1
    assert cost(lambda: sp.playlist_remove_specific_occurrences_of_items(
        pid, [{"uri": f"spotify:track:{t[0]}", "positions": [0]}])) == 1
    expected = entries[1:4] + entries[n - 9:n - 4] + entries[4:n - 9] + entries[n - 4:] + entries[:1]
    with api(s, who["token"]) as http:
        assert all_items(http, pid) == expected


def test_two_writers_reorder_at_once_and_both_land(live_server: LiveServer) -> None:
    s = live_server
    t = track_ids(s)
    owner, editor = _person(s, "lp2o"), _person(s, "lp2e")
    with api(s, owner["token"]) as a, api(s, editor["token"]) as b:
        pid = a.post("/v1/me/playlists", json={"name": "Two movers", "public": False,
                                                "collaborative": True}).json()["id"]
        assert a.post(f"/v1/playlists/{pid}/collaborators", json={"ids": [editor["id"]]}).status_code in (200, 201)
        n = 200
        for i in range(0, n, 100):
            a.post(f"/v1/playlists/{pid}/items", json={"uris": [f"spotify:track:{t[j % len(t)]}"
                                                               for j in range(i, i + 100)]})
        # The model's entries have identities (their index at the start): tracks repeat in the list.
        model = list(range(n))
        track_of = [t[j % len(t)] for j in range(n)]
        rng = random.Random(12)
        writes_before = metric(s, WRITES)
        moved = 0
        barrier = threading.Barrier(2, timeout=30)
        for _ in range(15):
            snapshot = a.get(f"/v1/playlists/{pid}").json()["snapshot_id"]
            assert [track_of[e] for e in model] == all_items(a, pid)
            # Two blocks, each to go before an entry far from both blocks (so neither move is a no-op and
            # neither anchor is in the other block): the first block early in the list, so that with dense
            # positions the second reorder always conflicted with the first.
            blocks = [(rng.randrange(0, 20), rng.randint(1, 3)), (rng.randrange(100, 137), rng.randint(1, 3))]
            anchors = [rng.randrange(150, 190), rng.randrange(30, 90)]
            results: dict[int, httpx.Response] = {}

            def send(i: int, c: httpx.Client, block: tuple[int, int], anchor: int, snap: str,
                     results: dict[int, httpx.Response] = results) -> None:
                barrier.wait()
                results[i] = c.put(f"/v1/playlists/{pid}/items", json={
                    "range_start": block[0], "range_length": block[1], "insert_before": anchor, "snapshot_id": snap})

            threads = [threading.Thread(target=send, args=(i, c, blocks[i], anchors[i], snapshot))
                       for i, c in enumerate((a, b))]
            for th in threads:
                th.start()
            for th in threads:
                th.join(timeout=60)
            assert [results[i].status_code for i in (0, 1)] == [200, 200], [results[i].text for i in (0, 1)]
            # Both moves, by identity: each block right before its anchor (the same whichever went first).
            then = list(model)
            for (start, length), anchor in zip(blocks, anchors, strict=True):
                block, before = then[start:start + length], then[anchor]
                rest = [e for e in model if e not in block]
                at = rest.index(before)
                model = rest[:at] + block + rest[at:]
                moved += length
        assert [track_of[e] for e in model] == all_items(a, pid) == all_items(b, pid)
        assert sorted(model) == list(range(n))  # nothing lost or doubled
        # No renumbering: the reorders wrote the entries they moved and nothing else.
        assert metric(s, WRITES) - writes_before == moved


def test_replay_follows_the_page() -> None:
    """The replay helper itself, on the page's own example shapes (guards the other tests' model)."""
    assert replay(["a", "b", "c", "d"], [{"type": "reorder", "range_start": 0, "range_length": 2,
                                         "insert_before": 4}]) == ["c", "d", "a", "b"]
    assert replay(["a", "b", "c"], [{"type": "remove_at", "positions": [0, 2], "expected": ["a", "c"]},
                                    {"type": "insert", "track_ids": ["x"], "position": 1}]) == ["b", "x"]
