"""Recommendations on a live server: real audio analysed in the background, plays scrobbled by py-sonic,
the model trained by the background trainer; spotipy drives `recommendations` and
`recommendation_genre_seeds`, py-sonic the Subsonic similar songs, top songs and similar artists, httpx
/v1/me/recommendations, stations and the errors."""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Iterator
from typing import Any

import httpx
import libsonic
import pytest
import spotipy

from musicd.devtools.analysis_audio import Piece, encode, music_like
from musicd.devtools.library_builder import ExpectedTrack, write_tags
from tests.integration.recommend_support import metric, wait_for_model
from tests.live import USERS, LiveServer, start_server

# (title, artist, genre, piece): two calm acoustic-ish artists and one fast bright one.
SONGS = [
    ("Slow One", "Calm Cat", "Ambient", Piece(bpm=70, key=2, mode=0, seconds=14, brightness=0.1, seed=1)),
    ("Slow Two", "Calm Cat", "Ambient", Piece(bpm=72, key=2, mode=0, seconds=14, brightness=0.15, seed=2)),
    ("Slow Three", "Calm Cat", "Ambient", Piece(bpm=75, key=9, mode=0, seconds=14, brightness=0.2, seed=3)),
    ("Quiet Field", "Still Water", "Ambient", Piece(bpm=68, key=5, mode=1, seconds=14, brightness=0.1, seed=4)),
    ("Quiet Lake", "Still Water", "Ambient", Piece(bpm=74, key=5, mode=1, seconds=14, brightness=0.12, seed=5)),
    ("Fast One", "Neon Run", "Techno", Piece(bpm=140, key=7, mode=1, seconds=14, brightness=0.9, seed=6)),
    ("Fast Two", "Neon Run", "Techno", Piece(bpm=138, key=7, mode=1, seconds=14, brightness=0.85, seed=7)),
    ("Fast Three", "Neon Run", "Techno", Piece(bpm=142, key=0, mode=1, seconds=14, brightness=0.8, seed=8)),
    ("Fast Four", "Pulse Unit", "Techno", Piece(bpm=136, key=0, mode=1, seconds=14, brightness=0.95, seed=9)),
    ("Fast Five", "Pulse Unit", "Techno", Piece(bpm=144, key=4, mode=1, seconds=14, brightness=0.9, seed=10)),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("rec-live") / "Music"
    for n, (title, artist, genre, piece) in enumerate(SONGS, start=1):
        path = root / artist / f"{n:02d} {title}.flac"
        encode(path, music_like(piece))
        write_tags(path, ExpectedTrack(
            path="", title=title, artist=artist, artists=(artist,), album=f"{artist} Album", album_artist=artist,
            compilation=False, track=n, track_total=None, disc=None, disc_total=None, year=2020, genres=(genre,),
            format="flac", duration=piece.seconds))
    with start_server(tmp_path_factory.mktemp("rec-srv"), root, MUSICD_ANALYSIS_BACKGROUND="true",
                      MUSICD_ANALYSIS_WORKERS="2", MUSICD_RECOMMEND_REBUILD_AFTER_PLAYS="1",
                      MUSICD_RECOMMEND_CHECK_SECONDS="3600", MUSICD_TRANSCODE_PRE_TRANSCODE="false") as srv:
        yield srv


def _wait(what: str, ok: object, seconds: float = 240) -> None:
    deadline = time.monotonic() + seconds
    while not ok():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.3)


def _sonic(srv: LiveServer, name: str) -> libsonic.Connection:
    u = urllib.parse.urlsplit(srv.base)
    return libsonic.Connection(f"http://{u.hostname}", name, USERS[name][0], port=u.port or 80, serverPath="/rest",
                               appName="musicd-tests")


@pytest.fixture(scope="module")
def ids(server: LiveServer) -> dict[str, str]:
    """Track ids by title, once the analysis is done and alice's and bob's plays trained a model."""
    by_title: dict[str, str] = {}
    with server.client("admin") as c:
        for title, *_ in SONGS:
            found = c.get("/v1/search", params={"q": title, "type": "track"}).json()["tracks"]["items"]
            by_title.update({t["name"]: t["id"] for t in found if t["name"] == title})
    assert set(by_title) >= {s[0] for s in SONGS}, by_title
    _wait("analysis", lambda: 'musicd_analysis_tracks{state="ok"} 10.0' in httpx.get(f"{server.base}/metrics").text
          and metric(server, "musicd_analysis_queue") == 0)
    # alice listens to the calm ones in sessions; bob to calm and fast ones.
    now_s = int(time.time()) - 3 * 86400
    plays = {"alice": ["Slow One", "Slow Two", "Quiet Field", "Slow One", "Slow Two", "Quiet Field"],
             "bob": ["Slow One", "Slow Two", "Slow Three", "Fast One", "Fast Two", "Slow One", "Slow Two",
                     "Slow Three"]}
    total = 0
    for name, titles in plays.items():
        sonic = _sonic(server, name)
        for k, title in enumerate(titles):
            sonic.scrobble(by_title[title], submission=True, listenTime=now_s + k * 200)
            total += 1
    wait_for_model(server, total)
    return by_title


