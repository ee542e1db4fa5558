"""spotipy, a real Spotify Web API client, drives musicd's playlists with its prefix pointed at the server."""

from __future__ import annotations

import pytest
import spotipy

from tests.integration.playlist_helpers import track_ids
from tests.live import LiveServer


def _client(server: LiveServer, name: str) -> spotipy.Spotify:
    sp = spotipy.Spotify(auth=server.token(name), requests_timeout=30, retries=0, status_retries=0)
    sp.prefix = server.base + "/v1/"
    return sp


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # spotipy marks user_playlist_create deprecated
def test_spotipy_playlists(live_server: LiveServer) -> None:
    t = track_ids(live_server)
    alice, bob = _client(live_server, "alice"), _client(live_server, "bob")
    alice_id = live_server.user_id("alice")

    pl = alice.user_playlist_create(alice_id, "Spotipy list", public=True, description="made by spotipy")
    pid = pl["id"]
    assert pl["name"] == "Spotipy list" and pl["description"] == "made by spotipy" and pl["public"] is True
    assert pid in [p["id"] for p in alice.current_user_playlists(limit=50)["items"]]

    snap = alice.playlist_add_items(pid, t[:4])["snapshot_id"]
    alice.playlist_add_items(pid, [t[4]], position=0)
    got = alice.playlist(pid)
    assert got["tracks"]["total"] == 5 and got["snapshot_id"] != snap
    assert [i["track"]["id"] for i in got["tracks"]["items"]] == [t[4], t[0], t[1], t[2], t[3]]

    page = alice.playlist_items(pid, limit=2, offset=1)
    assert [i["track"]["id"] for i in page["items"]] == [t[0], t[1]] and page["total"] == 5
    assert alice.next(page)["items"][0]["track"]["id"] == t[2]

    snap = alice.playlist_reorder_items(pid, range_start=0, insert_before=5)["snapshot_id"]
    assert [i["track"]["id"] for i in alice.playlist_items(pid)["items"]] == [t[0], t[1], t[2], t[3], t[4]]
    alice.playlist_remove_all_occurrences_of_items(pid, [t[1], t[3]], snapshot_id=snap)
    assert [i["track"]["id"] for i in alice.playlist_items(pid)["items"]] == [t[0], t[2], t[4]]

    alice.playlist_change_details(pid, name="Renamed", description="changed")
    got = alice.playlist(pid)
    assert (got["name"], got["description"]) == ("Renamed", "changed")

    bob.current_user_follow_playlist(pid)
    assert pid in [p["id"] for p in bob.current_user_playlists(limit=50)["items"]]
    assert alice.playlist(pid)["followers"]["total"] == 1

    # A reorder made on that older snapshot lands where it was meant: t2 before t0, found again by identity
    # (the removals since shifted their positions).
    alice.playlist_reorder_items(pid, range_start=2, insert_before=0, snapshot_id=snap)
    assert [i["track"]["id"] for i in alice.playlist_items(pid)["items"]] == [t[2], t[0], t[4]]
    # One that names an entry removed since is refused with 409, which spotipy raises.
    with pytest.raises(spotipy.SpotifyException) as e:
        alice.playlist_reorder_items(pid, range_start=1, insert_before=0, snapshot_id=snap)
    assert e.value.http_status == 409


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # spotipy marks new_releases and user_playlist_create
def test_spotipy_hands_back_the_uris_musicd_emits(live_server: LiveServer) -> None:
    """URIs and ids musicd returned pass spotipy's own URI checks when handed back unchanged."""
    alice = _client(live_server, "alice")
    albums = alice.new_releases(limit=3)["albums"]["items"]
    # Get Several Albums carries each album's tracks page, as Spotify's does.
    several = alice.albums([a["uri"] for a in albums])["albums"]
    assert [a["id"] for a in several] == [a["id"] for a in albums]
    for a in several:
        assert a["tracks"]["total"] == a["total_tracks"] and len(a["tracks"]["items"]) == a["total_tracks"]
    uris = [t["uri"] for a in several for t in a["tracks"]["items"]][:4]
    assert all(u.startswith("spotify:track:") for u in uris)
    assert [t["uri"] for t in alice.tracks(uris)["tracks"]] == uris

    me = alice.me()
    pl = alice.user_playlist_create(me["id"], "Round trip", public=False)
    assert pl["uri"] == f"spotify:playlist:{pl['id']}" and pl["owner"]["uri"] == me["uri"]
    alice.playlist_add_items(pl["uri"], [*uris, uris[0]])
    items = alice.playlist_items(pl["uri"])["items"]
    assert [i["track"]["uri"] for i in items] == [*uris, uris[0]]
    snap = alice.playlist_remove_specific_occurrences_of_items(
        pl["uri"], [{"uri": items[0]["track"]["uri"], "positions": [0]}])["snapshot_id"]
    assert [i["track"]["uri"] for i in alice.playlist_items(pl["id"])["items"]] == [*uris[1:], uris[0]]
    alice.playlist_remove_all_occurrences_of_items(pl["uri"], [uris[0]], snapshot_id=snap)
    assert [i["track"]["uri"] for i in alice.playlist_items(pl["id"])["items"]] == uris[1:]
    alice.playlist_replace_items(pl["uri"], [uris[0]])
    assert [i["track"]["uri"] for i in alice.playlist_items(pl["id"])["items"]] == [uris[0]]
    alice.current_user_saved_tracks_add([uris[0]])
    assert alice.current_user_saved_tracks_contains([uris[0]]) == [True]
    alice.current_user_unfollow_playlist(pl["id"])
