"""/v1 catalogue, browse and the user's library over real HTTP against a running server."""

from __future__ import annotations

import itertools
import os
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from musicd.devtools.library_builder import BuiltLibrary
from musicd.services.mixes import is_mix_id, mix_id
from tests.live import LiveServer

_n = itertools.count()


def _new_user(live: LiveServer, role: str = "user") -> httpx.Client:
    """A fresh account (so no test sees another's saves), logged in."""
    name = f"cat{os.getpid()}x{next(_n)}"
    with live.client("admin") as admin:
        r = admin.post("/v1/admin/users", json={"username": name, "password": "long-enough-pw", "role": role})
        assert r.status_code == 201, r.text
    token = live.login(name, "long-enough-pw")["access_token"]
    return httpx.Client(base_url=live.base, headers={"Authorization": f"Bearer {token}"}, timeout=30)


@pytest.fixture
def c(live_server: LiveServer) -> Iterator[httpx.Client]:
    with _new_user(live_server) as client:
        yield client


def _err(r: httpx.Response, status: int) -> str:
    assert r.status_code == status, r.text
    body = r.json()["error"]
    assert body["status"] == status and body["message"]
    return str(body["code"])


def _all_albums(c: httpx.Client) -> list[dict]:
    r = c.get("/v1/browse/new-releases", params={"limit": 50})
    assert r.status_code == 200, r.text
    return r.json()["albums"]["items"]


def _album_named(c: httpx.Client, name: str, artist: str) -> dict:
    return next(a for a in _all_albums(c) if a["name"] == name and a["artists"][0]["name"] == artist)


def test_tracks_and_albums(c: httpx.Client, live_server: LiveServer, built_library: BuiltLibrary) -> None:
    simple = _album_named(c, "Melody A.M.", "Röyksopp")
    assert simple["images"] and simple["images"][0]["url"].startswith(f"{live_server.base}/v1/images/")
    r = c.get(f"/v1/albums/{simple['id']}")
    assert r.status_code == 200, r.text
    album = r.json()
    want = built_library.albums()[("Röyksopp", "Melody A.M.")]
    assert album["uri"] == f"spotify:album:{album['id']}" and album["type"] == "album"
    assert album["href"] == f"{live_server.base}/v1/albums/{album['id']}"
    assert album["release_date"] == "2001" and album["release_date_precision"] == "year"
    assert album["tracks"]["total"] == len(want) and album["genres"][0] in ("Electronic", "Downtempo")
    names = [t["name"] for t in album["tracks"]["items"]]
    assert names == [t.title for t in want]

    first = album["tracks"]["items"][0]
    page = c.get(f"/v1/albums/{album['id']}/tracks", params={"limit": 1, "offset": 1}).json()
    assert [t["name"] for t in page["items"]] == names[1:2]
    assert page["total"] == len(want) and page["offset"] == 1 and page["limit"] == 1
    prev = httpx.URL(page["previous"]).params
    assert prev["offset"] == "0" and prev["limit"] == "1"
    assert (page["next"] is None) == (len(want) <= 2)

    r = c.get(f"/v1/tracks/{first['id']}")
    track = r.json()
    assert track["album"]["id"] == album["id"] and track["duration_ms"] > 0
    assert track["disc_number"] >= 1 and track["track_number"] == want[0].track
    assert track["artists"][0]["name"] == "Röyksopp" and track["uri"] == f"spotify:track:{first['id']}"
    assert c.get(f"/v1/tracks/spotify:track:{first['id']}").json()["id"] == first["id"]
    assert "external_ids" in track

    many = c.get("/v1/tracks", params={"ids": f"{first['id']},missing0000,musicd:track:{first['id']}"}).json()
    assert [t and t["id"] for t in many["tracks"]] == [first["id"], None, first["id"]]
    albums = c.get("/v1/albums/", params={"ids": album["id"]}).json()["albums"]
    assert albums[0]["id"] == album["id"] and albums[0]["tracks"]["total"] == len(want)

    assert _err(c.get("/v1/tracks/nope"), 404) == "track_not_found"
    assert _err(c.get("/v1/albums/nope"), 404) == "album_not_found"
    assert _err(c.get("/v1/albums/nope/tracks"), 404) == "album_not_found"
    assert _err(c.get("/v1/tracks/musicd:album:x"), 400) == "bad_id"
    assert _err(c.get("/v1/tracks", params={"ids": ",".join(["x"] * 51)}), 400) == "too_many_ids"
    assert _err(c.get("/v1/tracks", params={"ids": ""}), 400) == "missing_ids"
    _err(c.get(f"/v1/albums/{album['id']}/tracks", params={"limit": 51}), 400)
    _err(c.get(f"/v1/albums/{album['id']}/tracks", params={"offset": -1}), 400)
    _err(c.get(f"/v1/albums/{album['id']}/tracks", params={"limit": "x"}), 400)