def _spotipy(server: LiveServer, name: str) -> spotipy.Spotify:
    sp = spotipy.Spotify(auth=str(server.login(name)["access_token"]), requests_timeout=30, retries=0)
    sp.prefix = server.base + "/v1/"
    return sp


def test_spotipy_recommendations_and_genre_seeds(server: LiveServer, ids: dict[str, str]) -> None:
    sp = _spotipy(server, "alice")
    assert sp.recommendation_genre_seeds() == {"genres": ["ambient", "techno"]}
    res = sp.recommendations(seed_tracks=[f"spotify:track:{ids['Fast One']}"], limit=4)
    assert [s["type"] for s in res["seeds"]] == ["TRACK"] and res["seeds"][0]["id"] == ids["Fast One"]
    seed = res["seeds"][0]
    assert seed["initialPoolSize"] >= seed["afterFilteringSize"] >= len(res["tracks"]) == 4
    assert seed["href"] == f"{server.base}/v1/tracks/{ids['Fast One']}"
    names = [t["name"] for t in res["tracks"]]
    assert "Fast One" not in names
    # Fast Two was played with it (and sounds like it); the unplayed fast ones come by their sound alone.
    assert names[0] == "Fast Two", names
    unplayed = [t for t in res["tracks"] if t["name"] in ("Fast Three", "Fast Four", "Fast Five")]
    assert unplayed and all(t["reason"]["type"] == "sounds_like" for t in unplayed), res["tracks"]
    assert unplayed[0]["reason"]["text"] == "Similar tempo and timbre to Fast One"
    for t in res["tracks"]:
        assert t["uri"] == f"spotify:track:{t['id']}" and t["reason"]["text"] and t["reason"]["type"]
    # Tunable attributes: bounds as the analyser measured the tracks.
    features = {f["id"]: f for f in _features(server, list(ids.values()))}
    tempos = sorted(f["tempo"] for f in features.values() if f["tempo"] is not None)
    assert len(tempos) >= 8, features
    bound = tempos[4]
    bounded = sp.recommendations(seed_genres=["ambient", "techno"], limit=10, max_tempo=bound, target_tempo=tempos[0])
    assert bounded["tracks"] and all(features[t["id"]]["tempo"] <= bound for t in bounded["tracks"])
    assert [s["type"] for s in bounded["seeds"]] == ["GENRE", "GENRE"]
    assert all(s["initialPoolSize"] >= s["afterFilteringSize"] and s["href"] is None for s in bounded["seeds"])
    by_artist = sp.recommendations(seed_artists=[f"spotify:artist:{_artist_id(server, ids['Quiet Field'])}"],
                                   limit=3)
    assert by_artist["seeds"][0]["type"] == "ARTIST" and len(by_artist["tracks"]) == 3
    with pytest.raises(spotipy.SpotifyException) as e:
        sp.recommendations(seed_tracks=[ids["Fast One"]], min_energy=0.9, max_energy=0.1)
    assert e.value.http_status == 400


def _features(server: LiveServer, track_ids: list[str]) -> list[dict[str, Any]]:
    with server.client("alice") as c:
        return list(c.get("/v1/audio-features", params={"ids": ",".join(track_ids)}).json()["audio_features"])


def _artist_id(server: LiveServer, track_id: str) -> str:
    with server.client("alice") as c:
        return str(c.get(f"/v1/tracks/{track_id}").json()["artists"][0]["id"])


