"""Three real servers on loopback with different libraries: A paired with B and with C.

Search on A finds B's and C's titles with their source through /v1 and /rest (a real Subsonic client);
a B track streams through A byte-exact, with Range; friends' users are followed and their shared
listening seen; a playlist shared with a peer reads on the other side; a hung C never slows A's search,
a dead C's items show unavailable and come back when C returns; a revoked B gets 401 and its items leave.
"""

from __future__ import annotations

import os
import re
import signal
import threading
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import libsonic
import pytest

from musicd.net.federation import Identity
from tests.integration.fed_support import (
    Song,
    build_library,
    fed_server,
    instance,
    pair,
    peers,
    signed,
    sync,
    wait_for,
)
from tests.live import USERS, LiveServer, serve

pytestmark = pytest.mark.slow

SHARED_ISRC = "GBXYZ2000001"
A_SONGS = [Song("Ann Artist", "Morning Album", "Morning Light"),
           Song("Shared Band", "Common Ground", "Same Song", isrc=SHARED_ISRC)]
B_SONGS = [Song("Bob Band", "Zoo Album", "Zebra Crossing", fmt="flac", seconds=2.0),
           Song("Bob Band", "Zoo Album", "Yellow Sky"),
           Song("Shared Band", "Common Ground", "Same Song", isrc=SHARED_ISRC),
           Song("ann artist", "Elsewhere", "morning light!")]  # same recording as A's by name and duration
C_SONGS = [Song("Carol Choir", "Quartz Album", "Quartz Garden", fmt="ogg"),
           Song("Carol Choir", "Quartz Album", "Velvet Rain")]


class Trio:
    def __init__(self, a: LiveServer, b: LiveServer, c: LiveServer, libs: dict[str, Path], root: Path) -> None:
        self.a, self.b, self.c = a, b, c
        self.libs = libs
        self.root = root
        self.ids = {k: instance(s)["instance_id"] for k, s in (("a", a), ("b", b), ("c", c))}

    def identity(self, server: LiveServer) -> Identity:
        return Identity((server.data_dir / "keys" / "federation.key").read_bytes(), "test")

    def search(self, q: str, kind: str = "track", user: str = "alice") -> list[dict[str, Any]]:
        with self.a.client(user) as c:
            r = c.get("/v1/search", params={"q": q, "type": kind})
            assert r.status_code == 200, r.text
            return r.json()[f"{kind}s"]["items"]  # type: ignore[no-any-return]

    def one(self, q: str, kind: str = "track") -> dict[str, Any]:
        found = self.search(q, kind)
        assert len(found) >= 1, found
        return found[0]


@pytest.fixture(scope="module")
def trio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Trio]:
    root = tmp_path_factory.mktemp("fed")
    tpl = root / "templates"
    libs = {"a": build_library(root / "libA", A_SONGS, tpl), "b": build_library(root / "libB", B_SONGS, tpl),
            "c": build_library(root / "libC", C_SONGS, tpl)}
    with fed_server(root / "a", libs["a"], "Alice's server") as a, \
            fed_server(root / "b", libs["b"], "Bob's server") as b, \
            fed_server(root / "c", libs["c"], "Carol's server") as c:
        t = Trio(a, b, c, libs, root)
        pair(a, b)  # A invites B
        pair(c, a)  # C invites A
        assert sync(a, t.ids["b"])["ok"] and sync(a, t.ids["c"])["ok"]
        yield t


def test_identity_and_pairing_on_both_sides(trio: Trio) -> None:
    for server, name in ((trio.a, "Alice's server"), (trio.b, "Bob's server")):
        me = instance(server)
        assert me["name"] == name and me["algorithm"] == "ed25519" and len(me["instance_id"]) == 22
    on_a, on_b, on_c = peers(trio.a), peers(trio.b), peers(trio.c)
    assert set(on_a) == {trio.ids["b"], trio.ids["c"]}
    assert on_a[trio.ids["b"]]["name"] == "Bob's server" and on_a[trio.ids["b"]]["status"] == "active"
    assert on_b[trio.ids["a"]]["scopes_received"] == ["library", "stream", "activity"]
    assert on_c[trio.ids["a"]]["status"] == "active"
    # The key file is kept with the other keys and is what the instance id is derived from.
    assert (trio.a.data_dir / "keys" / "federation.key").stat().st_size == 32