def test_artists(c: httpx.Client) -> None:
    summer = _album_named(c, "Summer Mix 2020", "Various Artists")
    assert summer["album_type"] == "compilation"
    tracks = c.get(f"/v1/albums/{summer['id']}/tracks").json()["items"]
    marina = next(a for t in tracks for a in t["artists"] if a["name"] == "Marina Bay")
    r = c.get(f"/v1/artists/{marina['id']}")
    artist = r.json()
    assert artist["name"] == "Marina Bay" and artist["type"] == "artist" and artist["genres"] == ["Dance"]
    assert "followers" in artist and "popularity" in artist
    both = c.get("/v1/artists", params={"ids": f"spotify:artist:{marina['id']},nobody"}).json()["artists"]
    assert both[0]["id"] == marina["id"] and both[1] is None

    albums = c.get(f"/v1/artists/{marina['id']}/albums").json()
    assert [(a["name"], a["album_group"]) for a in albums["items"]] == [("Summer Mix 2020", "appears_on")]
    own = c.get(f"/v1/artists/{marina['id']}/albums", params={"include_groups": "album,single"}).json()
    assert own["items"] == [] and own["total"] == 0
    only = c.get(f"/v1/artists/{marina['id']}/albums", params={"include_groups": "appears_on"}).json()
    assert [a["name"] for a in only["items"]] == ["Summer Mix 2020"]
    _err(c.get(f"/v1/artists/{marina['id']}/albums", params={"include_groups": "bogus"}), 400)

    roy = _album_named(c, "Melody A.M.", "Röyksopp")["artists"][0]
    own = c.get(f"/v1/artists/{roy['id']}/albums").json()["items"]
    assert [(a["name"], a["album_group"]) for a in own] == [("Melody A.M.", "album")]
    top = c.get(f"/v1/artists/{roy['id']}/top-tracks", params={"country": "US"}).json()["tracks"]
    assert top and all(roy["id"] in {a["id"] for a in t["artists"]} for t in top)
    related = c.get(f"/v1/artists/{roy['id']}/related-artists").json()["artists"]
    assert "Kari Nordmann" in [a["name"] for a in related]
    assert _err(c.get("/v1/artists/nope/top-tracks"), 404) == "artist_not_found"


def test_browse(c: httpx.Client, live_server: LiveServer) -> None:
    releases = c.get("/v1/browse/new-releases", params={"limit": 2, "offset": 1}).json()["albums"]
    assert len(releases["items"]) == 2 and releases["offset"] == 1 and releases["next"] and releases["previous"]
    cats = c.get("/v1/browse/categories", params={"limit": 50}).json()["categories"]
    by_name = {x["name"]: x for x in cats["items"]}
    rock = by_name["Rock"]
    assert rock["id"] == "rock" and rock["icons"][0]["url"].startswith(f"{live_server.base}/v1/images/")
    assert by_name["J-Pop"]["id"] == "j-pop"
    assert c.get("/v1/browse/categories/rock").json()["name"] == "Rock"
    assert _err(c.get("/v1/browse/categories/nope"), 404) == "category_not_found"
    pls = c.get("/v1/browse/categories/rock/playlists").json()["playlists"]
    mix = pls["items"][0]
    assert mix["id"] == mix_id("genre", "rock") and mix["type"] == "playlist" and mix["tracks"]["total"] >= 2
    assert mix["owner"]["id"] == "musicd" and mix["snapshot_id"]
    featured = c.get("/v1/browse/featured-playlists").json()
    ids = [p["id"] for p in featured["playlists"]["items"]]
    assert mix_id("new", "all") in ids and sum(1 for i in ids if is_mix_id(i)) == len(ids)
    assert c.get("/v1/playlists/mix-new-all").json()["id"] == mix_id("new", "all")  # the older id form still works


