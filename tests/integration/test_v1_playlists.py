"""/v1 playlists over real HTTP: CRUD, item edits and paging, snapshots (merge vs 409), covers, follows,
collaborators, share links, M3U8/XSPF, and who may do what."""

from __future__ import annotations

import base64
import time

import httpx
import pytest

from tests.integration.playlist_helpers import all_items, new_user, track_ids, upload_cover, uri, version
from tests.live import LiveServer


def _create(c: httpx.Client, name: str = "Test list", **extra: object) -> dict:
    r = c.post("/v1/me/playlists", json={"name": name, **extra})
    assert r.status_code == 201, r.text
    return r.json()


def _add(c: httpx.Client, pid: str, ids: list[str], **extra: object) -> httpx.Response:
    return c.post(f"/v1/playlists/{pid}/tracks", json={"uris": [uri(t) for t in ids], **extra})


def test_create_read_change_list_delete(live_server: LiveServer) -> None:
    alice_id = live_server.user_id("alice")
    with live_server.client("alice") as alice, live_server.client("bob") as bob:
        r = alice.post(f"/v1/users/{alice_id}/playlists",
                       json={"name": "Road trip", "description": "for the car", "public": False})
        assert r.status_code == 201, r.text
        pl = r.json()
        assert pl["type"] == "playlist" and pl["uri"] == f"spotify:playlist:{pl['id']}"
        assert pl["owner"]["id"] == alice_id and pl["owner"]["display_name"] == "alice"
        assert (pl["name"], pl["description"], pl["public"], pl["collaborative"]) == (
            "Road trip", "for the car", False, False)
        assert pl["tracks"]["total"] == 0 and pl["tracks"]["items"] == [] and pl["items"] == pl["tracks"]
        assert pl["followers"] == {"href": None, "total": 0} and pl["snapshot_id"]
        pid = pl["id"]

        # Another user cannot create for alice; bob cannot see her private playlist at all.
        assert bob.post(f"/v1/users/{alice_id}/playlists", json={"name": "x"}).status_code == 403
        assert bob.get(f"/v1/playlists/{pid}").json()["error"]["code"] == "playlist_not_found"
        assert pid not in [p["id"] for p in bob.get(f"/v1/users/{alice_id}/playlists").json()["items"]]

        r = alice.put(f"/v1/playlists/{pid}", json={"name": "Road trip 2", "public": True})
        assert r.status_code == 200, r.text
        got = alice.get(f"/v1/playlists/{pid}").json()
        assert (got["name"], got["public"], got["description"]) == ("Road trip 2", True, "for the car")
        assert version(got["snapshot_id"]) == version(pl["snapshot_id"]) + 1

        mine = alice.get("/v1/me/playlists", params={"limit": 50}).json()
        assert mine["items"][0]["id"] == pid  # the newest first
        assert {"href", "items", "limit", "next", "offset", "previous", "total"} <= set(mine)
        assert mine["items"][0]["tracks"] == {"href": f"{live_server.base}/v1/playlists/{pid}/tracks", "total": 0}
        assert pid in [p["id"] for p in bob.get(f"/v1/users/{alice_id}/playlists").json()["items"]]
        assert bob.get(f"/v1/playlists/{pid}").status_code == 200

        # Only the owner changes details; a collaborative playlist cannot be public.
        assert bob.put(f"/v1/playlists/{pid}", json={"name": "mine now"}).status_code == 403
        r = alice.put(f"/v1/playlists/{pid}", json={"collaborative": True})
        assert r.status_code == 400 and r.json()["error"]["code"] == "collaborative_public"
        for bad in ({"name": ""}, {"name": "x" * 201}):
            assert alice.put(f"/v1/playlists/{pid}", json=bad).status_code == 400
        assert alice.post("/v1/me/playlists", json={"description": "no name"}).status_code == 400

        assert bob.delete(f"/v1/playlists/{pid}").status_code == 403
        assert alice.delete(f"/v1/playlists/{pid}").status_code == 204
        assert alice.get(f"/v1/playlists/{pid}").status_code == 404
        assert bob.get("/v1/users/nosuchuser/playlists").status_code == 404