def test_me_recommendations_stations_and_errors(server: LiveServer, ids: dict[str, str]) -> None:
    with server.client("alice") as c:
        r = c.get("/v1/me/recommendations", params={"limit": 5})
        assert r.status_code == 200, r.text
        tracks = r.json()["tracks"]
        names = [t["name"] for t in tracks]
        assert len(tracks) == 5 and not {"Slow One", "Slow Two", "Quiet Field"} & set(names)
        # bob played Slow Three right after Slow One and Slow Two: co-listening puts it first for alice.
        assert names[0] == "Slow Three" and tracks[0]["reason"]["type"] == "played_with"
        assert tracks[0]["reason"]["text"] in ("Because you played Slow One", "Because you played Slow Two")
        uri = f"spotify:station:artist:{_artist_id(server, ids['Fast One'])}"
        st = c.get(f"/v1/stations/{uri}", params={"limit": 15}).json()
        assert st["uri"] == uri and st["type"] == "station" and st["name"] == "Neon Run Radio"
        assert len(st["tracks"]["items"]) == 15 and st["tracks"]["next"].endswith("offset=15&limit=15")
        more = c.get(st["tracks"]["next"]).json()["tracks"]["items"]
        again = c.get(f"/v1/stations/{uri}", params={"offset": 15, "limit": 15}).json()["tracks"]["items"]
        assert [t["id"] for t in more] == [t["id"] for t in again]
        played = [t["id"] for t in st["tracks"]["items"] + more]
        for k in range(len(played)):  # ten tracks: each plays once before any comes back
            assert len(set(played[max(0, k - 9): k + 1])) == len(played[max(0, k - 9): k + 1])
        for path, params, status, code in (
            ("/v1/recommendations", {}, 400, "bad_seeds"),
            ("/v1/recommendations", {"seed_tracks": ",".join([ids["Fast One"]] * 6)}, 400, None),
            ("/v1/recommendations", {"seed_tracks": "0" * 22}, 404, "track_not_found"),
            ("/v1/recommendations", {"seed_genres": "polka"}, 404, "genre_not_found"),
            ("/v1/recommendations", {"seed_tracks": ids["Fast One"], "min_tempo": "200", "max_tempo": "100"}, 400,
             "contradictory_attributes"),
            ("/v1/recommendations", {"seed_tracks": ids["Fast One"], "target_speechiness": "0.1"}, 400,
             "unsupported_attribute"),
            ("/v1/recommendations", {"seed_tracks": ids["Fast One"], "limit": "0"}, 400, None),
            ("/v1/me/recommendations", {"limit": "101"}, 400, None),
            ("/v1/stations/spotify:station:song:abc", {}, 400, "bad_station"),
            (f"/v1/stations/spotify:station:track:{'0' * 22}", {}, 404, "track_not_found"),
            (f"/v1/stations/spotify:station:track:{ids['Fast One']}", {"offset": "10001"}, 400, None),
        ):
            r = c.get(path, params=params)
            assert r.status_code == status, (path, params, r.text)
            err = r.json()["error"]
            assert err["status"] == status and (code is None or err["code"] == code), (path, params, err)
    assert httpx.get(f"{server.base}/v1/me/recommendations", timeout=10).status_code == 401


def test_subsonic_similar_and_top_songs_with_py_sonic(server: LiveServer, ids: dict[str, str]) -> None:
    sonic = _sonic(server, "alice")
    similar = sonic.getSimilarSongs(ids["Slow One"], count=4)["similarSongs"]["song"]
    assert len(similar) == 4 and ids["Slow One"] not in {s["id"] for s in similar}
    calm = _artist_id(server, ids["Slow One"])
    similar2 = sonic.getSimilarSongs2(calm, count=5)["similarSongs2"]["song"]
    assert similar2 and all(s["artistId"] != calm for s in similar2)
    top = sonic.getTopSongs("Calm Cat", count=3)["topSongs"]["song"]
    # Slow One and Slow Two were played most (four times each), Slow Three once.
    assert [s["title"] for s in top][:2] in (["Slow One", "Slow Two"], ["Slow Two", "Slow One"])
    info = sonic.getArtistInfo2(calm, count=3)["artistInfo2"]
    similar_artists = info["similarArtist"] if isinstance(info["similarArtist"], list) else [info["similarArtist"]]
    assert similar_artists[0]["name"] == "Still Water"  # played with Calm Cat, and sounds like it
    assert sonic.getArtistInfo(calm, count=2)["artistInfo"]["similarArtist"]
    with pytest.raises(libsonic.errors.DataNotFoundError):
        sonic.getSimilarSongs("0" * 22, count=3)


def test_made_for_you_in_featured(server: LiveServer, ids: dict[str, str]) -> None:
    with server.client("alice") as c:
        featured = c.get("/v1/browse/featured-playlists", params={"limit": 50}).json()["playlists"]["items"]
        names = [p["name"] for p in featured]
        assert "Discover Weekly" in names and "Daily Mix 1" in names and "On Repeat" in names
        discover = next(p for p in featured if p["name"] == "Discover Weekly")
        tracks = c.get(f"/v1/playlists/{discover['id']}/tracks").json()["items"]
        assert tracks and not {t["track"]["name"] for t in tracks} & {"Slow One", "Slow Two", "Quiet Field"}
        daily = next(p for p in featured if p["name"] == "Daily Mix 1")
        assert daily["description"].startswith("Because you play ")
    with server.client("guest") as c:
        names = [p["name"] for p in c.get("/v1/browse/featured-playlists").json()["playlists"]["items"]]
        assert "Daily Mix 1" not in names  # a guest's listening is not recorded: nothing of theirs to mix
