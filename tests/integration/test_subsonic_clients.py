"""Real Subsonic client libraries against musicd: py-sonic (dict results, POST) and py-opensonic (typed
dataclasses, so a field of the wrong type or a missing required one fails the call)."""

from __future__ import annotations

import secrets
import urllib.parse

import libopensonic
import libsonic
import pytest

from musicd.devtools.library_builder import BuiltLibrary
from tests.live import USERS, LiveServer


def _as_list(x: object) -> list[dict[str, object]]:
    if x is None:
        return []
    return x if isinstance(x, list) else [x]  # type: ignore[list-item, return-value]


@pytest.fixture(scope="module")
def pysonic(live_server: LiveServer) -> libsonic.Connection:
    u = urllib.parse.urlsplit(live_server.base)
    return libsonic.Connection(f"http://{u.hostname}", "alice", USERS["alice"][0], port=u.port or 80,
                               serverPath="/rest", appName="musicd-tests")


def test_py_sonic(pysonic: libsonic.Connection, built_library: BuiltLibrary) -> None:
    c = pysonic
    assert c.ping() is True
    assert c.getLicense()["license"]["valid"] is True
    assert _as_list(c.getMusicFolders()["musicFolders"]["musicFolder"])
    index = _as_list(c.getArtists()["artists"]["index"])
    artists = {a["name"]: a for i in index for a in _as_list(i["artist"])}
    artist = c.getArtist(artists["Röyksopp"]["id"])["artist"]
    album = c.getAlbum(_as_list(artist["album"])[0]["id"])["album"]
    songs = _as_list(album["song"])
    assert len(songs) == 4
    assert c.getSong(songs[0]["id"])["song"]["title"] == "Northern Lights"
    found = _as_list(c.search3("Polar Drift", artistCount=0, albumCount=0, songCount=5)["searchResult3"]["song"])
    assert found[0]["id"] == songs[3]["id"]
    for kind in ("newest", "random", "alphabeticalByName", "alphabeticalByArtist", "frequent", "recent", "highest",
                 "starred"):
        c.getAlbumList2(kind, size=5)
    assert _as_list(c.getAlbumList2("byYear", size=5, fromYear=2000, toYear=2020)["albumList2"]["album"])
    assert len(_as_list(c.getRandomSongs(size=5)["randomSongs"]["song"])) == 5
    assert c.getGenres()["genres"]["genre"]
    name = f"pysonic-{secrets.token_hex(3)}"
    c.createPlaylist(name=name, songIds=[s["id"] for s in songs[:2]])
    pl = next(p for p in _as_list(c.getPlaylists()["playlists"]["playlist"]) if p["name"] == name)
    c.updatePlaylist(pl["id"], songIdsToAdd=[songs[2]["id"]], songIndexesToRemove=[0])
    assert [e["id"] for e in _as_list(c.getPlaylist(pl["id"])["playlist"]["entry"])] == \
        [songs[1]["id"], songs[2]["id"]]
    c.deletePlaylist(pl["id"])
    c.star(sids=[songs[0]["id"]], albumIds=[album["id"]])
    starred = c.getStarred2()["starred2"]
    assert songs[0]["id"] in [s["id"] for s in _as_list(starred["song"])]
    c.unstar(sids=[songs[0]["id"]], albumIds=[album["id"]])
    c.scrobble(songs[1]["id"], submission=False)
    assert songs[1]["id"] in [e["id"] for e in _as_list(c.getNowPlaying()["nowPlaying"]["entry"])]
    assert c.getLyrics(artist="Röyksopp", title="Fjord Song")["lyrics"]["value"].startswith("Cold water")
    data = c.stream(songs[0]["id"], tformat="raw").read()
    assert data == (built_library.root / songs[0]["path"]).read_bytes()
    assert c.download(songs[0]["id"]).read() == data
    assert c.getCoverArt(songs[0]["coverArt"], size=40).read()[:4] in (b"\x89PNG", b"\xff\xd8\xff\xe0",
                                                                       b"\xff\xd8\xff\xdb")
    c.createBookmark(songs[0]["id"], 1000)
    assert _as_list(c.getBookmarks()["bookmarks"]["bookmark"])[0]["position"] == 1000
    c.deleteBookmark(songs[0]["id"])
    c.savePlayQueue([s["id"] for s in songs], current=songs[1]["id"], position=42)
    q = c.getPlayQueue()["playQueue"]
    assert q["current"] == songs[1]["id"] and len(_as_list(q["entry"])) == 4
    user = c.getUser("alice")["user"]
    assert user["streamRole"] is True and user["adminRole"] is False