def test_add_remove_reorder_replace(live_server: LiveServer) -> None:
    t = track_ids(live_server)
    with live_server.client("alice") as alice:
        pid = _create(alice)["id"]
        r = _add(alice, pid, t[:3])
        assert r.status_code == 201, r.text
        snap = r.json()["snapshot_id"]
        # Query-string uris (Spotify's other form), Spotify aliases, and a position.
        r = alice.post(f"/v1/playlists/{pid}/tracks", params={"uris": f"spotify:track:{t[3]}", "position": 0})
        assert r.status_code == 201, r.text
        # spotipy 2.26 sends a bare JSON list to /items.
        assert alice.post(f"/v1/playlists/{pid}/items", json=[uri(t[4])]).status_code == 201
        assert all_items(alice, pid) == [t[3], t[0], t[1], t[2], t[4]]
        assert version(r.json()["snapshot_id"]) == version(snap) + 1

        full = alice.get(f"/v1/playlists/{pid}").json()
        item = full["tracks"]["items"][0]
        assert item["is_local"] is False and item["added_by"]["id"] == live_server.user_id("alice")
        assert item["added_at"].endswith("Z") and item["track"]["id"] == t[3] and item["item"] == item["track"]
        assert item["track"]["type"] == "track" and item["track"]["album"]["id"]

        # Reorder: the first item to just before the fourth.
        r = alice.put(f"/v1/playlists/{pid}/tracks", json={"range_start": 0, "insert_before": 3})
        assert r.status_code == 200, r.text
        assert all_items(alice, pid) == [t[0], t[1], t[3], t[2], t[4]]
        # Remove: every occurrence by uri ("tracks" before Feb 2026, "items" after), or at positions.
        _add(alice, pid, [t[0]])
        r = alice.request("DELETE", f"/v1/playlists/{pid}/tracks", json={"tracks": [{"uri": uri(t[0])}]})
        assert r.status_code == 200, r.text
        assert all_items(alice, pid) == [t[1], t[3], t[2], t[4]]
        r = alice.request("DELETE", f"/v1/playlists/{pid}/items",
                          json={"items": [{"uri": uri(t[2]), "positions": [2]}]})
        assert r.status_code == 200, r.text
        assert all_items(alice, pid) == [t[1], t[3], t[4]]
        r = alice.request("DELETE", f"/v1/playlists/{pid}/items",
                          json={"items": [{"uri": uri(t[1]), "positions": [2]}]})
        assert r.status_code == 400 and r.json()["error"]["code"] == "position_mismatch"
        # Replace, then clear.
        r = alice.put(f"/v1/playlists/{pid}/tracks", json={"uris": [uri(x) for x in t[5:8]]})
        assert r.status_code == 200, r.text
        assert all_items(alice, pid) == t[5:8]
        assert alice.put(f"/v1/playlists/{pid}/items", json={"uris": []}).status_code == 200
        assert all_items(alice, pid) == []

        # Bad input is a 400 with a code, never a 500.
        bad_cases = [
            ("POST", {"uris": ["spotify:album:xyz"]}, "invalid_uri"),
            ("POST", {"uris": [uri("NoSuchTrack")]}, "unknown_track"),
            ("POST", {"uris": [uri(t[0])] * 101}, "bad_uris"),
            ("POST", {"uris": [uri(t[0])], "position": 5}, "invalid_position"),
            ("PUT", {"range_start": 3, "insert_before": 0}, "invalid_range"),
            ("PUT", {"range_start": 0}, "bad_request"),
            ("DELETE", {"items": []}, "bad_uris"),
            ("DELETE", {"items": [{"uri": uri(t[0])}], "snapshot_id": "bogus"}, "invalid_snapshot"),
        ]
        for method, body, code in bad_cases:
            r = alice.request(method, f"/v1/playlists/{pid}/tracks", json=body)
            assert r.status_code == 400 and r.json()["error"]["code"] == code, (body, r.text)
        assert alice.post(f"/v1/playlists/{pid}/tracks", content=b"{nope").status_code == 400
        assert alice.get(f"/v1/playlists/{pid}/tracks", params={"limit": 101}).status_code == 400
        assert alice.get(f"/v1/playlists/{pid}/tracks", params={"limit": "x"}).status_code == 400


