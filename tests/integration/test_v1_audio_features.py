"""GET /v1/audio-features/{id} and ?ids= on a live server whose background analyser has run, driven by
spotipy's own `audio_features` (and its own id validation)."""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
import spotipy

from musicd.devtools.analysis_audio import Piece, encode, music_like
from tests.live import LiveServer, start_server

PIECES = {"one.flac": Piece(bpm=120, key=7, mode=1, seconds=14, brightness=0.1, seed=11),
          "two.mp3": Piece(bpm=100, key=9, mode=0, seconds=14, brightness=0.8, seed=12)}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("af-lib")
    for name, piece in PIECES.items():
        encode(root / name, music_like(piece), name.rsplit(".", 1)[1])
    encode(root / "quiet.flac", np.zeros(44100 * 9, np.float32))
    broken = root / "broken.mp3"
    encode(broken, music_like(Piece(bpm=90, seconds=9)), "mp3")
    with start_server(tmp_path_factory.mktemp("af-srv"), root, MUSICD_ANALYSIS_BACKGROUND="true",
                      MUSICD_ANALYSIS_WORKERS="2") as srv:
        # Damaged after the scan, before the background pass reaches it.
        broken.write_bytes(b"\xff" * broken.stat().st_size)
        yield srv


def _ids(srv: LiveServer, names: tuple[str, ...] = ("one", "two", "quiet", "broken")) -> dict[str, str]:
    """Track ids by title (untagged files are titled by their file name), found through search."""
    out = {}
    with srv.client("admin") as c:
        for name in names:
            items = c.get("/v1/search", params={"q": name, "type": "track"}).json()["tracks"]["items"]
            out.update({t["name"]: t["id"] for t in items if t["name"] == name})
    return out


def _wait_analysed(srv: LiveServer, ids: list[str]) -> list[dict | None]:
    deadline = time.monotonic() + 240
    with srv.client("admin") as c:
        while True:
            metrics = httpx.get(f"{srv.base}/metrics", timeout=10).text
            if 'musicd_analysis_tracks{state="pending"} 0.0' in metrics and "musicd_analysis_queue 0.0" in metrics:
                break
            assert time.monotonic() < deadline, metrics
            time.sleep(0.5)
        assert 'musicd_analysis_tracks{state="ok"} 2.0' in metrics
        assert 'musicd_analysis_tracks{state="silent"} 1.0' in metrics
        assert 'musicd_analysis_tracks{state="failed"} 1.0' in metrics
        assert 'musicd_analyses_total{outcome="ok"} 2.0' in metrics
        return c.get("/v1/audio-features", params={"ids": ",".join(ids)}).json()["audio_features"]


def test_background_analysis_then_spotipy_audio_features(server: LiveServer) -> None:
    ids = _ids(server)
    assert set(ids) == {"one", "two", "quiet", "broken"}
    _wait_analysed(server, list(ids.values()))

    token = server.login("alice")["access_token"]
    sp = spotipy.Spotify(auth=str(token), requests_timeout=10, retries=0)
    sp.prefix = server.base + "/v1/"
    warnings.simplefilter("ignore", DeprecationWarning)  # spotipy marks audio_features as retired by Spotify
    order = ["one", "two", "quiet", "broken"]
    found = sp.audio_features([f"spotify:track:{ids[n]}" for n in order])
    assert len(found) == 4
    one, two, quiet, broken = found
    assert broken is None  # could not be analysed: null, as Spotify does for tracks it has no features of
    for obj, name in ((one, "one"), (two, "two")):
        piece = PIECES[f"{name}.flac" if name == "one" else f"{name}.mp3"]
        assert obj["id"] == ids[name] and obj["uri"] == f"spotify:track:{ids[name]}" and obj["type"] == "audio_features"
        assert obj["track_href"] == f"{server.base}/v1/tracks/{ids[name]}"
        assert abs(obj["tempo"] / piece.bpm - 1) < 0.02 and obj["key"] == piece.key and obj["mode"] == piece.mode
        assert abs(obj["duration_ms"] - 14000) < 100 and obj["time_signature"] == 4
        assert -30 < obj["loudness"] < -5
        for k in ("danceability", "energy", "acousticness", "valence", "tempo_confidence", "key_confidence"):
            assert 0 <= obj[k] <= 1, (k, obj[k])
        for k in ("speechiness", "instrumentalness", "liveness", "analysis_url"):
            assert k in obj and obj[k] is None
    assert two["brightness"] > one["brightness"]
    assert quiet["tempo"] == 0 and quiet["energy"] == 0 and quiet["loudness"] == -70.0 and quiet["key"] == -1
    # One id as a string goes through spotipy's single-id path.
    assert sp.audio_features(ids["one"])[0]["id"] == ids["one"]


def test_single_track_endpoint_and_errors(server: LiveServer) -> None:
    ids = _ids(server)
    _wait_analysed(server, list(ids.values()))
    with server.client("guest") as c:  # reading features is for every account, guests included
        r = c.get(f"/v1/audio-features/{ids['one']}")
        assert r.status_code == 200 and r.json()["id"] == ids["one"]
        r = c.get(f"/v1/audio-features/spotify:track:{ids['two']}")
        assert r.status_code == 200 and r.json()["id"] == ids["two"]
        for track, code in (("0" * 22, "track_not_found"), (ids["broken"], "audio_analysis_failed")):
            r = c.get(f"/v1/audio-features/{track}")
            assert r.status_code == 404 and r.json()["error"]["code"] == code, r.text
        r = c.get("/v1/audio-features", params={"ids": f"{ids['one']},{'1' * 22},{ids['one']}"})
        assert r.status_code == 200
        assert [f and f["id"] for f in r.json()["audio_features"]] == [ids["one"], None, ids["one"]]
        for bad in ({"ids": ""}, {"ids": ",".join([ids["one"]] * 101)}, {"ids": "spotify:album:abc"}, {}):
            r = c.get("/v1/audio-features", params=bad)
            assert r.status_code == 400 and r.json()["error"]["status"] == 400, (bad, r.text)
        r = c.get("/v1/audio-features/bad id!")
        assert r.status_code == 400
    assert httpx.get(f"{server.base}/v1/audio-features/{ids['one']}", timeout=10).status_code == 401


def test_a_track_not_analysed_yet_is_404_not_ready(tmp_path: Path) -> None:
    encode(tmp_path / "lib" / "later.flac", music_like(Piece(bpm=110, seconds=9)))
    with start_server(tmp_path / "srv", tmp_path / "lib") as srv:  # background analysis off
        ids = _ids(srv, ("later",))
        with srv.client("alice") as c:
            r = c.get(f"/v1/audio-features/{ids['later']}")
            assert r.status_code == 404 and r.json()["error"]["code"] == "audio_features_not_ready"
            assert c.get("/v1/audio-features", params={"ids": ids["later"]}).json() == {"audio_features": [None]}