def test_v1_search_finds_friends_titles_with_their_source(trio: Trio) -> None:
    zebra = trio.one("zebra crossing")
    assert zebra["name"] == "Zebra Crossing" and zebra["source"]["name"] == "Bob's server"
    assert zebra["source"]["available"] is True and zebra["is_playable"] is True
    quartz = trio.one("quartz garden")
    assert quartz["source"] == {"type": "peer", "id": trio.ids["c"], "name": "Carol's server", "available": True}
    assert "source" not in trio.one("morning light")  # a local track has no source
    album = trio.one("zoo album", "album")
    assert album["name"] == "Zoo Album" and album["source"]["name"] == "Bob's server"
    artist = trio.one("carol choir", "artist")
    assert artist["source"]["name"] == "Carol's server"
    # Typo tolerance and prefixes work on friends' items like on local ones.
    assert trio.one("zebr")["name"] == "Zebra Crossing"
    assert trio.one("qartz garden")["name"] == "Quartz Garden"


def test_friends_copy_collapses_into_the_local_one(trio: Trio) -> None:
    same = trio.search("same song")
    assert [t["name"] for t in same] == ["Same Song"] and "source" not in same[0]  # by ISRC
    morning = trio.search("morning light")
    assert len(morning) == 1 and "source" not in morning[0]  # by artist + title + duration, case and "!" aside
    assert trio.one("yellow sky")["source"]["name"] == "Bob's server"  # what A lacks stays


def test_browse_friends_albums_and_artists_through_v1(trio: Trio) -> None:
    zebra = trio.one("zebra crossing")
    with trio.a.client("alice") as c:
        album = c.get(f"/v1/albums/{zebra['album']['id']}").json()
        assert album["name"] == "Zoo Album" and album["source"]["name"] == "Bob's server"
        assert [t["name"] for t in album["tracks"]["items"]] == ["Zebra Crossing", "Yellow Sky"]
        artist_id = zebra["artists"][0]["id"]
        assert c.get(f"/v1/artists/{artist_id}").json()["name"] == "Bob Band"
        albums = c.get(f"/v1/artists/{artist_id}/albums").json()["items"]
        assert [a["name"] for a in albums] == ["Zoo Album"]
        track = c.get(f"/v1/tracks/{zebra['id']}").json()
        assert track["source"]["id"] == trio.ids["b"]
        assert c.get("/v1/tracks/F0000000000000000000zz").status_code == 404


def _subsonic(server: LiveServer, user: str = "alice") -> libsonic.Connection:
    u = urllib.parse.urlsplit(server.base)
    return libsonic.Connection(f"http://{u.hostname}", user, USERS[user][0], port=u.port or 80, serverPath="/rest",
                               appName="musicd-tests")


def _list(x: Any) -> list[dict[str, Any]]:
    if x is None:
        return []
    return x if isinstance(x, list) else [x]