def test_stale_snapshot_merges_when_it_commutes_and_409s_when_not(live_server: LiveServer) -> None:
    t = track_ids(live_server)
    with live_server.client("alice") as alice:
        pid = _create(alice)["id"]
        old = _add(alice, pid, t[:6]).json()["snapshot_id"]  # [0 1 2 3 4 5]
        _add(alice, pid, [t[6]])  # someone appends: [0 1 2 3 4 5 6]

        # Based on `old`: removing by uri and appending commute with the append.
        r = alice.request("DELETE", f"/v1/playlists/{pid}/tracks", json={"tracks": [{"uri": uri(t[5])}],
                                                                          "snapshot_id": old})
        assert r.status_code == 200, r.text  # [0 1 2 3 4 6]
        assert _add(alice, pid, [t[7]], snapshot_id=old).status_code == 201  # [0 1 2 3 4 6 7]
        # Reordering or removing at positions before everything that changed since: merged.
        r = alice.put(f"/v1/playlists/{pid}/tracks", json={"range_start": 0, "insert_before": 2, "snapshot_id": old})
        assert r.status_code == 200, r.text  # [1 0 2 3 4 6 7]
        assert all_items(alice, pid) == [t[1], t[0], t[2], t[3], t[4], t[6], t[7]]

        # Positions that have moved since `old` (the reorder above touched index 0): refused.
        r = alice.request("DELETE", f"/v1/playlists/{pid}/tracks",
                          json={"tracks": [{"uri": uri(t[2]), "positions": [2]}], "snapshot_id": old})
        assert r.status_code == 409 and r.json()["error"]["code"] == "snapshot_conflict"
        r = alice.put(f"/v1/playlists/{pid}/tracks", json={"range_start": 4, "insert_before": 0, "snapshot_id": old})
        assert r.status_code == 409
        r = alice.post(f"/v1/playlists/{pid}/tracks", json={"uris": [uri(t[8])], "position": 1, "snapshot_id": old})
        assert r.status_code == 409
        r = alice.put(f"/v1/playlists/{pid}/tracks", json={"uris": [uri(t[0])], "snapshot_id": old})
        assert r.status_code == 409  # a replace against a stale list would drop what others did
        assert all_items(alice, pid) == [t[1], t[0], t[2], t[3], t[4], t[6], t[7]]  # nothing refused landed

        # With the current snapshot the same positional change goes through.
        now = alice.get(f"/v1/playlists/{pid}").json()["snapshot_id"]
        r = alice.request("DELETE", f"/v1/playlists/{pid}/tracks",
                          json={"tracks": [{"uri": uri(t[2]), "positions": [2]}], "snapshot_id": now})
        assert r.status_code == 200, r.text
        assert version(r.json()["snapshot_id"]) == version(now) + 1
        # A detail change bumps the snapshot but does not conflict with positional edits.
        now = r.json()["snapshot_id"]
        alice.put(f"/v1/playlists/{pid}", json={"description": "changed"})
        r = alice.put(f"/v1/playlists/{pid}/tracks", json={"range_start": 1, "insert_before": 0, "snapshot_id": now})
        assert r.status_code == 200, r.text
        assert all_items(alice, pid) == [t[0], t[1], t[3], t[4], t[6], t[7]]


