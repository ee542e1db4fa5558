"""A real Spotify Web API client (spotipy) against musicd's /v1: catalogue, browse, follows, library, history."""

from __future__ import annotations

import os
import sqlite3
import warnings
from datetime import UTC, datetime, timedelta

import pytest
import spotipy

from musicd.services.mixes import mix_id
from tests.live import LiveServer


@pytest.fixture
def sp(live_server: LiveServer) -> spotipy.Spotify:
    """spotipy logged in as a fresh user of its own."""
    name = f"spotipy{os.getpid()}"
    with live_server.client("admin") as admin:
        r = admin.post("/v1/admin/users", json={"username": name, "password": "long-enough-pw"})
        assert r.status_code in (201, 409), r.text
    token = live_server.login(name, "long-enough-pw")["access_token"]
    client = spotipy.Spotify(auth=str(token), requests_timeout=10, retries=0)
    client.prefix = live_server.base + "/v1/"
    return client


def test_spotipy_catalogue_browse_and_library(sp: spotipy.Spotify, live_server: LiveServer) -> None:
    warnings.simplefilter("ignore", DeprecationWarning)  # spotipy warns about endpoints Spotify retired

    releases = sp.new_releases(limit=50)["albums"]
    assert releases["total"] == len(releases["items"]) > 5
    melody = next(a for a in releases["items"] if a["name"] == "Melody A.M.")

    album = sp.album(melody["uri"])
    assert album["id"] == melody["id"] and album["tracks"]["total"] == len(album["tracks"]["items"])
    assert [a["id"] for a in sp.albums([melody["id"]])["albums"]] == [melody["id"]]
    tracks = sp.album_tracks(melody["id"])["items"]
    assert [t["track_number"] for t in tracks] == sorted(t["track_number"] for t in tracks)
    assert sp.track(tracks[0]["id"])["album"]["id"] == melody["id"]
    assert [t["id"] for t in sp.tracks([t["id"] for t in tracks])["tracks"]] == [t["id"] for t in tracks]

    artist_id = album["artists"][0]["id"]
    assert sp.artist(artist_id)["name"] == "Röyksopp"
    assert sp.artists([artist_id])["artists"][0]["id"] == artist_id
    own = sp.artist_albums(artist_id, include_groups="album,appears_on")["items"]
    assert [a["name"] for a in own] == ["Melody A.M."]
    assert sp.artist_top_tracks(artist_id)["tracks"]

    cats = sp.categories(limit=50)["categories"]["items"]
    rock = next(c for c in cats if c["name"] == "Rock")
    playlists = sp.category_playlists(rock["id"])["playlists"]["items"]
    assert playlists and playlists[0]["id"] == mix_id("genre", rock["id"])
    # A generated mix's id and URI go back through spotipy's own id checks unchanged.
    mix = sp.playlist(playlists[0]["uri"])
    assert mix["id"] == playlists[0]["id"] and mix["tracks"]["total"] >= 2
    assert sp.playlist_items(playlists[0]["id"])["items"]

    sp.user_follow_artists([artist_id])
    followed = sp.current_user_followed_artists()["artists"]
    assert [a["id"] for a in followed["items"]] == [artist_id]
    assert sp.current_user_following_artists([artist_id]) == [True]

    sp.current_user_saved_tracks_add([tracks[0]["id"]])
    assert sp.current_user_saved_tracks_contains([tracks[0]["id"], tracks[1]["id"]]) == [True, False]
    saved = sp.current_user_saved_tracks()
    assert [i["track"]["id"] for i in saved["items"]] == [tracks[0]["id"]]

    me = sp.me()["id"]
    now = datetime.now(UTC)
    with sqlite3.connect(live_server.data_dir / "musicd.db", timeout=10) as db:
        db.executemany(
            "INSERT INTO listening_history (user_id, track_id, played_at, ms_played) VALUES (?, ?, ?, 30000)",
            [(me, tracks[1]["id"], (now - timedelta(hours=h)).isoformat(timespec="milliseconds")
              .replace("+00:00", "Z")) for h in (3, 2, 1)],
        )
    recent = sp.current_user_recently_played(limit=2)
    assert [i["track"]["id"] for i in recent["items"]] == [tracks[1]["id"]] * 2
    assert recent["cursors"]["before"]
    top = sp.current_user_top_tracks(time_range="short_term")
    assert [t["id"] for t in top["items"]] == [tracks[1]["id"]]