def test_subsonic_apps_see_each_friends_library_as_a_folder(trio: Trio) -> None:
    conn = _subsonic(trio.a)
    folders = {f["name"]: int(f["id"]) for f in _list(conn.getMusicFolders()["musicFolders"]["musicFolder"])}
    assert {"Bob's server", "Carol's server"} <= set(folders)
    bob = folders["Bob's server"]
    assert bob > 1000
    songs = _list(conn.search3("zebra crossing")["searchResult3"].get("song"))
    assert [s["title"] for s in songs] == ["Zebra Crossing"]
    assert [s["title"] for s in _list(conn.search3("quartz garden")["searchResult3"].get("song"))] == ["Quartz Garden"]
    only_bob = conn.search3("album", musicFolderId=bob)["searchResult3"]
    assert {a["name"] for a in _list(only_bob.get("album"))} == {"Zoo Album"}
    local_only = conn.search3("zebra crossing", musicFolderId=1)["searchResult3"]
    assert not _list(local_only.get("song"))
    # A blank query (apps that sync the whole library) lists the folder asked for: a friend's albums and
    # artists (its tracks come album by album), or the local library without friends' items.
    whole_bob = conn.search3('""', artistCount=50, albumCount=50, songCount=50, musicFolderId=bob)["searchResult3"]
    assert {a["name"] for a in _list(whole_bob.get("album"))} == {"Zoo Album", "Elsewhere", "Common Ground"}
    assert "Bob Band" in {a["name"] for a in _list(whole_bob.get("artist"))} and not _list(whole_bob.get("song"))
    whole_local = conn.search3("", songCount=500, musicFolderId=1)["searchResult3"]
    titles = {s["title"] for s in _list(whole_local.get("song"))}
    assert "Morning Light" in titles and "Zebra Crossing" not in titles
    listed = _list(conn.getAlbumList2("alphabeticalByName", size=50, musicFolderId=bob)["albumList2"]["album"])
    # A friend's folder lists their whole library, copies of what A has included (search hides those).
    assert {a["name"] for a in listed} == {"Zoo Album", "Elsewhere", "Common Ground"}
    album = conn.getAlbum(next(a["id"] for a in listed if a["name"] == "Zoo Album"))["album"]
    assert [s["title"] for s in _list(album["song"])] == ["Zebra Crossing", "Yellow Sky"]
    index = _list(conn.getArtists(musicFolderId=bob)["artists"]["index"])
    assert {a["name"] for i in index for a in _list(i["artist"])} == {"Bob Band", "ann artist", "Shared Band"}
    assert conn.getSong(songs[0]["id"])["song"]["title"] == "Zebra Crossing"
    with pytest.raises(libsonic.errors.DataNotFoundError):
        conn.search3("zebra", musicFolderId=999_999)


def test_friends_track_streams_through_the_local_server_byte_exact_with_range(trio: Trio) -> None:
    zebra = trio.one("zebra crossing")
    original = (trio.libs["b"] / "Bob Band" / "Zoo Album" / "01 Zebra Crossing.flac").read_bytes()
    with trio.a.client("alice") as c:
        whole = c.get(f"/v1/tracks/{zebra['id']}/stream", params={"quality": "original"})
        assert whole.status_code == 200 and whole.content == original
        assert whole.headers["content-type"] == "audio/flac"
        part = c.get(f"/v1/tracks/{zebra['id']}/stream", params={"quality": "original"},
                     headers={"Range": "bytes=100-1099"})
        assert part.status_code == 206 and part.content == original[100:1100]
        assert part.headers["content-range"] == f"bytes 100-1099/{len(original)}"
        tail = c.get(f"/v1/tracks/{zebra['id']}/stream", params={"quality": "original"},
                     headers={"Range": "bytes=-500"})
        assert tail.status_code == 206 and tail.content == original[-500:]
        low = c.get(f"/v1/tracks/{zebra['id']}/stream", params={"quality": "low"})
        assert low.status_code == 200 and low.headers["x-musicd-quality"] == "low"
        assert low.content[:4] == b"OggS"  # the origin transcoded it
    # Subsonic apps stream it through /rest, the client never sees B.
    conn = _subsonic(trio.a)
    song = _list(conn.search3("zebra crossing")["searchResult3"]["song"])[0]
    assert conn.stream(song["id"], tformat="raw").read() == original
    # A friend's server makes Vorbis tiers (the peer protocol names no format): the song says so, and a
    # bitrate limit gets exactly that.
    assert (song["transcodedSuffix"], song["transcodedContentType"]) == ("ogg", "audio/ogg")
    assert conn.stream(song["id"], maxBitRate=96).read()[:4] == b"OggS"
    # The cache keeps it: a ranged read of a cached track is served here, exactly.
    cached = list((trio.a.data_dir / "peer-cache").rglob("*.ogg"))
    assert cached, "the relayed track was not cached"
    metrics = trio.a.client(None).get("/metrics").text
    relayed = re.search(r"^musicd_federation_streams_relayed_total (\S+)$", metrics, re.M)
    hits = re.search(r"^musicd_federation_stream_cache_hits_total (\S+)$", metrics, re.M)
    assert relayed and float(relayed.group(1)) >= 2 and hits and float(hits.group(1)) >= 1