def test_ten_thousand_items_paged_and_no_more(live_server: LiveServer) -> None:
    t = track_ids(live_server)
    _, c = new_user(live_server)
    with c:
        # One request builds the playlist: an M3U of 10,000 musicd URIs.
        lines = "\n".join(uri(t[i % len(t)]) for i in range(10_000))
        r = c.post("/v1/me/playlists/import", params={"name": "Big"}, content=lines.encode(),
                   headers={"Content-Type": "audio/x-mpegurl"})
        assert r.status_code == 201, r.text
        assert r.json()["matched"] == 10_000 and r.json()["unmatched"] == []
        pid = r.json()["playlist"]["id"]

        full = c.get(f"/v1/playlists/{pid}").json()
        assert full["tracks"]["total"] == 10_000 and len(full["tracks"]["items"]) == 100
        assert full["tracks"]["next"].endswith("offset=100&limit=100")
        page = c.get(f"/v1/playlists/{pid}/items", params={"offset": 9_950, "limit": 100}).json()
        assert len(page["items"]) == 50 and page["next"] is None and page["total"] == 10_000
        assert [i["track"]["id"] for i in page["items"]] == [t[i % len(t)] for i in range(9_950, 10_000)]
        assert page["previous"].endswith("offset=9850&limit=100")
        assert c.get(f"/v1/playlists/{pid}/items", params={"offset": 20_000}).json()["items"] == []

        r = _add(c, pid, [t[0]])
        assert r.status_code == 400 and r.json()["error"]["code"] == "playlist_full"
        # Removing makes room again; the count stays exact.
        c.request("DELETE", f"/v1/playlists/{pid}/items", json={"items": [{"uri": uri(t[0])}]})
        total = c.get(f"/v1/playlists/{pid}").json()["tracks"]["total"]
        assert total == 10_000 - sum(1 for i in range(10_000) if i % len(t) == 0)
        assert _add(c, pid, [t[0]]).status_code == 201
        too_many = "\n".join(uri(t[0]) for _ in range(10_001))
        assert c.post("/v1/me/playlists/import", content=too_many.encode()).status_code == 400


def test_cover_upload(live_server: LiveServer) -> None:
    with live_server.client("alice") as alice, live_server.client("bob") as bob:
        pid = _create(alice)["id"]
        jpeg = upload_cover(alice, pid, (64, 48), (200, 30, 30))
        imgs = alice.get(f"/v1/playlists/{pid}/images").json()
        assert len(imgs) == 1
        assert alice.get(f"/v1/playlists/{pid}").json()["images"] == imgs
        r = alice.get(imgs[0]["url"])
        assert r.status_code == 200 and r.content == jpeg

        png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"0" * 100)
        assert alice.put(f"/v1/playlists/{pid}/images", content=png).status_code == 400
        assert alice.put(f"/v1/playlists/{pid}/images", content=b"not base64!").status_code == 400
        big = base64.b64encode(b"\xff\xd8\xff" + b"0" * 200_000)
        assert alice.put(f"/v1/playlists/{pid}/images", content=big).status_code == 413
        alice.put(f"/v1/playlists/{pid}", json={"public": True})
        assert bob.put(f"/v1/playlists/{pid}/images", content=base64.b64encode(jpeg)).status_code == 403


def test_follow_unfollow(live_server: LiveServer) -> None:
    alice_id, bob_id = live_server.user_id("alice"), live_server.user_id("bob")
    with live_server.client("alice") as alice, live_server.client("bob") as bob:
        pid = _create(alice, "Public one", public=True)["id"]
        assert bob.put(f"/v1/playlists/{pid}/followers", json={"public": True}).status_code == 200
        assert pid in [p["id"] for p in bob.get("/v1/me/playlists", params={"limit": 50}).json()["items"]]
        assert alice.get(f"/v1/playlists/{pid}").json()["followers"]["total"] == 1
        r = alice.get(f"/v1/playlists/{pid}/followers/contains", params={"ids": f"{bob_id},{alice_id}"})
        assert r.json() == [True, False]
        # A public follow shows on bob's profile to others.
        assert pid in [p["id"] for p in alice.get(f"/v1/users/{bob_id}/playlists").json()["items"]]
        assert bob.delete(f"/v1/playlists/{pid}/followers").status_code == 200
        assert pid not in [p["id"] for p in bob.get("/v1/me/playlists", params={"limit": 50}).json()["items"]]

        private = _create(alice, "Private", public=False)["id"]
        assert bob.put(f"/v1/playlists/{private}/followers").status_code == 404
        # The owner unfollowing their own playlist deletes it (what Spotify clients mean by it).
        assert alice.delete(f"/v1/playlists/{private}/followers").status_code == 200
        assert alice.get(f"/v1/playlists/{private}").status_code == 404