def test_saved_tracks_albums_and_library(c: httpx.Client, live_server: LiveServer) -> None:
    album = _all_albums(c)[0]
    tracks = [t["id"] for t in c.get(f"/v1/albums/{album['id']}/tracks").json()["items"]]
    assert c.put("/v1/me/tracks", params={"ids": ",".join(tracks)}).status_code == 200
    assert c.get("/v1/me/tracks/contains", params={"ids": f"{tracks[0]},missing"}).json() == [True, False]
    saved = c.get("/v1/me/tracks", params={"limit": 1}).json()
    assert saved["total"] == len(tracks) and saved["items"][0]["added_at"] and saved["items"][0]["track"]["id"]
    r = c.request("DELETE", "/v1/me/tracks", json={"ids": [f"spotify:track:{tracks[0]}"]})
    assert r.status_code == 200, r.text
    assert c.get("/v1/me/tracks/contains", params={"ids": tracks[0]}).json() == [False]
    assert _err(c.put("/v1/me/tracks", params={"ids": "missing"}), 404) == "track_not_found"
    assert _err(c.put("/v1/me/tracks"), 400) == "missing_ids"
    _err(c.put("/v1/me/tracks", content=b"{not json"), 400)

    assert c.put("/v1/me/albums", json={"ids": [album["id"]]}).status_code == 200
    got = c.get("/v1/me/albums").json()
    assert got["items"][0]["album"]["id"] == album["id"] and got["items"][0]["album"]["tracks"]["total"] > 0
    assert c.get("/v1/me/albums/contains", params={"ids": album["id"]}).json() == [True]

    # Spotify's generic library endpoint, by URI.
    artist = album["artists"][0]["id"]
    uris = f"spotify:album:{album['id']},musicd:artist:{artist},spotify:track:{tracks[0]}"
    assert c.request("DELETE", "/v1/me/library", params={"uris": uris}).status_code == 200
    assert c.get("/v1/me/library/contains", params={"uris": uris}).json() == [False, False, False]
    assert c.put("/v1/me/library", params={"uris": uris}).status_code == 200
    assert c.get("/v1/me/library/contains", params={"uris": uris}).json() == [True, True, True]
    assert _err(c.put("/v1/me/library", params={"uris": "spotify:episode:x"}), 400) == "bad_uri"
    assert c.get("/v1/me/following/contains", params={"type": "artist", "ids": artist}).json() == [True]

    with _new_user(live_server, role="guest") as guest:
        assert _err(guest.put("/v1/me/tracks", params={"ids": tracks[0]}), 403) == "guest_read_only"
        assert guest.get("/v1/me/tracks").json()["total"] == 0
    with live_server.client(None) as anon:
        _err(anon.get("/v1/me/tracks"), 401)
        _err(anon.get(f"/v1/tracks/{tracks[0]}"), 401)


def test_follows(c: httpx.Client, live_server: LiveServer) -> None:
    artists = []
    for a in _all_albums(c):
        if a["artists"][0]["id"] not in artists:
            artists.append(a["artists"][0]["id"])
    r = c.put("/v1/me/following", params={"type": "artist", "ids": ",".join(artists[:5])})
    assert r.status_code == 204, r.text
    first = c.get("/v1/me/following", params={"type": "artist", "limit": 3}).json()["artists"]
    assert first["total"] == 5 and len(first["items"]) == 3 and first["cursors"]["after"] == first["items"][-1]["id"]
    rest = httpx.get(first["next"], headers=c.headers, timeout=10).json()["artists"]
    assert len(rest["items"]) == 2 and rest["next"] is None
    assert {a["id"] for a in first["items"] + rest["items"]} == set(artists[:5])
    c.request("DELETE", "/v1/me/following", params={"type": "artist"}, json={"ids": artists[:1]})
    assert c.get("/v1/me/following/contains", params={"type": "artist", "ids": artists[0]}).json() == [False]

    bob = live_server.user_id("bob")
    assert c.put("/v1/me/following", params={"type": "user", "ids": bob}).status_code == 204
    assert c.get("/v1/me/following/contains", params={"type": "user", "ids": bob}).json() == [True]
    assert _err(c.put("/v1/me/following", params={"type": "user", "ids": "nobody"}), 404) == "user_not_found"
    _err(c.put("/v1/me/following", params={"type": "band", "ids": bob}), 400)
    _err(c.get("/v1/me/following", params={"type": "user"}), 400)


