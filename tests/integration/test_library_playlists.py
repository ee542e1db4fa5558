"""Playlist files in the library folders (.m3u, .m3u8) become playlists of the household after a scan:
relative paths against the file's folder, absolute paths and #EXTINF names matched; a changed file updates
its playlist in place; a playlist deleted by hand stays deleted while its file is unchanged."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.fed_support import Song, build_library, wait_for
from tests.live import LiveServer, start_server


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, Path]]:
    root = tmp_path_factory.mktemp("m3u")
    lib = build_library(root / "Music", [Song("Ana", "First", "Alpha"), Song("Ana", "First", "Beta"),
                                         Song("Bo", "Second", "Gamma"), Song("Bo", "Second", "Delta")],
                        root / "templates")
    (lib / "Playlists").mkdir()
    (lib / "Playlists" / "Road trip.m3u8").write_text(
        "#EXTM3U\n#PLAYLIST:Road trip\n../Bo/Second/01 Gamma.mp3\n#EXTINF:1,Ana - Beta\nnowhere/beta.mp3\n"
        f"{lib}/Ana/First/01 Alpha.mp3\n../Nobody/missing.mp3\n")
    (lib / "Bo" / "mix.m3u").write_text("Second/02 Delta.mp3\n../Ana/First/02 Beta.mp3\n")
    (lib / ".hidden.m3u").write_text("Ana/First/01 Alpha.mp3\n")
    with start_server(root / "server", lib) as server:
        yield server, lib


def _scan(server: LiveServer) -> None:
    with server.client("admin") as c:
        before = c.get("/v1/admin/scan").json()["started_at"]
        assert c.post("/v1/admin/scan").status_code == 202
        wait_for(lambda: (st := c.get("/v1/admin/scan").json())["started_at"] != before and not st["running"],
                 timeout=40)


def _playlists(server: LiveServer, who: str = "alice") -> dict[str, Any]:
    with server.client(who) as c:
        return {p["name"]: p for p in c.get("/v1/users/" + server.user_id("admin") + "/playlists",
                                              params={"limit": 50}).json()["items"]}


def _names(server: LiveServer, pid: str) -> list[str]:
    with server.client("alice") as c:
        return [i["track"]["name"] for i in c.get(f"/v1/playlists/{pid}/tracks").json()["items"]]


def test_playlist_files_become_playlists_and_follow_their_files(served: tuple[LiveServer, Path]) -> None:
    server, lib = served
    _scan(server)
    pls = wait_for(lambda: (p := _playlists(server)) and len(p) >= 2 and p, timeout=20)
    assert set(pls) == {"Road trip", "mix"}  # the hidden file is left alone
    road, mix = pls["Road trip"], pls["mix"]
    assert road["public"] and road["owner"]["id"] == server.user_id("admin")
    assert _names(server, road["id"]) == ["Gamma", "Beta", "Alpha"]  # the missing line is skipped
    assert _names(server, mix["id"]) == ["Delta", "Beta"]

    # A changed file: the same playlist, its new tracks.
    m3u = lib / "Playlists" / "Road trip.m3u8"
    m3u.write_text("#EXTM3U\n../Ana/First/02 Beta.mp3\n")
    os.utime(m3u, ns=(m3u.stat().st_atime_ns, m3u.stat().st_mtime_ns + 5_000_000_000))
    _scan(server)
    wait_for(lambda: _names(server, road["id"]) == ["Beta"], timeout=20)

    # Deleted by hand: it stays deleted while its file is unchanged (a rescan does not bring it back).
    with server.client("admin") as c:
        assert c.delete(f"/v1/playlists/{mix['id']}").status_code == 204
    (lib / "later.m3u").write_text("Bo/Second/01 Gamma.mp3\n")  # its import shows that the sync has run
    _scan(server)
    after = wait_for(lambda: (p := _playlists(server)) and "later" in p and p)
    assert "mix" not in after
    assert httpx.get(f"{server.base}/v1/playlists/{road['id']}", headers=server.headers("bob")).status_code == 200
