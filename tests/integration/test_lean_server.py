"""The serving process stays lean (issue 20): browsing, searching, streaming (raw and transcoded), recording
plays and training the recommendation models never load numpy, scipy or `implicit` into the server (the
models are trained in a short-lived process, and only once there is a history to learn from); only a
request that needs the models loads numpy."""

from __future__ import annotations

import contextlib
import time
import urllib.parse
from pathlib import Path

import libsonic
import pytest

from musicd.devtools.library_builder import BuiltLibrary
from musicd.devtools.processes import process_tree
from tests.integration.recommend_support import metric, wait_for_model
from tests.live import USERS, LiveServer, start_server

HEAVY = ("numpy", "scipy", "implicit")


def _heavy_loaded(pid: int) -> set[str]:
    """Which of HEAVY the process has loaded: their compiled modules and bundled libraries are mapped files
    (numpy/_core/_multiarray_umath...so, numpy.libs/libopenblas...so, scipy/sparse/..., implicit/cpu/...)."""
    found = set()
    for line in Path(f"/proc/{pid}/maps").read_text().splitlines():
        path = line.split(maxsplit=5)[5] if len(line.split(maxsplit=5)) == 6 else ""
        for name in HEAVY:
            if f"/{name}/" in path or f"/{name}.libs/" in path:
                found.add(name)
    return found


def _python_children(pid: int) -> list[str]:
    """The Python processes the server runs now (a finished build leaves none, nor a helper of it)."""
    out = []
    for child in process_tree(pid)[1:]:
        with contextlib.suppress(OSError):
            cmd = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            if "python" in Path(f"/proc/{child}/comm").read_text() or "python" in cmd.split(" ")[0]:
                out.append(cmd)
    return out


def _sonic(srv: LiveServer, name: str) -> libsonic.Connection:
    u = urllib.parse.urlsplit(srv.base)
    return libsonic.Connection(f"http://{u.hostname}", name, USERS[name][0], port=u.port or 80, serverPath="/rest",
                               appName="musicd-tests")


@pytest.mark.slow
def test_serving_and_training_never_load_numpy_scipy_or_implicit(built_library: BuiltLibrary, tmp_path: Path) -> None:
    with start_server(tmp_path, built_library.root, MUSICD_RECOMMEND_REBUILD_AFTER_PLAYS="1",
                      MUSICD_RECOMMEND_CHECK_SECONDS="0.5", MUSICD_TRANSCODE_PRE_TRANSCODE="false") as srv:
        pid = srv.proc.pid
        alice, bob = _sonic(srv, "alice"), _sonic(srv, "bob")
        assert alice.getArtists()["artists"]["index"]
        songs = alice.search3("", songCount=20, artistCount=0, albumCount=0)["searchResult3"]["song"]
        ids = [s["id"] for s in songs if s.get("suffix") == "flac"][:4] or [s["id"] for s in songs[:4]]
        assert len(ids) >= 2
        assert alice.stream(ids[0], tformat="raw").read()
        assert alice.stream(ids[1], tformat="ogg", maxBitRate=96).read()[:4] == b"OggS"
        # No history yet: nothing to learn, no build (the trainer checks every 0.5 s).
        time.sleep(2)
        assert metric(srv, 'musicd_recommend_builds_total{outcome="done"}') == 0
        assert _python_children(pid) == []
        # Two users' plays: the build after them trains every model, the factors (`implicit`) included.
        now_s = int(time.time()) - 86400
        for k, sid in enumerate(ids * 2):
            alice.scrobble(sid, submission=True, listenTime=now_s + k * 200)
            bob.scrobble(sid, submission=True, listenTime=now_s + k * 200 + 50)
        wait_for_model(srv, 4 * len(ids))
        assert metric(srv, 'musicd_recommend_builds_total{outcome="done"}') >= 1
        assert _heavy_loaded(pid) == set(), srv.log()[-2000:]
        deadline = time.monotonic() + 30  # the build's process exits right after its answer
        while (left := _python_children(pid)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert left == []

        # The check sees them once a request needs the models.
        with srv.client("alice") as c:
            r = c.get("/v1/me/recommendations", params={"limit": 5})
            assert r.status_code == 200, r.text
        assert "numpy" in _heavy_loaded(pid)
