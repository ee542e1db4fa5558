"""Offline limits set in the config, and a track removed from the library while a device keeps it offline."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from musicd.devtools.library_builder import BuiltLibrary
from tests.integration.listens_support import wait_for
from tests.integration.offline_support import register
from tests.integration.playlist_helpers import track_ids
from tests.live import start_server


@pytest.mark.slow
def test_limits_and_a_track_removed_from_the_library(library_copy: BuiltLibrary, tmp_path: Path) -> None:
    env = {"MUSICD_OFFLINE_MAX_DEVICES": "1", "MUSICD_OFFLINE_MAX_TRACKS_PER_DEVICE": "3",
           "MUSICD_TRANSCODE_PRE_TRANSCODE": "false"}
    with start_server(tmp_path / "srv", library_copy.root, **env) as server, \
            httpx.Client(base_url=server.base, timeout=30) as http:
        alice = server.headers("alice")
        dev = register(http, alice)
        r = http.post("/v1/me/devices", headers=alice, json={"name": "second", "kind": "phone"})
        assert r.status_code == 409 and r.json()["error"]["code"] == "offline_device_limit"

        tracks = track_ids(server)
        album = http.get(f"/v1/tracks/{tracks[0]}", headers=alice).json()["album"]["id"]
        n_album = http.get(f"/v1/albums/{album}/tracks", headers=alice).json()["total"]
        pid = http.post("/v1/me/playlists", headers=alice, json={"name": "away"}).json()["id"]
        uris = [f"musicd:track:{t}" for t in tracks[:3]]
        http.post(f"/v1/playlists/{pid}/tracks", headers=alice, json={"uris": uris})
        mark = {"type": "playlist", "id": pid, "quality": "original"}
        assert http.put(f"/v1/me/devices/{dev.id}/offline", headers=alice, json=mark).status_code == 201
        if n_album > 3 or not set(tracks[:3]) >= set(tracks[:n_album]):
            r = http.put(f"/v1/me/devices/{dev.id}/offline", headers=alice, json={"type": "album", "id": album})
            assert r.status_code == 409 and r.json()["error"]["code"] == "offline_track_limit"
        lic, _ = dev.heartbeat()
        assert [i.track_id for i in lic.items] == tracks[:3]
        for t in tracks[:3]:
            dev.download(t)
            assert dev.plain(t) == http.get(f"/v1/tracks/{t}/download", headers=alice).content

        # The file of one offline track goes away; after a rescan the next heartbeat removes it from the device.
        gone = tracks[1]
        info = http.get(f"/v1/tracks/{gone}", headers=alice).json()
        expected = next(t for t in library_copy.tracks if t.title == info["name"] and t.album == info["album"]["name"])
        (library_copy.root / expected.path).unlink()
        assert http.post("/v1/admin/scan", headers=server.headers("admin")).status_code == 202
        assert wait_for(lambda: http.get(f"/v1/tracks/{gone}", headers=alice).status_code == 404, timeout=60)
        lic, deleted = dev.heartbeat()
        assert deleted == [gone] and [i.track_id for i in lic.items] == [tracks[0], tracks[2]]
        r = dev.get(gone)
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_licensed"