def test_follow_a_friend_and_see_their_listening_only_when_they_share(trio: Trio) -> None:
    with trio.a.client("alice") as a:
        r = a.put("/v1/me/federation/following", json={"peer_id": trio.ids["b"], "username": "bob"})
        assert r.status_code == 200, r.text
        assert r.json()["server"] == "Bob's server"
        r = a.put("/v1/me/federation/following", json={"peer_id": trio.ids["b"], "username": "nobody"})
        assert r.status_code == 404 and r.json()["error"]["code"] == "user_not_found"
        assert [u["username"] for u in a.get("/v1/me/federation/following").json()["items"]] == ["bob"]
    conn_b = _subsonic(trio.b, "bob")
    yellow = _list(conn_b.search3("yellow sky")["searchResult3"]["song"])[0]
    conn_b.scrobble(yellow["id"], submission=True)

    def activity() -> dict[str, Any]:
        with trio.a.client("alice") as a:
            return a.get("/v1/me/federation/activity").json()["items"][0]  # type: ignore[no-any-return]

    time.sleep(1)
    first = activity()
    assert first["available"] is True and first["sharing"] is False and first["track"] is None
    with trio.b.client("bob") as b:
        assert b.put("/v1/me/settings", json={"share_activity": True}).status_code == 200
    shown = wait_for(lambda: (x := activity())["track"] and x, timeout=40, step=1)
    assert shown["sharing"] is True and shown["track"]["name"] == "Yellow Sky"
    assert shown["track"]["source"]["name"] == "Bob's server"


def test_playlist_shared_with_a_peer_reads_on_the_other_side(trio: Trio) -> None:
    with trio.b.client("bob") as b:
        pid = b.post("/v1/me/playlists", json={"name": "Bob's Picks"}).json()["id"]
        ids = [t["id"] for t in b.get("/v1/search", params={"q": "bob band", "type": "track"}).json()
               ["tracks"]["items"]]
        assert b.post(f"/v1/playlists/{pid}/tracks", json={"uris": [f"spotify:track:{i}" for i in ids]}
                      ).status_code == 201
        r = b.put(f"/v1/playlists/{pid}/peers", json={"peer_id": trio.ids["a"]})
        assert r.status_code == 200 and r.json()["peers"] == [trio.ids["a"]]
    with trio.b.client("alice") as not_owner:
        assert not_owner.put(f"/v1/playlists/{pid}/peers", json={"peer_id": trio.ids["a"]}).status_code in (403, 404)

    def shared() -> list[dict[str, Any]]:
        with trio.a.client("alice") as a:
            return [p for p in a.get("/v1/federation/playlists").json()["items"] if p["name"] == "Bob's Picks"]

    found = wait_for(shared)[0]
    assert found["source"]["name"] == "Bob's server" and found["tracks"]["total"] == 2
    with trio.a.client("alice") as a:
        full = a.get(f"/v1/federation/playlists/{found['id']}").json()
        assert sorted(t["track"]["name"] for t in full["tracks"]["items"]) == ["Yellow Sky", "Zebra Crossing"]


def test_a_friends_new_and_removed_tracks_follow_on_its_notice(trio: Trio) -> None:
    """B's library changes: its rescan moves its change log, it tells A, A applies the change feed."""
    build_library(trio.libs["b"], [Song("Bob Band", "Late Album", "Brand New Tune")], trio.root / "templates")
    (trio.libs["b"] / "Bob Band" / "Zoo Album" / "02 Yellow Sky.mp3").unlink()
    with trio.b.client("admin") as b:
        assert b.post("/v1/admin/scan").status_code == 202
    new = wait_for(lambda: [t for t in trio.search("brand new tune") if t["name"] == "Brand New Tune"], timeout=40)
    assert new[0]["source"]["name"] == "Bob's server"
    wait_for(lambda: not trio.search("yellow sky"), timeout=40)
    assert trio.one("zebra crossing")["name"] == "Zebra Crossing"