@pytest.mark.parametrize("who", ["owner", "collaborator", "other", "guest", "admin", "nobody", "forged"])
def test_who_may_do_what(live_server: LiveServer, who: str) -> None:
    """Each endpoint as the owner, an invited collaborator, another user, a guest, an admin, and without or
    with a forged token. Private playlists of others are 404 (their existence does not leak)."""
    t = track_ids(live_server)
    with live_server.client("alice") as alice:
        private = _create(alice, "Private collab", public=False, collaborative=True)["id"]
        public = _create(alice, "Public", public=True)["id"]
        for pid in (private, public):
            _add(alice, pid, t[:3])
        assert alice.post(f"/v1/playlists/{private}/collaborators",
                          json={"ids": [live_server.user_id("bob")]}).status_code == 200
    if who == "other":  # a fresh ordinary user
        _, c = new_user(live_server)
    else:
        headers = {
            "owner": live_server.headers("alice"), "collaborator": live_server.headers("bob"),
            "guest": live_server.headers("guest"), "admin": live_server.headers("admin"), "nobody": {},
            "forged": {"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"},
        }[who]
        c = httpx.Client(base_url=live_server.base, headers=headers, timeout=30)

    def status(method: str, path: str, **kw: object) -> int:
        return c.request(method, path, **kw).status_code  # type: ignore[arg-type]

    add = {"json": {"uris": [uri(t[4])]}}
    if who in ("nobody", "forged"):
        for method, path in [("GET", f"/v1/playlists/{public}"), ("GET", "/v1/me/playlists"),
                             ("POST", "/v1/me/playlists"), ("POST", f"/v1/playlists/{public}/tracks")]:
            assert status(method, path, json={"name": "x"}) == 401
        return
    # Reads: a private playlist exists only for its owner and collaborators.
    can_read_private = who in ("owner", "collaborator")
    assert status("GET", f"/v1/playlists/{private}") == (200 if can_read_private else 404)
    assert status("GET", f"/v1/playlists/{private}/tracks") == (200 if can_read_private else 404)
    assert status("GET", f"/v1/playlists/{public}") == 200
    assert status("GET", f"/v1/playlists/{public}/items") == 200
    # Item edits: owner and collaborators (on the collaborative one); others 403 on what they can see.
    can_edit = who in ("owner", "collaborator")
    assert status("POST", f"/v1/playlists/{private}/tracks", **add) == (201 if can_edit else 404)
    assert status("POST", f"/v1/playlists/{public}/tracks", **add) == (201 if who == "owner" else 403)
    reorder = {"json": {"range_start": 0, "insert_before": 2}}
    assert status("PUT", f"/v1/playlists/{private}/tracks", **reorder) == (200 if can_edit else 404)
    remove = {"json": {"tracks": [{"uri": uri(t[4])}]}}
    assert status("DELETE", f"/v1/playlists/{private}/tracks", **remove) == (200 if can_edit else 404)
    # Details, cover, sharing, inviting, deleting: the owner only.
    owner_or = 200 if who == "owner" else (403 if can_read_private else 404)
    assert status("PUT", f"/v1/playlists/{private}", json={"description": "d"}) == owner_or
    assert status("POST", f"/v1/playlists/{private}/share", json={}) == (201 if who == "owner" else owner_or)
    assert status("POST", f"/v1/playlists/{private}/collaborators",
                  json={"ids": [live_server.user_id("admin")]}) == owner_or
    assert status("PUT", f"/v1/playlists/{public}", json={"description": "d"}) == (200 if who == "owner" else 403)
    # Guests browse but do not create or import.
    create = status("POST", "/v1/me/playlists", json={"name": "mine"})
    assert create == (403 if who == "guest" else 201)
    assert status("POST", "/v1/me/playlists/import", content=uri(t[0]).encode()) == (
        403 if who == "guest" else 201)
    assert status("DELETE", f"/v1/playlists/{public}") == (204 if who == "owner" else 403)
    c.close()


