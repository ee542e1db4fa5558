"""The Subsonic API over real HTTP: every endpoint group, in JSON and in XML validated against the XSD."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from musicd.devtools.library_builder import BuiltLibrary
from musicd.domain.catalog import fold_name
from tests.integration.subsonic_support import Sub
from tests.live import USERS, LiveServer


@pytest.fixture(scope="module")
def admin(live_server: LiveServer) -> Sub:
    return Sub(live_server.base, "admin", USERS["admin"][0])


@pytest.fixture
def fresh(live_server: LiveServer, admin: Sub) -> Iterator[Sub]:
    """A user of its own for a test that changes state (stars, queues, playlists, shares)."""
    name = f"sub-{secrets.token_hex(4)}"
    admin.call("createUser", {"username": name, "password": "fresh-password", "email": f"{name}@example.test"})
    yield Sub(live_server.base, name, "fresh-password")
    admin.call("deleteUser", {"username": name})


def both(sub: Sub, method: str, params: dict[str, Any] | list[tuple[str, Any]] | None = None) -> dict[str, Any]:
    """Call in XML (validated against the schema) and in JSON; return the JSON body."""
    sub.xml(method, params)
    return sub.call(method, params)


def _songs(sub: Sub) -> list[dict[str, Any]]:
    albums = sub.call("getAlbumList2", {"type": "alphabeticalByName", "size": 500})["albumList2"]["album"]
    out = []
    for a in albums:
        out += sub.call("getAlbum", {"id": a["id"]})["album"]["song"]
    return out


@pytest.fixture(scope="module")
def songs(admin: Sub) -> list[dict[str, Any]]:
    return _songs(admin)


def _song(songs: list[dict[str, Any]], title: str) -> dict[str, Any]:
    return next(s for s in songs if s["title"] == title)


def test_call_forms_get_post_view_and_formats(admin: Sub) -> None:
    """GET and POST (formPost), with and without .view, in XML, JSON and JSONP."""
    for http in ("GET", "POST"):
        for view in (False, True):
            r = admin.raw("ping", fmt="json", http=http, view=view)
            assert r.status_code == 200
            body = r.json()["subsonic-response"]
            assert body["status"] == "ok"
            assert body["version"] == "1.16.1"
            assert body["openSubsonic"] is True and body["type"] == "musicd" and body["serverVersion"]
    # parameters in the form body only
    album = admin.call("getAlbumList2", {"type": "newest", "size": 1})["albumList2"]["album"][0]
    got = admin.call("getAlbum", {"id": album["id"]}, http="POST")["album"]
    assert got["id"] == album["id"]
    admin.xml("ping", view=True)
    r = admin.raw("ping", {"callback": "cb_1"}, fmt="jsonp")
    assert r.headers["content-type"].startswith("application/javascript")
    assert r.text.startswith("cb_1({") and r.text.endswith("});")
    # a callback that is not an identifier is never echoed into the script
    assert admin.raw("ping", {"callback": "alert(1)//"}, fmt="jsonp").text.startswith("callback(")
    assert admin.raw("ping", http="HEAD").status_code == 200


def test_system_endpoints(live_server: LiveServer, admin: Sub) -> None:
    assert both(admin, "getLicense")["license"]["valid"] is True
    # getOpenSubsonicExtensions answers without credentials
    r = httpx.get(f"{live_server.base}/rest/getOpenSubsonicExtensions", params={"f": "json"}, timeout=10)
    ext = {e["name"]: e["versions"] for e in r.json()["subsonic-response"]["openSubsonicExtensions"]}
    for name in ("formPost", "transcodeOffset", "songLyrics", "apiKeyAuthentication", "indexBasedQueue",
                 "playbackReport", "topSongsByArtistId"):
        assert name in ext
    assert ext["songLyrics"] == [1, 2]
    admin.xml("getOpenSubsonicExtensions")
    assert both(admin, "tokenInfo")["tokenInfo"]["username"] == "admin"


def test_browsing(admin: Sub, built_library: BuiltLibrary) -> None:
    folders = both(admin, "getMusicFolders")["musicFolders"]["musicFolder"]
    assert len(folders) == 1 and folders[0]["id"] == 1
    indexes = both(admin, "getIndexes")["indexes"]
    names = [a["name"] for i in indexes["index"] for a in i["artist"]]
    assert "Röyksopp" in names and "Various Artists" in names
    assert indexes["ignoredArticles"].startswith("The")
    artists = both(admin, "getArtists")["artists"]
    assert all(len(i["name"]) == 1 for i in artists["index"])
    by_name = {a["name"]: a for i in artists["index"] for a in i["artist"]}
    # "R.E.M." and "The ..." artists sort by their sort key; the articles are skipped
    roy = by_name["Röyksopp"]
    assert roy["albumCount"] == 1
    artist = both(admin, "getArtist", {"id": roy["id"]})["artist"]
    assert [a["name"] for a in artist["album"]] == ["Melody A.M."]
    album = both(admin, "getAlbum", {"id": artist["album"][0]["id"]})["album"]
    assert album["songCount"] == len(album["song"]) == 4
    assert [s["title"] for s in album["song"]] == ["Northern Lights", "Fjord Song", "Midnight Sun", "Polar Drift"]
    assert album["year"] == 2001 and album["artist"] == "Röyksopp" and album["isCompilation"] is False
    assert {g["name"] for g in album["genres"]} == {"Electronic", "Downtempo"}
    assert album["musicBrainzId"]
    midnight = album["song"][2]
    assert midnight["artist"] == "Röyksopp feat. Kari Nordmann"
    assert [a["name"] for a in midnight["artists"]] == ["Röyksopp", "Kari Nordmann"]
    assert midnight["displayArtist"] == "Röyksopp feat. Kari Nordmann"
    assert midnight["albumArtists"] == [{"id": roy["id"], "name": "Röyksopp"}]
    assert midnight["suffix"] == "flac" and midnight["contentType"] == "audio/flac"
    assert midnight["path"].endswith("03 Midnight Sun.flac")
    want = built_library.track(midnight["path"])
    assert midnight["replayGain"]["trackGain"] == pytest.approx(want.replaygain_track_gain)
    assert midnight["replayGain"]["albumGain"] == pytest.approx(want.replaygain_album_gain)
    assert midnight["mediaType"] == "song" and midnight["isDir"] is False and midnight["type"] == "music"
    song = both(admin, "getSong", {"id": midnight["id"]})["song"]
    assert song["title"] == "Midnight Sun" and song["albumId"] == album["id"]
    genres = {g["value"]: g for g in both(admin, "getGenres")["genres"]["genre"]}
    assert genres["Electronic"]["albumCount"] == 2 and genres["Electronic"]["songCount"] == 8
    # folder-style browsing: folder -> artists -> albums -> songs
    top = both(admin, "getMusicDirectory", {"id": "1"})["directory"]
    assert any(c["title"] == "Röyksopp" and c["isDir"] for c in top["child"])
    d = both(admin, "getMusicDirectory", {"id": roy["id"]})["directory"]
    assert d["name"] == "Röyksopp" and d["child"][0]["title"] == "Melody A.M." and d["child"][0]["isDir"]
    d = both(admin, "getMusicDirectory", {"id": album["id"]})["directory"]
    assert [c["title"] for c in d["child"]] == [s["title"] for s in album["song"]]
    assert admin.error("getMusicDirectory", {"id": midnight["id"]}) == 70
    assert admin.error("getAlbum", {"id": "nope"}) == 70
    assert admin.error("getAlbum") == 10
    compilation = next(a for a in admin.call("getAlbumList2", {"type": "alphabeticalByName", "size": 100})
                       ["albumList2"]["album"] if a["name"] == "Summer Mix 2020")
    assert compilation["artist"] == "Various Artists" and compilation["isCompilation"] is True


def test_album_and_song_lists(admin: Sub) -> None:
    for kind in ("random", "newest", "highest", "frequent", "recent", "alphabeticalByName", "alphabeticalByArtist",
                 "starred"):
        both(admin, "getAlbumList2", {"type": kind, "size": 5})
        both(admin, "getAlbumList", {"type": kind, "size": 5})
    names = [a["name"] for a in admin.call("getAlbumList2", {"type": "alphabeticalByName", "size": 100})
             ["albumList2"]["album"]]
    assert names == sorted(names, key=lambda n: (fold_name(n), n))  # accents and case folded
    page = admin.call("getAlbumList2", {"type": "alphabeticalByName", "size": 2, "offset": 2})["albumList2"]["album"]
    assert [a["name"] for a in page] == names[2:4]
    years = both(admin, "getAlbumList2", {"type": "byYear", "fromYear": 2000, "toYear": 2010})["albumList2"]["album"]
    assert years and all(2000 <= a["year"] <= 2010 for a in years)
    rock = both(admin, "getAlbumList2", {"type": "byGenre", "genre": "Rock"})["albumList2"]["album"]
    assert {a["name"] for a in rock} >= {"Greatest Hits", "Звёздная ночь"}
    assert all(a["genre"] == "Rock" for a in rock)
    assert admin.error("getAlbumList2", {"type": "byYear"}) == 10
    assert admin.error("getAlbumList2", {"type": "nonsense"}) == 0
    assert admin.error("getAlbumList2", {"type": "newest", "size": "many"}) == 0
    rnd = both(admin, "getRandomSongs", {"size": 5})["randomSongs"]["song"]
    assert len(rnd) == 5 and len({s["id"] for s in rnd}) == 5
    chanson = both(admin, "getSongsByGenre", {"genre": "Chanson", "count": 10})["songsByGenre"]["song"]
    assert len(chanson) == 3


def test_search(admin: Sub, built_library: BuiltLibrary) -> None:
    r = both(admin, "search3", {"query": "Midnight Sun"})["searchResult3"]
    assert r["song"][0]["title"] == "Midnight Sun"
    r = both(admin, "search3", {"query": "royksopp", "songCount": 0, "albumCount": 5})["searchResult3"]
    assert [a["name"] for a in r["artist"]][:1] == ["Röyksopp"] and "song" not in r
    assert r["album"][0]["name"] == "Melody A.M."
    r2 = both(admin, "search2", {"query": "Fjord"})["searchResult2"]
    assert r2["song"][0]["title"] == "Fjord Song"
    # an empty query lists everything, page by page (clients sync the whole library this way)
    seen: list[str] = []
    for offset in range(0, 100, 7):
        page = admin.call("search3", {"query": '""', "songCount": 7, "songOffset": offset, "artistCount": 0,
                                      "albumCount": 0})["searchResult3"].get("song", [])
        seen += [s["id"] for s in page]
    assert len(seen) == len(set(seen)) == len(built_library.tracks)
    everything = admin.call("search3", {"query": "", "songCount": 500, "albumCount": 500, "artistCount": 500})
    res = everything["searchResult3"]
    assert len(res["song"]) == len(built_library.tracks)
    assert len(res["album"]) == len(built_library.albums())
    assert both(admin, "search", {"title": "Polar"})["searchResult"]["match"][0]["title"] == "Polar Drift"


def test_info_similar_and_top_songs(admin: Sub, songs: list[dict[str, Any]]) -> None:
    midnight = _song(songs, "Midnight Sun")
    info = both(admin, "getArtistInfo2", {"id": midnight["artistId"]})["artistInfo2"]
    assert isinstance(info.get("similarArtist", []), list)
    assert both(admin, "getArtistInfo", {"id": midnight["albumId"]})["artistInfo"] is not None
    assert both(admin, "getAlbumInfo2", {"id": midnight["albumId"]})["albumInfo"]["musicBrainzId"]
    assert "albumInfo" in both(admin, "getAlbumInfo", {"id": midnight["id"]})
    similar = both(admin, "getSimilarSongs2", {"id": midnight["artistId"], "count": 5})["similarSongs2"]
    assert all(s["albumId"] != midnight["albumId"] for s in similar.get("song", []))
    both(admin, "getSimilarSongs", {"id": midnight["id"], "count": 5})
    top = both(admin, "getTopSongs", {"artist": "Röyksopp", "count": 3})["topSongs"]["song"]
    assert len(top) == 3 and all(s["albumId"] == midnight["albumId"] for s in top)
    by_id = admin.call("getTopSongs", {"id": midnight["artistId"], "artist": "nobody", "count": 3})["topSongs"]
    assert [s["id"] for s in by_id["song"]] == [s["id"] for s in top]
    assert admin.call("getTopSongs", {"artist": "No Such Artist"})["topSongs"]["song"] == []


@pytest.mark.slow
def test_star_rate_scrobble_now_playing(fresh: Sub, songs: list[dict[str, Any]]) -> None:
    song = _song(songs, "Northern Lights")
    both(fresh, "star", [("id", song["id"]), ("albumId", song["albumId"]), ("artistId", song["artistId"])])
    # folder-style ids: an album passed as `id`
    other = _song(songs, "Sunshine")
    fresh.call("star", {"id": other["albumId"]})
    starred = both(fresh, "getStarred2")["starred2"]
    assert [s["id"] for s in starred["song"]] == [song["id"]]
    assert {a["id"] for a in starred["album"]} == {song["albumId"], other["albumId"]}
    assert [a["id"] for a in starred["artist"]] == [song["artistId"]]
    assert both(fresh, "getStarred")["starred"]["song"][0]["starred"]
    assert fresh.call("getSong", {"id": song["id"]})["song"]["starred"]
    assert fresh.error("star", {"id": "nope"}) == 70
    both(fresh, "unstar", [("id", song["id"]), ("id", other["albumId"]), ("albumId", song["albumId"]),
                           ("artistId", song["artistId"])])
    assert fresh.call("getStarred2")["starred2"] == {"artist": [], "album": [], "song": []}
    both(fresh, "setRating", {"id": song["id"], "rating": 4})
    fresh.call("setRating", {"id": song["albumId"], "rating": 5})
    assert fresh.call("getSong", {"id": song["id"]})["song"]["userRating"] == 4
    assert fresh.call("getAlbumList2", {"type": "highest", "size": 1})["albumList2"]["album"][0]["id"] == \
        song["albumId"]
    fresh.call("setRating", {"id": song["id"], "rating": 0})
    assert "userRating" not in fresh.call("getSong", {"id": song["id"]})["song"]
    assert fresh.error("setRating", {"id": song["id"], "rating": 9}) == 0
    # now playing, then a submission
    both(fresh, "scrobble", {"id": song["id"], "submission": "false"})
    entries = both(fresh, "getNowPlaying")["nowPlaying"]["entry"]
    mine = [e for e in entries if e["username"] == fresh.user]
    assert mine and mine[0]["id"] == song["id"] and mine[0]["playerName"] == "musicd-tests"
    fresh.call("scrobble", {"id": song["id"], "time": int(time.time() * 1000)})
    assert fresh.error("scrobble", {"id": "nope"}) == 70
    both(fresh, "reportPlayback", {"mediaId": song["id"], "mediaType": "song", "positionMs": 1000,
                                   "state": "playing"})
    assert fresh.error("reportPlayback", {"mediaId": song["id"], "mediaType": "song", "positionMs": 0,
                                          "state": "dancing"}) == 0
    # the submission is written by the batch writer within seconds
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if fresh.call("getSong", {"id": song["id"]})["song"].get("playCount"):
            break
        time.sleep(0.5)
    got = fresh.call("getSong", {"id": song["id"]})["song"]
    assert got["playCount"] >= 1 and got["played"]


def test_bookmarks_and_play_queue(fresh: Sub, songs: list[dict[str, Any]]) -> None:
    a, b, c = (_song(songs, t) for t in ("Spring", "Summer", "Autumn"))
    both(fresh, "createBookmark", {"id": a["id"], "position": 12345, "comment": "half way"})
    fresh.call("createBookmark", {"id": a["id"], "position": 23456})
    marks = both(fresh, "getBookmarks")["bookmarks"]["bookmark"]
    assert len(marks) == 1 and marks[0]["position"] == 23456 and marks[0]["entry"]["id"] == a["id"]
    assert marks[0]["username"] == fresh.user
    assert fresh.error("createBookmark", {"id": "nope", "position": 1}) == 70
    assert fresh.error("createBookmark", {"id": a["id"]}) == 10
    fresh.xml("deleteBookmark", {"id": a["id"]})
    assert fresh.call("getBookmarks")["bookmarks"]["bookmark"] == []

    empty = both(fresh, "getPlayQueue")["playQueue"]
    assert empty["username"] == fresh.user and empty.get("entry", []) == []
    both(fresh, "savePlayQueue", [("id", a["id"]), ("id", b["id"]), ("id", c["id"]), ("current", b["id"]),
                                  ("position", 5000)])
    q = both(fresh, "getPlayQueue")["playQueue"]
    assert [e["id"] for e in q["entry"]] == [a["id"], b["id"], c["id"]]
    assert q["current"] == b["id"] and q["position"] == 5000 and q["changedBy"] == "musicd-tests"
    # by index: the same track twice, the second one current
    both(fresh, "savePlayQueueByIndex", [("id", a["id"]), ("id", b["id"]), ("id", a["id"]), ("currentIndex", 2)])
    qi = both(fresh, "getPlayQueueByIndex")["playQueueByIndex"]
    assert [e["id"] for e in qi["entry"]] == [a["id"], b["id"], a["id"]] and qi["currentIndex"] == 2
    assert "position" in qi and qi["position"] == 0
    assert fresh.error("savePlayQueueByIndex", [("id", a["id"]), ("currentIndex", 3)]) == 10
    assert fresh.error("savePlayQueueByIndex", [("id", a["id"])]) == 10
    assert fresh.error("savePlayQueue", [("id", "nope")]) == 70
    fresh.call("savePlayQueueByIndex")
    assert fresh.call("getPlayQueueByIndex")["playQueueByIndex"].get("entry", []) == []


def test_playlists(fresh: Sub, admin: Sub, songs: list[dict[str, Any]]) -> None:
    ids = [s["id"] for s in songs[:4]]
    xml = fresh.xml("createPlaylist", [("name", "Scratch"), ("songId", ids[0])])
    fresh.call("deletePlaylist", {"id": xml[0].get("id")})
    created = fresh.call("createPlaylist", [("name", "Road trip"), ("songId", ids[0]), ("songId", ids[1])])
    pl = created["playlist"]
    assert pl["name"] == "Road trip" and pl["songCount"] == 2 and pl["owner"] == fresh.user
    assert [e["id"] for e in pl["entry"]] == ids[:2] and pl["changed"] and pl["duration"] > 0
    listed = both(fresh, "getPlaylists")["playlists"]["playlist"]
    assert pl["id"] in [p["id"] for p in listed]
    assert next(p for p in listed if p["id"] == pl["id"])["duration"] == pl["duration"]
    fresh.xml("updatePlaylist", [("playlistId", pl["id"]), ("name", "Road trip 2"), ("comment", "long"),
                                  ("songIdToAdd", ids[2]), ("songIdToAdd", ids[3]), ("songIndexToRemove", 0)])
    got = both(fresh, "getPlaylist", {"id": pl["id"]})["playlist"]
    assert got["name"] == "Road trip 2" and got["comment"] == "long"
    assert [e["id"] for e in got["entry"]] == ids[1:4]
    # createPlaylist with playlistId replaces the songs
    fresh.call("createPlaylist", [("playlistId", pl["id"]), ("songId", ids[0])])
    assert [e["id"] for e in fresh.call("getPlaylist", {"id": pl["id"]})["playlist"]["entry"]] == ids[:1]
    # another user cannot change it (a private playlist is not found for them)
    assert admin.error("deletePlaylist", {"id": pl["id"]}) in (50, 70)
    fresh.call("deletePlaylist", {"id": pl["id"]})
    assert fresh.error("getPlaylist", {"id": pl["id"]}) == 70


def test_shares_and_their_public_pages(live_server: LiveServer, fresh: Sub, songs: list[dict[str, Any]],
                                       built_library: BuiltLibrary) -> None:
    song = _song(songs, "Northern Lights")
    xml = fresh.xml("createShare", {"id": song["id"]})
    fresh.call("deleteShare", {"id": xml[0][0].get("id")})
    made = fresh.call("createShare", [("id", song["albumId"]), ("description", "for you")])["shares"]["share"][0]
    assert made["username"] == fresh.user and made["description"] == "for you" and made["visitCount"] == 0
    assert len(made["entry"]) == 4 and made["url"].endswith(f"/s/{made['id']}")
    shares = both(fresh, "getShares")["shares"]["share"]
    assert [s["id"] for s in shares] == [made["id"]]
    page = httpx.get(made["url"], timeout=10)
    assert page.status_code == 200 and "Northern Lights" in page.text and "text/html" in page.headers["content-type"]
    audio = httpx.get(f"{live_server.base}/s/{made['id']}/{song['id']}", timeout=10)
    path = built_library.root / song["path"]
    assert audio.status_code == 200 and audio.content == path.read_bytes()
    part = httpx.get(f"{live_server.base}/s/{made['id']}/{song['id']}", headers={"Range": "bytes=10-19"}, timeout=10)
    assert part.status_code == 206 and part.content == path.read_bytes()[10:20]
    outsider = _song(songs, "Sunshine")
    assert httpx.get(f"{live_server.base}/s/{made['id']}/{outsider['id']}", timeout=10).status_code == 404
    assert fresh.call("getShares")["shares"]["share"][0]["visitCount"] == 1
    soon = int((time.time() + 3600) * 1000)
    both(fresh, "updateShare", {"id": made["id"], "description": "changed", "expires": soon})
    s = fresh.call("getShares")["shares"]["share"][0]
    assert s["description"] == "changed" and s["expires"]
    assert fresh.error("updateShare", {"id": made["id"], "expires": 1000}) == 0
    assert fresh.error("createShare", {"id": "nope"}) == 70
    fresh.call("deleteShare", {"id": made["id"]})
    assert httpx.get(made["url"], timeout=10).status_code == 404
    assert fresh.error("deleteShare", {"id": made["id"]}) == 70


def test_users(live_server: LiveServer, admin: Sub) -> None:
    me = both(admin, "getUser", {"username": "admin"})["user"]
    assert me["adminRole"] is True and me["streamRole"] is True and me["folder"] == [1]
    users = {u["username"]: u for u in both(admin, "getUsers")["users"]["user"]}
    assert users["guest"]["playlistRole"] is False and users["alice"]["adminRole"] is False
    alice = Sub(live_server.base, "alice", USERS["alice"][0])
    assert alice.call("getUser", {"username": "alice"})["user"]["username"] == "alice"
    assert alice.error("getUser", {"username": "bob"}) == 50
    assert alice.error("getUsers") == 50
    assert alice.error("createUser", {"username": "x", "password": "long-enough"}) == 50
    name = f"made-{secrets.token_hex(3)}"
    admin.xml("createUser", {"username": name + "x", "password": "xml-password"})
    admin.xml("deleteUser", {"username": name + "x"})
    admin.call("createUser", {"username": name, "password": "enc:" + b"secret-pass".hex(), "email": "m@x.test",
                              "adminRole": "false", "downloadRole": "false"})
    u = admin.call("getUser", {"username": name})["user"]
    assert u["downloadRole"] is False and u["adminRole"] is False and u["email"] == "m@x.test"
    made = Sub(live_server.base, name, "secret-pass")
    assert made.error("download", {"id": "x"}) in (50, 70)
    both(admin, "updateUser", {"username": name, "adminRole": "true", "downloadRole": "true"})
    assert admin.call("getUser", {"username": name})["user"]["adminRole"] is True
    made.xml("changePassword", {"username": name, "password": "another-pass"})
    assert made.error("ping") == 40
    made.password = "another-pass"
    made.call("ping")
    assert admin.error("createUser", {"username": name, "password": "long-enough"}) == 0
    assert admin.error("deleteUser", {"username": "admin"}) == 50
    admin.call("deleteUser", {"username": name})
    assert made.error("ping") == 40
    assert admin.error("getUser", {"username": name}) == 70


def test_scan_status(admin: Sub, live_server: LiveServer) -> None:
    st = both(admin, "getScanStatus")["scanStatus"]
    assert st["scanning"] is False and st["count"] >= 30
    guest = Sub(live_server.base, "guest", USERS["guest"][0])
    assert guest.error("startScan") == 50
    assert both(admin, "startScan")["scanStatus"]["scanning"] in (True, False)
    deadline = time.monotonic() + 30
    while admin.call("getScanStatus")["scanStatus"]["scanning"] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert admin.call("getScanStatus")["scanStatus"]["scanning"] is False


def test_unimplemented_features_answer_error_0(admin: Sub) -> None:
    for method in ("getInternetRadioStations", "createInternetRadioStation",
                   "getChatMessages", "getVideos"):
        assert admin.error(method) == 0
        r = admin.raw(method, fmt="xml")
        assert r.status_code == 200 and 'code="0"' in r.text
    assert admin.error("noSuchMethod") == 70
    assert admin.raw("noSuchMethod").status_code == 200