def test_a_hung_peer_never_slows_local_search(trio: Trio) -> None:
    """C stopped (SIGSTOP: its socket accepts, nothing answers): A's searches never wait for it."""
    with trio.a.client("alice") as c:
        c.get("/v1/search", params={"q": "quartz", "type": "track,album,artist"})
        os.killpg(trio.c.proc.pid, signal.SIGSTOP)  # the group: the server and any encoder it started
        try:
            sync_started = time.monotonic()
            with httpx.Client(base_url=trio.a.base, headers=c.headers, timeout=30) as admin_c:
                admin_c.headers["authorization"] = f"Bearer {trio.a.token('admin')}"
                pending = admin_c.build_request("POST", f"/v1/admin/federation/peers/{trio.ids['c']}/sync")
                threading.Thread(target=lambda: httpx.Client(timeout=30).send(pending), daemon=True).start()
                slowest = 0.0
                for _ in range(20):
                    t0 = time.monotonic()
                    r = c.get("/v1/search", params={"q": "quartz garden", "type": "track,album,artist"})
                    slowest = max(slowest, time.monotonic() - t0)
                    assert r.status_code == 200
                    assert r.json()["tracks"]["items"][0]["name"] == "Quartz Garden"
                # C's read timeout is 5 s: a search that waited on C would take that long.
                assert slowest < 1.0, slowest
                # Nor does another peer's sync wait for C.
                t0 = time.monotonic()
                assert sync(trio.a, trio.ids["b"])["ok"] is True
                assert time.monotonic() - t0 < 4.0
                assert time.monotonic() - sync_started < 30
        finally:
            os.killpg(trio.c.proc.pid, signal.SIGCONT)


def test_a_dead_peers_items_show_unavailable_and_come_back(trio: Trio) -> None:
    port = int(trio.c.base.rsplit(":", 1)[1])
    quartz = trio.one("quartz garden")
    trio.c.proc.terminate()
    trio.c.proc.wait(timeout=20)
    result = sync(trio.a, trio.ids["c"])
    assert result["ok"] is False and result["error"].startswith("peer_unavailable")
    gone = trio.one("quartz garden")
    assert gone["source"]["available"] is False and gone["is_playable"] is False
    assert peers(trio.a)[trio.ids["c"]]["available"] is False
    with trio.a.client("alice") as c:
        r = c.get(f"/v1/tracks/{quartz['id']}/stream")
        assert r.status_code == 503 and r.json()["error"]["code"] == "peer_unavailable"
    conn = _subsonic(trio.a)
    with pytest.raises(libsonic.errors.SonicError) as err:
        conn.stream(quartz["id"])
    assert "unavailable" in str(err.value)
    assert trio.a.client(None).get("/health").status_code == 200
    # C comes back where it was: it tells its peers it started, and A shows its items again.
    with serve(trio.root / "c", trio.c.data_dir, trio.libs["c"], port=port, ready_s=60,
               MUSICD_FEDERATION_NAME="Carol's server", MUSICD_LIBRARY_SCAN_ON_START="never",
               MUSICD_TRANSCODE_PRE_TRANSCODE="false", MUSICD_FEDERATION_BREAKER_SECONDS="1"):
        back = wait_for(lambda: (t := trio.one("quartz garden"))["source"]["available"] and t, timeout=30)
        assert back["is_playable"] is True
        with trio.a.client("alice") as c:
            assert c.get(f"/v1/tracks/{quartz['id']}/stream").status_code == 200


def test_revoked_peer_gets_401_and_its_items_leave(trio: Trio) -> None:
    bob = trio.identity(trio.b)
    with trio.a.client("admin") as a:
        r = a.delete(f"/v1/admin/federation/peers/{trio.ids['b']}")
        assert r.status_code == 200 and r.json()["status"] == "revoked"
    req = signed(bob, trio.ids["a"], "GET", f"{trio.a.base}/fed/v1/hello")
    r = httpx.Client().send(req)
    assert r.status_code == 401 and r.json()["error"]["code"] == "peer_revoked"
    wait_for(lambda: not trio.search("zebra crossing"))
    wait_for(lambda: peers(trio.a)[trio.ids["b"]]["tracks"] == 0)
    # B was told: it dropped A's items as well.
    wait_for(lambda: peers(trio.b)[trio.ids["a"]]["status"] == "revoked")
    with trio.b.client("bob") as b:
        wait_for(lambda: not [t for t in b.get("/v1/search", params={"q": "quartz garden morning",
                                                                      "type": "track"}).json()["tracks"]["items"]
                              if "source" in t])
    assert trio.one("morning light")["name"] == "Morning Light"  # the local library is untouched
