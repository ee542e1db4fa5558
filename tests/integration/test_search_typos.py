"""Typos people make as they type, through /v1/search and /rest/search3 (py-sonic) on a real server."""

from __future__ import annotations

import urllib.parse

import httpx
import libsonic
import pytest

from tests.live import USERS, LiveServer


def _v1_names(server: LiveServer, q: str, kind: str) -> list[str]:
    r = httpx.get(f"{server.base}/v1/search", params={"q": q, "type": "track,artist,album"},
                  headers=server.headers("alice"), timeout=10)
    assert r.status_code == 200, r.text
    return [item["name"] for item in r.json()[kind]["items"]]


def _search3_names(server: LiveServer, q: str, kind: str) -> list[str]:
    u = urllib.parse.urlsplit(server.base)
    c = libsonic.Connection(f"http://{u.hostname}", "alice", USERS["alice"][0], port=u.port or 80,
                            serverPath="/rest", appName="search-typos")
    found = c.search3(q, artistCount=5, albumCount=5, songCount=5)["searchResult3"].get(kind, [])
    return [str(x.get("name") or x.get("title")) for x in ([found] if isinstance(found, dict) else found)]


# A typo in the beginning of a longer word ("latern" for "lanterns"): "sancast" is one edit from the start
# of "sandcastles" and five from the whole word, "hetwa" one from "heatwa", three from "heatwave".
TYPOS = [
    ("sancast", "artists", "artist", "The Sandcastles"),
    ("simpho", "artists", "artist", "Aurora Symphonic"),
    ("hetwa", "tracks", "song", "Heatwave"),
    # A query that is (part of) an artist's name puts that artist first among artists.
    ("cicek", "artists", "artist", "Été Çiçek"),
    ("royksop", "artists", "artist", "Röyksopp"),
]


@pytest.mark.parametrize("query, v1_kind, rest_kind, expected", TYPOS)
def test_v1_search_reaches_longer_words(live_server: LiveServer, query: str, v1_kind: str, rest_kind: str,
                                        expected: str) -> None:
    names = _v1_names(live_server, query, v1_kind)
    assert names and names[0] == expected, names


@pytest.mark.parametrize("query, v1_kind, rest_kind, expected", TYPOS)
def test_search3_reaches_longer_words(live_server: LiveServer, query: str, v1_kind: str, rest_kind: str,
                                      expected: str) -> None:
    names = _search3_names(live_server, query, rest_kind)
    assert names and names[0] == expected, names