def test_collaborators_can_edit_items_only_while_collaborative(live_server: LiveServer) -> None:
    t = track_ids(live_server)
    bob_id, guest_id = live_server.user_id("bob"), live_server.user_id("guest")
    with live_server.client("alice") as alice, live_server.client("bob") as bob:
        pid = _create(alice, "Shared", public=False, collaborative=True)["id"]
        assert bob.get(f"/v1/playlists/{pid}").status_code == 404
        r = alice.post(f"/v1/playlists/{pid}/collaborators", json={"ids": [bob_id]})
        assert r.status_code == 200 and [u["id"] for u in r.json()["items"]] == [bob_id]
        assert pid in [p["id"] for p in bob.get("/v1/me/playlists", params={"limit": 50}).json()["items"]]
        r = _add(bob, pid, [t[0]])
        assert r.status_code == 201
        assert bob.get(f"/v1/playlists/{pid}").json()["tracks"]["items"][0]["added_by"]["id"] == bob_id
        for bad in ([guest_id], ["nobody"], [live_server.user_id("alice")]):
            assert alice.post(f"/v1/playlists/{pid}/collaborators", json={"ids": bad}).status_code == 400
        # No longer collaborative: bob still reads (he was invited) but edits no more.
        assert alice.put(f"/v1/playlists/{pid}", json={"collaborative": False}).status_code == 200
        assert _add(bob, pid, [t[1]]).status_code == 403
        assert bob.get(f"/v1/playlists/{pid}").status_code == 200
        # A collaborator may leave; then the private playlist is gone for him.
        assert bob.request("DELETE", f"/v1/playlists/{pid}/collaborators", json={"ids": [bob_id]}).status_code == 200
        assert bob.get(f"/v1/playlists/{pid}").status_code == 404


def test_share_links(live_server: LiveServer) -> None:
    t = track_ids(live_server)
    with live_server.client("alice") as alice, live_server.client("bob") as bob:
        pid = _create(alice, "Secret <b>mix</b>", public=False)["id"]
        _add(alice, pid, t[:3])
        r = alice.post(f"/v1/playlists/{pid}/share", json={"expires_in": 3600})
        assert r.status_code == 201, r.text
        link = r.json()
        assert link["url"] == f"{live_server.base}/share/{link['token']}" and link["expires_at"]

        # Without an account: JSON for programs, a page for browsers; read-only.
        r = httpx.get(link["url"], timeout=10)
        assert r.status_code == 200
        body = r.json()
        assert body["id"] == pid and body["tracks"]["total"] == 3
        assert [i["track"]["id"] for i in body["tracks"]["items"]] == t[:3]
        page = httpx.get(f"{link['url']}/items", params={"offset": 1, "limit": 1}, timeout=10).json()
        assert [i["track"]["id"] for i in page["items"]] == [t[1]] and page["total"] == 3
        html = httpx.get(link["url"], headers={"Accept": "text/html"}, timeout=10)
        assert html.headers["content-type"].startswith("text/html")
        assert "Secret &lt;b&gt;mix&lt;/b&gt;" in html.text and "<b>mix" not in html.text
        assert httpx.post(link["url"], timeout=10).status_code == 405
        # With an account it works too, and the playlist itself stays private.
        assert bob.get(link["url"]).status_code == 200
        assert bob.get(f"/v1/playlists/{pid}").status_code == 404

        assert alice.get(f"/v1/playlists/{pid}/share").json()["total"] == 1
        assert "token" not in alice.get(f"/v1/playlists/{pid}/share").json()["items"][0]
        assert alice.delete(f"/v1/playlists/{pid}/share/{link['id']}").status_code == 204
        r = httpx.get(link["url"], timeout=10)
        assert r.status_code == 410 and r.json()["error"]["code"] == "share_revoked"
        assert httpx.get(f"{live_server.base}/share/not-a-real-token-at-all", timeout=10).status_code == 404

        short = alice.post(f"/v1/playlists/{pid}/share", json={"expires_in": 1}).json()
        assert httpx.get(short["url"], timeout=10).status_code == 200
        time.sleep(1.2)
        r = httpx.get(short["url"], timeout=10)
        assert r.status_code == 410 and r.json()["error"]["code"] == "share_expired"

        other = alice.post(f"/v1/playlists/{pid}/share").json()
        assert alice.delete(f"/v1/playlists/{pid}/share").status_code == 204  # revoke all
        assert httpx.get(other["url"], timeout=10).status_code == 410
        for bad in (0, -5, 10**9):
            assert alice.post(f"/v1/playlists/{pid}/share", json={"expires_in": bad}).status_code == 400


