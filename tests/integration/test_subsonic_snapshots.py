"""Snapshots of the JSON each Subsonic endpoint answers on the test library, with ids, hashes and times
normalised (see subsonic_support.normalise). A change to a shape shows up as a reviewed diff of
tests/integration/snapshots/subsonic/*.json (regenerate with UPDATE_SNAPSHOTS=1)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.subsonic_support import Sub, check_snapshot
from tests.live import USERS, LiveServer

_USER = "snapshot-user"


@pytest.fixture(scope="module")
def sub(live_server: LiveServer) -> Sub:
    admin = Sub(live_server.base, "admin", USERS["admin"][0])
    if admin.json("getUser", {"username": _USER})["status"] != "ok":
        admin.call("createUser", {"username": _USER, "password": "snapshot-password", "email": "s@example.test"})
    return Sub(live_server.base, _USER, "snapshot-password")


def _ids(sub: Sub) -> dict[str, Any]:
    artists = {a["name"]: a for i in sub.call("getArtists")["artists"]["index"] for a in i["artist"]}
    roy = artists["Röyksopp"]["id"]
    album = sub.call("getArtist", {"id": roy})["artist"]["album"][0]["id"]
    songs = {s["title"]: s["id"] for s in sub.call("getAlbum", {"id": album})["album"]["song"]}
    chanson = sub.call("search3", {"query": "Crème brûlée", "artistCount": 0, "albumCount": 0})
    return {"artist": roy, "album": album, "song": songs["Midnight Sun"],
            "lrc": chanson["searchResult3"]["song"][0]["id"]}


CALLS: list[tuple[str, str, Any]] = [
    ("ping", "ping", {}),
    ("getLicense", "getLicense", {}),
    ("getOpenSubsonicExtensions", "getOpenSubsonicExtensions", {}),
    ("getMusicFolders", "getMusicFolders", {}),
    ("getIndexes", "getIndexes", {}),
    ("getArtists", "getArtists", {}),
    ("getGenres", "getGenres", {}),
    ("getArtist", "getArtist", {"id": "artist"}),
    ("getAlbum", "getAlbum", {"id": "album"}),
    ("getSong", "getSong", {"id": "song"}),
    ("getMusicDirectory-album", "getMusicDirectory", {"id": "album"}),
    ("getAlbumList2-alphabeticalByName", "getAlbumList2", {"type": "alphabeticalByName", "size": 4}),
    ("getAlbumList-alphabeticalByArtist", "getAlbumList", {"type": "alphabeticalByArtist", "size": 4}),
    ("getSongsByGenre", "getSongsByGenre", {"genre": "Chanson"}),
    ("search3", "search3", {"query": "Röyksopp", "songCount": 10}),
    ("search2", "search2", {"query": "Melody", "songCount": 10}),
    ("getLyrics", "getLyrics", {"artist": "Röyksopp", "title": "Fjord Song"}),
    ("getLyricsBySongId", "getLyricsBySongId", {"id": "lrc"}),
    ("getAlbumInfo2", "getAlbumInfo2", {"id": "album"}),
    ("getTopSongs", "getTopSongs", {"artist": "Röyksopp", "count": 2}),
    ("getStarred2", "getStarred2", {}),
    ("getBookmarks", "getBookmarks", {}),
    ("getPlayQueue", "getPlayQueue", {}),
    ("getPlaylists", "getPlaylists", {"username": _USER}),
    ("getShares", "getShares", {}),
    ("getUser", "getUser", {}),
    ("error-not-found", "getAlbum", {"id": "no-such-album"}),
    ("error-missing", "getSong", {}),
    ("error-not-implemented", "getInternetRadioStations", {}),
]


@pytest.mark.parametrize(("name", "method", "params"), CALLS, ids=[c[0] for c in CALLS])
def test_snapshot(sub: Sub, name: str, method: str, params: dict[str, Any]) -> None:
    ids = _ids(sub)
    resolved = {k: ids.get(v, v) if k == "id" else v for k, v in params.items()}
    body = sub.json(method, resolved)
    if method.startswith("search"):
        # equal scores are ordered by id, and track ids differ between runs: compare as sets
        for items in body[f"searchResult{method[-1]}"].values():
            items.sort(key=lambda x: (x.get("title") or x.get("name"), x.get("path", "")))
    if method == "getPlaylists":
        # Other users' public playlists are listed too, and other tests on this shared server make some.
        lists = body["playlists"]
        lists["playlist"] = [p for p in lists.get("playlist", []) if p.get("owner") == _USER]
    check_snapshot(name, body)
