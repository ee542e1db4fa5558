"""The background analyser on a real scanned library: results stored per track as they are made, a
restart resumes, moves keep the features, changed files are analysed again, failures are not retried
on every pass, and the CLI and /metrics show progress."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from musicd.devtools.analysis_audio import Piece, encode, music_like
from musicd.errors import NotFoundError
from musicd.services.registry import Services
from tests.live import REPO_ROOT, server_env

PIECES = {"waltz.flac": Piece(bpm=90, key=4, mode=1, beats_per_bar=3, seconds=16, seed=1),
          "house.mp3": Piece(bpm=124, key=9, mode=0, seconds=16, brightness=0.9, seed=2),
          "ballad.ogg": Piece(bpm=72, key=2, mode=1, seconds=16, brightness=0.1, drums=True, seed=3),
          "march.flac": Piece(bpm=110, key=7, mode=1, seconds=16, seed=4)}


@pytest.fixture(scope="module")
def analysis_library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("analysis-lib")
    for name, piece in PIECES.items():
        encode(root / "Album" / name, music_like(piece), name.rsplit(".", 1)[1])
    encode(root / "Album" / "silence.flac", np.zeros(44100 * 10, np.float32))
    return root


@pytest.fixture
def library(analysis_library: Path, tmp_path: Path) -> Path:
    dest = tmp_path / "lib"
    shutil.copytree(analysis_library, dest)
    return dest


async def _ids(s: Services) -> dict[str, str]:
    return {Path(r.path).name: r.id for r in await s.transcoding.lookup.all_sources()}


async def test_a_pass_stores_results_per_track_and_a_restart_resumes(services_for, library: Path,
                                                                     tmp_path: Path) -> None:
    data = tmp_path / "data"
    async with services_for(library, data_dir=data) as s:
        await s.library.scan()
        st = await s.analysis.status()
        assert (st.tracks, st.pending, st.ok) == (5, 5, 0)
        first = await s.analysis.run_pass(limit=2)
        assert first.analysed + first.silent == 2 and first.cpu_s > 0
    async with services_for(library, data_dir=data) as s:  # a restart: the two stay done
        st = await s.analysis.status()
        assert st.pending == 3 and st.ok + st.silent == 2
        seen: list[tuple[int, int]] = []
        rest = await s.analysis.run_pass(lambda d, t: seen.append((d, t)))
        assert rest.analysed + rest.silent == 3 and seen[-1] == (3, 3)
        st = await s.analysis.status()
        assert (st.ok, st.silent, st.failed, st.pending) == (4, 1, 0, 0)
        ids = await _ids(s)
        found = {name: f for name, f in zip(ids, await s.analysis.audio_features(list(ids.values())), strict=True)}
        for name, piece in PIECES.items():
            f = found[name]
            assert f is not None and f.analysis.status == "ok", name
            assert f.analysis.key == piece.key and f.analysis.mode == piece.mode, (name, f.analysis)
            # Tempo octaves are the known-truth tests' business (tests/unit/analysis); here: the right pulse.
            assert f.analysis.tempo is not None, name
            assert min(abs(f.analysis.tempo / (piece.bpm * m) - 1) for m in (0.5, 1, 2)) < 0.02, (name, f.analysis)
            assert abs(f.duration - 16) < 0.1
        assert found["silence.flac"] is not None and found["silence.flac"].analysis.status == "silent"
        assert found["waltz.flac"].analysis.time_signature == 3
        m = await s.analysis.features()
        assert len(m) == 4 and m.timbre.shape[1] == 24
        assert m.nearest(ids["house.mp3"], 1)[0][0] != ids["house.mp3"]
        assert (await s.analysis.run_pass()).analysed == 0  # nothing left


@pytest.mark.slow
async def test_moves_keep_features_and_changed_or_broken_files_are_handled(services_for, library: Path) -> None:
    async with services_for(library) as s:
        await s.library.scan()
        # A file damaged after the scan: it fails once, later passes skip it, a retry tries it again.
        broken = library / "Album" / "ballad.ogg"
        broken.write_bytes(b"\0" * broken.stat().st_size)
        first = await s.analysis.run_pass()
        assert (first.analysed, first.silent, first.failed) == (3, 1, 1)
        st = await s.analysis.status()
        assert st.failed == 1 and st.pending == 0
        later = await s.analysis.run_pass()
        assert (later.analysed, later.failed, later.skipped) == (0, 0, 1)
        ids = await _ids(s)
        with pytest.raises(NotFoundError) as e:
            await s.analysis.track_features(ids["ballad.ogg"])
        assert e.value.code == "audio_analysis_failed"
        assert (await s.analysis.audio_features([ids["ballad.ogg"], "nope"])) == [None, None]
        assert (await s.analysis.run_pass(retry_failed=True)).failed == 1

        # A move: same track id, same features, nothing to analyse again.
        before = (await s.analysis.track_features(ids["march.flac"])).analysis
        (library / "Moved").mkdir()
        (library / "Album" / "march.flac").rename(library / "Moved" / "march-renamed.flac")
        summary = await s.library.scan()
        assert summary.moved == 1
        assert (await _ids(s))["march-renamed.flac"] == ids["march.flac"]
        assert (await s.analysis.status()).pending == 0
        assert (await s.analysis.track_features(ids["march.flac"])).analysis == before

        # New content under the same path: analysed again, with the new tempo.
        encode(library / "Album" / "house.mp3", music_like(Piece(bpm=150, key=1, mode=1, seconds=14, seed=9)), "mp3")
        await s.library.scan()
        assert (await s.analysis.status()).pending == 1
        assert (await s.analysis.run_pass()).analysed == 1
        assert abs((await s.analysis.track_features(ids["house.mp3"])).analysis.tempo / 150 - 1) < 0.02

        # A removed track takes its features with it.
        (library / "Album" / "waltz.flac").unlink()
        await s.library.scan()
        st = await s.analysis.status()
        assert st.tracks == 4 and st.pending == 0
        with pytest.raises(NotFoundError) as e:
            await s.analysis.track_features(ids["waltz.flac"])
        assert e.value.code == "track_not_found"


def _musicd(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "musicd", *args], env=env, capture_output=True, text=True,
                          timeout=300, cwd=REPO_ROOT)


@pytest.mark.slow
def test_analyze_cli_status_and_run(library: Path, tmp_path: Path) -> None:
    env = server_env(tmp_path / "data", library, MUSICD_ANALYSIS_WORKERS="2")
    assert _musicd("scan", "--json", env=env).returncode == 0
    r = _musicd("analyze", "status", "--json", env=env)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["pending"] == 5
    r = _musicd("analyze", "run", "--limit", "3", "--json", env=env)
    assert r.returncode == 0, r.stderr
    done = json.loads(r.stdout)
    assert done["analysed"] + done["silent"] == 3 and done["cpu_s"] > 0
    r = _musicd("analyze", "run", env=env)
    assert r.returncode == 0, r.stderr
    assert "analysed" in r.stdout and "skipped" in r.stdout
    r = _musicd("analyze", "status", env=env)
    assert "tracks: 5/5 analysed (100.0 %): 4 ok, 1 silent, 0 failed; 0 to do" in r.stdout, r.stdout