async def test_py_opensonic(live_server: LiveServer, built_library: BuiltLibrary) -> None:
    u = urllib.parse.urlsplit(live_server.base)
    c = libopensonic.AsyncConnection(f"http://{u.hostname}", "bob", USERS["bob"][0], port=u.port or 80,
                                     app_name="musicd-tests")
    try:
        assert await c.ping() is True
        ext = {e.name for e in await c.get_open_subsonic_extensions()}
        assert {"songLyrics", "apiKeyAuthentication", "formPost"} <= ext
        indexes = await c.get_indexes()
        assert sum(len(i.artist or []) for i in indexes.index or []) > 5
        artists = await c.get_artists()
        by_name = {a.name: a for i in artists.index or [] for a in i.artist or []}
        artist = await c.get_artist(by_name["Été Çiçek"].id)
        album = await c.get_album((artist.album or [])[0].id)
        assert album.song_count == len(album.song or []) == 3 and album.is_compilation is False
        songs = album.song or []
        assert songs[1].artists and [a.name for a in songs[1].artists] == ["Été Çiçek", "Zoë Ångström"]
        assert songs[0].genres and songs[0].genres[0].name == "Chanson"
        song = await c.get_song(songs[2].id)
        assert song.title == "Crème brûlée" and song.replay_gain is not None
        res = await c.search3("Crème", artist_count=1, album_count=1, song_count=5)
        assert songs[2].id in [s.id for s in res.song or []]
        assert await c.get_album_list2("alphabeticalByName", size=3)
        assert len(await c.get_random_songs(size=3)) == 3
        assert await c.get_genres()
        assert await c.get_songs_by_genre("Chanson")
        directory = await c.get_music_directory(album.id)
        assert len(directory.child or []) == 3
        info = await c.get_artist_info2(by_name["Été Çiçek"].id)
        assert info.similar_artist is None or isinstance(info.similar_artist, list)
        assert (await c.get_album_info2(album.id)).music_brainz_id
        await c.get_similar_songs2(by_name["Été Çiçek"].id, count=3)
        assert len(await c.get_top_songs("Été Çiçek", count=2)) == 2
        await c.star(sids=[songs[0].id], album_ids=[album.id], artist_ids=[artist.id])
        starred = await c.get_starred2()
        assert [s.id for s in starred.song or []] == [songs[0].id]
        await c.unstar(sids=[songs[0].id], album_ids=[album.id], artist_ids=[artist.id])
        await c.set_rating(songs[0].id, 3)
        assert (await c.get_song(songs[0].id)).user_rating == 3
        await c.set_rating(songs[0].id, 0)
        name = f"opensonic-{secrets.token_hex(3)}"
        await c.create_playlist(name=name, song_ids=[s.id for s in songs])
        pl = next(p for p in await c.get_playlists() if p.name == name)
        full = await c.get_playlist(pl.id)
        assert [e.id for e in full.entry or []] == [s.id for s in songs] and full.duration >= 0
        await c.delete_playlist(pl.id)
        await c.scrobble(songs[0].id, submission=False)
        assert songs[0].id in [e.id for e in await c.get_now_playing()]
        await c.report_playback(songs[0].id, "song", 500, "paused")
        lyrics = await c.get_lyrics_by_song_id(songs[2].id)
        assert lyrics[0].synced and (lyrics[0].line or [])[0].start is not None
        plain = await c.get_lyrics(artist="Été Çiçek", title="Où est l'été?")
        assert plain.value.startswith("Où est l'été")
        await c.create_bookmark(songs[0].id, 2000, "here")
        marks = await c.get_bookmarks()
        assert marks[0].entry.id == songs[0].id and marks[0].position == 2000
        await c.delete_bookmark(songs[0].id)
        await c.save_play_queue_by_index([songs[0].id, songs[0].id], current_index=1, position=5)
        q = await c.get_play_queue_by_index()
        assert q.current_index == 1 and [e.id for e in q.entry or []] == [songs[0].id] * 2
        pq = await c.get_play_queue()
        assert pq.current == songs[0].id
        share = await c.create_share([album.id], description="listen")
        assert share.url.endswith(share.id) and len(share.entry or []) == 3
        assert [s.id for s in await c.get_shares()] == [share.id]
        await c.delete_share(share.id)
        st = await c.get_scan_status()
        assert st.scanning is False
        me = await c.get_user("bob")
        assert me.username == "bob" and me.stream_role and not me.admin_role
        r = await c.stream(songs[0].id, tformat="raw")
        assert await r.read() == (built_library.root / songs[0].path).read_bytes()  # type: ignore[operator]
        cover = await c.get_cover_art(songs[0].cover_art or "", size=32)
        assert (await cover.read())[:2] in (b"\x89P", b"\xff\xd8")
    finally:
        await c.cleanup()


async def test_py_opensonic_with_an_api_key(live_server: LiveServer) -> None:
    with live_server.client("alice") as web:
        made = web.post("/v1/me/api-keys", json={"name": "py-opensonic"}).json()
    u = urllib.parse.urlsplit(live_server.base)
    c = libopensonic.AsyncConnection(f"http://{u.hostname}", port=u.port or 80, api_key=made["key"],
                                     app_name="musicd-tests")
    try:
        assert await c.ping() is True
        assert (await c.get_user("alice")).username == "alice"
    finally:
        await c.cleanup()
        with live_server.client("alice") as web:
            web.delete(f"/v1/me/api-keys/{made['id']}")
