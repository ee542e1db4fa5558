"""One share system behind both APIs: a Subsonic share and a /v1 playlist link are the same kind of share,
open through the same public pages (/share/{token}, and /s/{token} that Subsonic apps show), and follow
the same expiry, revocation, deletion and visibility rules."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from tests.integration.playlist_helpers import track_ids
from tests.integration.rules_support import World
from tests.integration.subsonic_support import Sub
from tests.live import USERS, LiveServer


@pytest.fixture(scope="module")
def w(live_server: LiveServer) -> Iterator[World]:
    world = World(live_server, httpx.Client(base_url=live_server.base, timeout=30), track_ids(live_server), "", "")
    yield world
    world.close()


def _gone(r: httpx.Response, code: str) -> bool:
    return r.status_code == 410 and r.json()["error"]["code"] == code


def test_a_subsonic_share_opens_like_a_v1_playlist_link(w: World) -> None:
    alice = w.fresh("owner")
    pid = w.playlist(alice, public=False, tracks=3)
    link = w.ok(alice, "POST", f"/v1/playlists/{pid}/share", json={"expires_in": 3600})
    made = w.sub(alice).call("createShare", [("id", pid), ("description", "from a Subsonic app")])
    share = made["shares"]["share"][0]
    token = share["id"]
    assert share["url"] == f"{w.server.base}/s/{token}" and len(share["entry"]) == 3

    # Both open through /share/{token}: the same playlist JSON, the same page, the same items.
    by_link, by_rest = w.http.get(f"/share/{link['token']}").json(), w.http.get(f"/share/{token}").json()
    assert by_link["id"] == by_rest["id"] == pid and by_link["tracks"]["total"] == by_rest["tracks"]["total"] == 3
    assert [i["track"]["id"] for i in by_rest["tracks"]["items"]] == w.tracks[:3]
    assert by_rest["tracks"]["href"].startswith(f"{w.server.base}/share/{token}/items")
    page = w.http.get(f"/share/{token}/items", params={"offset": 2, "limit": 1}).json()
    assert [i["track"]["id"] for i in page["items"]] == [w.tracks[2]] and page["total"] == 3
    for url in (f"/share/{token}", f"/s/{link['token']}", f"/share/{link['token']}"):
        html = w.http.get(url, headers={"Accept": "text/html"})
        assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
        assert "rules" in html.text and f"/tracks/{w.tracks[0]}" in html.text
    # Its tracks play through either family, whole or in part; a track it does not hold does not.
    audio = w.http.get(f"/share/{link['token']}/tracks/{w.tracks[1]}", headers={"Range": "bytes=0-9"})
    short = w.http.get(f"/s/{token}/{w.tracks[1]}", headers={"Range": "bytes=0-9"})
    assert audio.status_code == short.status_code == 206 and audio.content == short.content and len(audio.content) == 10
    assert w.http.get(f"/share/{token}/tracks/{w.tracks[5]}").status_code == 404
    # A browser that cannot play the original asks for a tier; only known qualities, only the share's tracks.
    tier = w.http.get(f"/share/{token}/tracks/{w.tracks[1]}", params={"quality": "normal"})
    assert tier.status_code == 200 and tier.headers["content-type"].startswith("audio/ogg")
    assert w.http.get(f"/s/{token}/{w.tracks[1]}", params={"quality": "bogus"}).status_code == 400
    assert w.http.get(f"/s/{token}/{w.tracks[5]}", params={"quality": "normal"}).status_code == 404
    page = w.http.get(f"/share/{token}", headers={"Accept": "text/html"})
    assert page.headers["referrer-policy"] == "no-referrer" and "script-src 'self'" in page.headers[
        "content-security-policy"] and 'class="share-player"' in page.text
    assert w.http.get(f"/s/{link['token']}/{w.tracks[5]}").status_code == 404

    # One list of a playlist's links: the /v1 link and the Subsonic share of it; revoking them ends both.
    listed = w.ok(alice, "GET", f"/v1/playlists/{pid}/share")
    assert listed["total"] == 2 and all("token" not in i for i in listed["items"])
    assert w.v1(alice, "DELETE", f"/v1/playlists/{pid}/share").status_code == 204
    for t in (link["token"], token):
        assert _gone(w.http.get(f"/share/{t}"), "share_revoked") and w.http.get(f"/s/{t}").status_code == 410
    assert w.sub(alice).call("getShares")["shares"].get("share", []) == []


def test_a_share_of_songs_shows_as_a_playlist(w: World) -> None:
    alice = w.fresh("owner")
    sub = w.sub(alice)
    album = w.ok(alice, "GET", f"/v1/tracks/{w.tracks[0]}")["album"]
    share = sub.call("createShare", [("id", album["id"]), ("id", w.tracks[5])])["shares"]["share"][0]
    body = w.http.get(f"/share/{share['id']}").json()
    expected = [e["id"] for e in share["entry"]]
    assert body["name"] == album["name"] and body["owner"]["id"] == alice.id
    assert body["tracks"]["total"] == len(expected)
    assert [i["track"]["id"] for i in body["tracks"]["items"]] == expected and expected[-1] == w.tracks[5]
    # The page shows the album's cover and serves that one image, and no other.
    cover = body["images"][0]["url"].rsplit("/", 1)[-1].split("?")[0]
    assert w.http.get(f"/share/{share['id']}/cover/{cover}").status_code == 200
    assert w.http.get(f"/s/{share['id']}/cover/{cover}").status_code == 200
    assert w.http.get(f"/share/{share['id']}/cover/not-this-one").status_code == 404
    # Visits count on the page, not on its tracks.
    assert sub.call("getShares")["shares"]["share"][0]["visitCount"] == 1


def test_expiry_and_deletion(w: World) -> None:
    alice = w.fresh("owner")
    sub = w.sub(alice)
    soon = int((time.time() + 1.5) * 1000)
    expiring = sub.call("createShare", {"id": w.tracks[0], "expires": soon})["shares"]["share"][0]["id"]
    kept = sub.call("createShare", {"id": w.tracks[1]})["shares"]["share"][0]["id"]
    assert w.http.get(f"/share/{expiring}").status_code == 200
    time.sleep(1.6)
    assert _gone(w.http.get(f"/share/{expiring}"), "share_expired") and w.http.get(f"/s/{expiring}").status_code == 410
    assert w.http.get(f"/share/{expiring}/tracks/{w.tracks[0]}").status_code == 410
    # Its maker still sees it, and may extend it.
    assert [s["id"] for s in sub.call("getShares")["shares"]["share"]] == [expiring, kept]
    sub.call("updateShare", {"id": expiring, "expires": int((time.time() + 3600) * 1000)})
    assert w.http.get(f"/share/{expiring}").status_code == 200
    # Deleted (Subsonic): gone for everyone (404), and for its maker.
    sub.call("deleteShare", {"id": expiring})
    assert w.http.get(f"/share/{expiring}").status_code == 404 and w.http.get(f"/s/{expiring}").status_code == 404
    assert sub.error("deleteShare", {"id": expiring}) == 70
    assert w.http.get("/share/not-a-real-token-at-all").status_code == 404
    assert w.http.get("/s/not-a-real-token-at-all").status_code == 404


def test_a_share_shows_what_its_maker_may_still_see(w: World) -> None:
    alice, bob = w.fresh("owner"), w.fresh("other")
    pid = w.playlist(alice, public=True, tracks=2)
    token = w.sub(bob).call("createShare", {"id": pid})["shares"]["share"][0]["id"]
    assert w.http.get(f"/share/{token}").json()["id"] == pid
    # Only the owner lists and revokes a playlist's links; bob's share of it is among them.
    assert w.v1(bob, "GET", f"/v1/playlists/{pid}/share").status_code == 403
    assert w.ok(alice, "GET", f"/v1/playlists/{pid}/share")["total"] == 1
    # Made private, the playlist is no longer bob's to show; public again, his link works again.
    w.ok(alice, "PUT", f"/v1/playlists/{pid}", json={"public": False})
    assert w.http.get(f"/share/{token}").status_code == 404
    assert w.http.get(f"/share/{token}/tracks/{w.tracks[0]}").status_code == 404
    assert w.sub(bob).error("createShare", {"id": pid}) == 70  # nor can he share it now
    w.ok(alice, "PUT", f"/v1/playlists/{pid}", json={"public": True})
    assert w.http.get(f"/share/{token}").status_code == 200
    # The owner's own link to a private playlist works; a deleted playlist takes every link with it.
    w.ok(alice, "PUT", f"/v1/playlists/{pid}", json={"public": False})
    own = w.ok(alice, "POST", f"/v1/playlists/{pid}/share", json={})["token"]
    assert w.http.get(f"/share/{own}").status_code == 200
    assert w.v1(alice, "DELETE", f"/v1/playlists/{pid}").status_code == 204
    assert w.http.get(f"/share/{own}").status_code == 404 and w.http.get(f"/share/{token}").status_code == 404


def test_others_cannot_change_a_share(w: World) -> None:
    alice, bob = w.fresh("owner"), w.fresh("other")
    token = w.sub(alice).call("createShare", {"id": w.tracks[0]})["shares"]["share"][0]["id"]
    assert w.sub(bob).error("updateShare", {"id": token, "description": "mine now"}) == 70
    assert w.sub(bob).error("deleteShare", {"id": token}) == 70
    assert w.sub(bob).call("getShares")["shares"].get("share", []) == []
    Sub(w.server.base, "admin", USERS["admin"][0]).call("updateShare", {"id": token, "description": "by an admin"})
    assert w.sub(alice).call("getShares")["shares"]["share"][0]["description"] == "by an admin"