def test_recently_played_and_top(c: httpx.Client, live_server: LiveServer) -> None:
    me = c.get("/v1/me").json()["id"]
    album = next(a for a in _all_albums(c) if a["total_tracks"] >= 2)
    t1, t2 = [t["id"] for t in c.get(f"/v1/albums/{album['id']}/tracks").json()["items"][:2]]
    now = datetime.now(UTC)

    def at(days: float) -> str:
        return (now - timedelta(days=days)).isoformat(timespec="milliseconds").replace("+00:00", "Z")

    # The play-event writer is another part of the server; write its table as it would.
    with sqlite3.connect(live_server.data_dir / "musicd.db", timeout=10) as db:
        db.executemany(
            "INSERT INTO listening_history (user_id, track_id, played_at, ms_played, context_uri)"
            " VALUES (?, ?, ?, 30000, ?)",
            [(me, t1, at(300), None), (me, t1, at(299), None), (me, t1, at(298), None),
             (me, t2, at(2), f"musicd:album:{album['id']}"), (me, t2, at(1), None), (me, t1, at(0.5), None)],
        )
    recent = c.get("/v1/me/player/recently-played", params={"limit": 2}).json()
    assert [i["track"]["id"] for i in recent["items"]] == [t1, t2]
    assert recent["items"][0]["played_at"] == at(0.5) and recent["next"]
    older = httpx.get(recent["next"], headers=c.headers, timeout=10).json()
    assert [i["track"]["id"] for i in older["items"]] == [t2, t1]
    assert older["items"][0]["context"]["uri"] == f"musicd:album:{album['id']}"
    after = c.get("/v1/me/player/recently-played", params={"after": older["cursors"]["after"]}).json()
    assert [i["track"]["id"] for i in after["items"]] == [t1, t2]
    _err(c.get("/v1/me/player/recently-played", params={"after": 1, "before": 2}), 400)

    short = c.get("/v1/me/top/tracks", params={"time_range": "short_term"}).json()
    assert [t["id"] for t in short["items"]] == [t2, t1] and short["total"] == 2
    long = c.get("/v1/me/top/tracks", params={"time_range": "long_term", "limit": 1}).json()
    assert [t["id"] for t in long["items"]] == [t1] and long["next"]
    artists = c.get("/v1/me/top/artists", params={"time_range": "long_term"}).json()
    assert artists["items"][0]["type"] == "artist"
    _err(c.get("/v1/me/top/tracks", params={"time_range": "forever"}), 400)
    _err(c.get("/v1/me/top/songs"), 404)


def test_library_follows_playlists(c: httpx.Client, live_server: LiveServer) -> None:
    with live_server.client("bob") as bob:
        r = bob.post("/v1/me/playlists", json={"name": f"bob's mix {next(_n)}", "public": True})
        assert r.status_code == 201, r.text
        pid = r.json()["id"]
    uri = f"spotify:playlist:{pid}"
    assert c.get("/v1/me/library/contains", params={"uris": uri}).json() == [False]
    assert c.put("/v1/me/library", params={"uris": uri}).status_code == 200
    assert c.get("/v1/me/library/contains", params={"uris": uri}).json() == [True]
    assert c.request("DELETE", "/v1/me/library", params={"uris": uri}).status_code == 200
    assert c.get("/v1/me/library/contains", params={"uris": uri}).json() == [False]
    _err(c.put("/v1/me/library", params={"uris": "spotify:playlist:nope"}), 404)
