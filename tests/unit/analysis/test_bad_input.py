"""Undecodable, empty, silent and very long files: a clear state, never an exception, bounded work."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from musicd.analysis.analyser import analyse_file
from musicd.analysis.decode import decode_chunks, window
from musicd.analysis.pool import AnalysisPool
from musicd.devtools.analysis_audio import encode, measure_analysis, sparse_wav, tone


def test_undecodable_and_empty_files_fail_with_a_reason(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.mp3"
    garbage.write_bytes(bytes(range(256)) * 400)
    empty = tmp_path / "empty.flac"
    empty.write_bytes(b"")
    expected = {garbage: "Invalid data found", empty: "Cannot determine format",
                tmp_path / "missing.ogg": "No such file"}
    for path, reason in expected.items():
        a = analyse_file(str(path), duration=10)
        assert a.status == "failed", path
        assert a.error is not None and a.error.startswith("cannot decode: ") and reason in a.error, a.error


def test_digital_silence_and_near_silence_are_silent(tmp_path: Path) -> None:
    zeros = encode(tmp_path / "zeros.flac", np.zeros(44100 * 12, np.float32))
    hiss = encode(tmp_path / "hiss.wav", tone(1000, 12, -85))  # below EBU R128's -70 LUFS absolute gate
    for path in (zeros, hiss):
        a = analyse_file(str(path), channels=1, duration=12)
        assert a.status == "silent", (path, a)
        assert a.seconds == 12.0 and a.loudness is None and a.tempo is None


def test_a_ten_hour_file_is_analysed_in_a_bounded_window_from_its_middle(tmp_path: Path) -> None:
    # A real 10-hour WAV (sparse on disk): silence but for 200 s of tone around the middle.
    path = sparse_wav(tmp_path / "ten_hours.wav", 10 * 3600, tone_from=17_900, tone_seconds=200)
    assert window(36_000, 600) == (17_700.0, 600)
    # In a fresh process, so the peak memory is this analysis's own and not an earlier test's.
    r = measure_analysis(path, channels=1, duration=36_000, max_seconds=600)
    assert r["status"] == "ok" and r["seconds"] == 600.0  # the middle ten minutes, where the tone is
    assert r["loudness"] is not None and r["loudness"] > -30
    # The ten minutes decoded whole would be 106 MB (float32 at 44.1 kHz); chunks keep far less.
    assert r["analysis_mb"] < 50, r
    assert r["cpu_s"] < 60, r  # ten minutes' work, not ten hours'


def test_a_catalogue_duration_longer_than_the_file_falls_back_to_its_start(tmp_path: Path) -> None:
    path = encode(tmp_path / "short.flac", tone(440, 12, -20))
    a = analyse_file(str(path), channels=1, duration=5000, max_seconds=60)  # the window would start at 2470 s
    assert a.status == "ok" and a.seconds == 12.0


def test_decode_chunks_stream_in_bounded_pieces(tmp_path: Path) -> None:
    path = encode(tmp_path / "tone.wav", tone(440, 10, -20))
    sizes = [len(c) for c in decode_chunks(str(path), channels=2, seconds=600)]
    assert sum(sizes) == 441_000 and max(sizes) <= 1 << 16 and len(sizes) > 5


async def test_the_pool_analyses_in_worker_processes_and_survives_bad_files(tmp_path: Path) -> None:
    good = encode(tmp_path / "good.flac", tone(440, 10, -20))
    bad = tmp_path / "bad.ogg"
    bad.write_bytes(b"OggS" + bytes(5000))
    pool = AnalysisPool(2, max_seconds=60, timeout=60)
    try:
        ok = await pool.analyse(str(good), channels=1, duration=10)
        failed = await pool.analyse(str(bad), channels=2, duration=10)
    finally:
        await pool.aclose()
    assert ok.analysis.status == "ok" and ok.cpu_s > 0
    assert failed.analysis.status == "failed" and failed.analysis.error
