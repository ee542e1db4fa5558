"""A `musicd speaker --sink null` whose server goes away (killed, then started again on the same port and
data dir): the speaker plays on from what it has decoded, reconnects with backoff, registers as the same
device and resumes the server-held state; the position stays continuous (issue 14, "reconnects with
backoff, playing out its buffer meanwhile")."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
import pytest

from musicd.devtools.speakers import SpeakerProcess, build_long_library
from tests.live import REPO_ROOT, serve, start_server

# What a listener may lose across the outage: the reports' position against the wall clock.
CONTINUITY_MS = 1000


def _player(base: str, token: str) -> dict[str, object]:
    r = httpx.get(f"{base}/v1/me/player", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


@pytest.mark.slow
def test_speaker_plays_through_a_server_restart(tmp_path: Path) -> None:
    lib = build_long_library(tmp_path / "Music", tracks=2, seconds=120.0)
    with start_server(tmp_path, lib) as server:
        port = int(server.base.rsplit(":", 1)[1])
        data_dir = server.data_dir
        with server.client("alice") as c:
            key = c.post("/v1/me/api-keys", json={"name": "speaker"}).json()["key"]
            album = c.get("/v1/search", params={"q": "Long Album", "type": "album"}).json()["albums"]["items"][0]
        speaker = SpeakerProcess(server.base, "Kitchen", tmp_path / "state", api_key=key, cwd=REPO_ROOT)
        try:
            device = speaker.ready()
            token = server.token("alice")  # an access token outlives a restart (signed, not stored)
            r = httpx.put(f"{server.base}/v1/me/player/play", params={"device_id": device},
                          headers={"Authorization": f"Bearer {token}"}, json={"context_uri": album["uri"]},
                          timeout=10)
            assert r.status_code == 204, r.text
            speaker.wait("playing", 15)
            time.sleep(2.0)
            before = speaker.wait("report", 5, lambda e: e["position_ms"] > 1500)
            # The server dies without a goodbye.
            mark = len(speaker.events)
            os.killpg(server.proc.pid, signal.SIGKILL)  # granian's worker with it
            server.proc.wait()
            speaker.wait("disconnected", 15, after=mark)
            time.sleep(1.0)
        except BaseException:
            speaker.stop()
            raise
    try:
        # Started again where it was: the speaker comes back by itself, as the same device.
        with serve(tmp_path, data_dir, lib, port=port, MUSICD_LIBRARY_SCAN_ON_START="never") as again:
            assert speaker.wait("ready", 60, after=mark)["device_id"] == device
            after = speaker.wait("report", 15, lambda e: e["t"] > before["t"] + 1000, mark)
            # It went on from where it was: no stop, and the position moved with the wall clock.
            assert not [e for e in speaker.events[mark:] if e["event"] == "stopped"]
            expected = before["position_ms"] + (after["t"] - before["t"])
            assert abs(after["position_ms"] - expected) <= CONTINUITY_MS, (before, after)
            # The server's state follows the reconnected device again.
            deadline = time.monotonic() + 10
            while True:
                st = _player(again.base, token)
                if st["device"] and st["device"]["id"] == device and st["is_playing"]:  # type: ignore[index]
                    break
                assert time.monotonic() < deadline, st
                time.sleep(0.2)
            p1 = int(st["progress_ms"])  # type: ignore[arg-type]
            time.sleep(1.5)
            p2 = int(_player(again.base, token)["progress_ms"])  # type: ignore[arg-type]
            assert 1000 <= p2 - p1 <= 2500
    finally:
        speaker.stop()


