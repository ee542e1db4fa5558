"""spotipy (a real Spotify Web API client) pointed at musicd: the current user and search."""

from __future__ import annotations

import spotipy

from tests.live import LiveServer


def _client(server: LiveServer, name: str) -> spotipy.Spotify:
    sp = spotipy.Spotify(auth=server.token(name), requests_timeout=10, retries=0)
    sp.prefix = f"{server.base}/v1/"
    return sp


def test_spotipy_current_user_and_search(live_server: LiveServer) -> None:
    sp = _client(live_server, "alice")
    me = sp.current_user()
    assert me["display_name"] == "alice" and me["id"] == live_server.user_id("alice")
    found = sp.search("royksopp midnight", type="track", limit=5)
    assert found["tracks"]["items"][0]["name"] == "Midnight Sun"
    assert found["tracks"]["items"][0]["artists"][0]["name"] == "Röyksopp"
    found = sp.search("ete cicek", type="artist,album", limit=5)
    assert found["artists"]["items"][0]["name"] == "Été Çiçek"
    assert found["albums"]["items"][0]["name"] == "Chansons d'été"
    page = sp.search("a", type="track", limit=3)
    nxt = sp.next(page["tracks"])
    assert nxt["tracks"]["offset"] == 3