@pytest.mark.parametrize("fmt", ["m3u8", "xspf"])
def test_export_import_round_trip(live_server: LiveServer, fmt: str) -> None:
    t = track_ids(live_server)
    order = [t[5], t[1], t[7], t[1], t[0]]
    with live_server.client("alice") as alice:
        pid = _create(alice, "Round trip", description="both ways")["id"]
        _add(alice, pid, order)
        r = alice.get(f"/v1/playlists/{pid}/export", params={"format": fmt})
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("audio/x-mpegurl" if fmt == "m3u8" else "application/xspf+xml")
        assert "attachment" in r.headers["content-disposition"]
        text = r.text
        assert ":track:" not in text if fmt == "m3u8" else "<trackList>" in text

        back = alice.post("/v1/me/playlists/import", content=text.encode())
        assert back.status_code == 201, back.text
        assert back.json()["matched"] == len(order) and back.json()["unmatched"] == []
        new = back.json()["playlist"]
        assert new["name"] == "Round trip" and new["public"] is False
        assert all_items(alice, new["id"]) == order

        if fmt == "m3u8":
            # Paths only (no musicd ids): lines from another machine match by their path below the library.
            stripped = "\n".join(f"/home/someone/Music/{ln}" if ln and not ln.startswith("#") else ln
                                 for ln in text.splitlines())
            r = alice.post("/v1/me/playlists/import", params={"name": "Moved"}, content=stripped.encode())
            assert r.json()["matched"] == len(order)
            assert all_items(alice, r.json()["playlist"]["id"]) == order
        assert alice.get(f"/v1/playlists/{pid}/export", params={"format": "pls"}).status_code == 400


def test_import_matches_by_title_and_artist_and_reports_the_rest(live_server: LiveServer) -> None:
    t = track_ids(live_server)
    with live_server.client("alice") as alice:
        tracks = [alice.get(f"/v1/tracks/{i}").json() for i in t[:2]]
        a, b = tracks
        xspf = f"""<?xml version="1.0" encoding="UTF-8"?>
<playlist version="1" xmlns="http://xspf.org/ns/0/"><title>Found by name</title><trackList>
<track><title>{a['name'].upper()}</title><creator>{a['artists'][0]['name']}</creator></track>
<track><location>file:///nowhere/Unknown%20Artist/Nothing.flac</location><title>Nothing</title></track>
<track><title>{b['name']}</title><creator>{b['artists'][0]['name']}</creator><album>{b['album']['name']}</album></track>
</trackList></playlist>"""
        r = alice.post("/v1/me/playlists/import", content=xspf.encode())
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["matched"] == 2 and body["playlist"]["name"] == "Found by name"
        assert [u["index"] for u in body["unmatched"]] == [1]
        assert body["unmatched"][0]["location"].endswith("Nothing.flac")
        assert all_items(alice, body["playlist"]["id"]) == t[:2]

        m3u = f"#EXTM3U\n#EXTINF:10,{a['artists'][0]['name']} - {a['name']}\nsomewhere/else.mp3\n"
        r = alice.post("/v1/me/playlists/import", content=m3u.encode())
        assert r.json()["matched"] == 1
        for bad in (b"<playlist><trackList>", b"<?xml version='1.0'?><notaplaylist/>", b"\x00\x01garbage"):
            r = alice.post("/v1/me/playlists/import", content=bad)
            assert r.status_code == 400, (bad, r.text)
        bomb = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
                b'<playlist><title>&b;</title></playlist>')
        assert alice.post("/v1/me/playlists/import", content=bomb).status_code == 400
