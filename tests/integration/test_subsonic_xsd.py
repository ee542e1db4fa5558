"""Every registered Subsonic endpoint answers XML that validates against the Subsonic 1.16.1 XSD (plus the
OpenSubsonic additions) and JSON of the OpenSubsonic shapes: with good parameters, and with none (the
error envelope)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from musicd.http.subsonic.context import ENDPOINTS
from tests.integration.subsonic_shapes import check_json
from tests.integration.subsonic_support import Sub, schema
from tests.live import USERS, LiveServer

BINARY = {"stream", "download", "getCoverArt"}


@pytest.fixture(scope="module")
def admin(live_server: LiveServer) -> Sub:
    return Sub(live_server.base, "admin", USERS["admin"][0])


@pytest.fixture(scope="module")
def user(live_server: LiveServer, admin: Sub) -> Iterator[Sub]:
    name = f"xsd-{secrets.token_hex(4)}"
    admin.call("createUser", {"username": name, "password": "xsd-password"})
    yield Sub(live_server.base, name, "xsd-password")
    admin.call("deleteUser", {"username": name})


@pytest.fixture(scope="module")
def ids(user: Sub) -> dict[str, str]:
    album = user.call("getAlbumList2", {"type": "alphabeticalByName", "size": 1})["albumList2"]["album"][0]
    song = user.call("getAlbum", {"id": album["id"]})["album"]["song"][0]
    return {"song": song["id"], "album": album["id"], "artist": album["artistId"], "cover": song["coverArt"]}


def _params(method: str, ids: dict[str, str], user: Sub) -> list[tuple[str, Any]]:
    """Plausible parameters for a call (state-changing calls act on the test's own user)."""
    s, al, ar = ids["song"], ids["album"], ids["artist"]
    table: dict[str, list[tuple[str, Any]]] = {
        "getMusicDirectory": [("id", al)], "getArtist": [("id", ar)], "getAlbum": [("id", al)],
        "getSong": [("id", s)], "getArtistInfo": [("id", ar)], "getArtistInfo2": [("id", ar)],
        "getAlbumInfo": [("id", al)], "getAlbumInfo2": [("id", al)], "getSimilarSongs": [("id", s)],
        "getSimilarSongs2": [("id", ar)], "getTopSongs": [("id", ar)],
        "getAlbumList": [("type", "newest")], "getAlbumList2": [("type", "random")],
        "getSongsByGenre": [("genre", "Rock")], "search": [("any", "a")], "search2": [("query", "a")],
        "search3": [("query", "a")], "getPlaylist": [("id", "none")], "createPlaylist": [("name", "xsd")],
        "updatePlaylist": [("playlistId", "none")], "deletePlaylist": [("id", "none")],
        "stream": [("id", s)], "download": [("id", s)], "getCoverArt": [("id", ids["cover"])],
        "getLyrics": [("artist", "Röyksopp"), ("title", "Fjord Song")], "getLyricsBySongId": [("id", s)],
        "getAvatar": [("username", user.user)], "star": [("id", s)], "unstar": [("id", s)],
        "setRating": [("id", s), ("rating", 3)], "scrobble": [("id", s), ("submission", "false")],
        "reportPlayback": [("mediaId", s), ("mediaType", "song"), ("positionMs", 0), ("state", "starting")],
        "createBookmark": [("id", s), ("position", 10)], "deleteBookmark": [("id", s)],
        "savePlayQueue": [("id", s), ("current", s)], "savePlayQueueByIndex": [("id", s), ("currentIndex", 0)],
        "createShare": [("id", s)], "updateShare": [("id", "none")], "deleteShare": [("id", "none")],
        "getUser": [("username", user.user)], "changePassword": [("username", user.user),
                                                                   ("password", user.password)],
        "createUser": [("username", f"{user.user}-x"), ("password", "whatever-pw")],
        "updateUser": [("username", user.user)], "deleteUser": [("username", f"{user.user}-missing")],
        "getPodcastEpisode": [("id", "none")], "createPodcastChannel": [("url", "http://127.0.0.1:1/feed.xml")],
        "deletePodcastChannel": [("id", "none")], "deletePodcastEpisode": [("id", "none")],
        "downloadPodcastEpisode": [("id", "none")], "getNewestPodcasts": [("count", 5)],
    }
    return table.get(method, [])


@pytest.mark.parametrize("method", sorted(ENDPOINTS))
def test_endpoint_xml_and_json_are_valid(method: str, user: Sub, ids: dict[str, str]) -> None:
    for params in (_params(method, ids, user), []):
        r = user.raw(method, params, fmt="xml")
        assert r.status_code == 200, r.text
        if method in BINARY and not r.headers["content-type"].startswith("text/xml"):
            assert r.content
            continue
        assert r.headers["content-type"].startswith("text/xml")
        schema().validate(r.text)
        assert 'openSubsonic="true"' in r.text and 'type="musicd"' in r.text
        j = user.raw(method, params, fmt="json")
        if method in BINARY and not j.headers["content-type"].startswith("application/json"):
            continue
        check_json(j.content)


def test_admin_only_endpoints(admin: Sub) -> None:
    for method in ("getUsers", "getScanStatus"):
        admin.xml(method)
        check_json(admin.raw(method).content)
