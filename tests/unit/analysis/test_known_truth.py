"""The analyser against known truth, on audio generated here and encoded by ffmpeg: click tracks and
music-like pieces at known tempos, keys and metres; signals at known loudness (checked against
ffmpeg's own `ebur128` filter, run in the test); brighter against darker timbres."""

from __future__ import annotations

import math
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from musicd.analysis.analyser import analyse_file
from musicd.devtools.analysis_audio import Piece, click_track, encode, music_like, noise, tone

BPMS = (80, 100, 120, 128, 140, 174)


def _tempo_verdict(found: float | None, truth: float) -> str:
    """"exact" within 2 %, "octave" within 2 % of half or double, else "wrong"."""
    if found is None:
        return "wrong"
    if abs(found / truth - 1) <= 0.02:
        return "exact"
    if any(abs(found / (truth * f) - 1) <= 0.02 for f in (0.5, 2.0)):
        return "octave"
    return "wrong"


def _report(name: str, verdicts: dict[float, tuple[float | None, str]]) -> dict[str, int]:
    counts = {v: sum(1 for _, x in verdicts.values() if x == v) for v in ("exact", "octave", "wrong")}
    print(f"\n{name}: {counts}; " + ", ".join(f"{t:g}->{f}" for t, (f, _) in verdicts.items()))
    return counts


def test_click_tracks_tempo_within_2_percent(tmp_path: Path) -> None:
    verdicts = {}
    for bpm in BPMS:
        path = encode(tmp_path / f"click{bpm}.flac", click_track(bpm, 20))
        a = analyse_file(str(path), channels=1, duration=20)
        assert a.status == "ok"
        verdicts[bpm] = (a.tempo, _tempo_verdict(a.tempo, bpm))
        assert a.tempo_confidence is not None and a.tempo_confidence > 0.3, (bpm, a.tempo_confidence)
    counts = _report("click tracks", verdicts)
    # A metronome has one pulse and no accents: an octave error here is a bug, not an ambiguity.
    assert counts == {"exact": len(BPMS), "octave": 0, "wrong": 0}, verdicts


@pytest.mark.slow
def test_music_like_pieces_tempo_key_and_metre(tmp_path: Path) -> None:
    pieces = [Piece(bpm=80, key=0, mode=1), Piece(bpm=100, key=9, mode=0), Piece(bpm=120, key=7, mode=1),
              Piece(bpm=128, key=2, mode=0), Piece(bpm=140, key=5, mode=1), Piece(bpm=174, key=11, mode=0),
              Piece(bpm=90, key=4, mode=1, beats_per_bar=3), Piece(bpm=150, key=6, mode=0, beats_per_bar=3)]
    verdicts, keys, metres = {}, [], []
    for i, p in enumerate(pieces):
        p = Piece(**{**p.__dict__, "seconds": 24.0, "seed": i})
        path = encode(tmp_path / f"piece{i}.mp3", music_like(p), "mp3")
        a = analyse_file(str(path), channels=2, duration=24)
        assert a.status == "ok"
        verdicts[p.bpm] = (a.tempo, _tempo_verdict(a.tempo, p.bpm))
        keys.append(((a.key, a.mode), (p.key, p.mode)))
        metres.append((a.time_signature, p.beats_per_bar))
    counts = _report("music-like pieces", verdicts)
    assert counts["wrong"] == 0, verdicts  # octave errors are counted (above), not failed: pieces can be ambiguous
    assert counts["octave"] <= 2, verdicts
    assert all(found == truth for found, truth in keys), keys
    assert all(found == truth for found, truth in metres), metres


def _ebur128(path: Path) -> float:
    err = subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-i", str(path), "-af", "ebur128", "-f", "null", "-"],
                         capture_output=True, text=True, check=True).stderr
    return float(re.findall(r"I:\s+(-?[\d.]+) LUFS", err)[-1])


LOUDNESS_CASES = {
    "pink_stereo.flac": lambda: (np.stack([noise(12, "pink", -20, seed=1), noise(12, "pink", -27, seed=2)], 1), 2),
    "white_mono.wav": lambda: (noise(12, "white", -30, seed=3), 1),
    "sine_1k_mono.flac": lambda: (tone(1000, 12, -18), 1),
    "sine_60_stereo.mp3": lambda: (np.stack([tone(60, 12, -10)] * 2, 1), 2),
    "quiet_music.ogg": lambda: (music_like(Piece(bpm=100, seconds=15, level_db=-38)), 2),
    "loud_music.mp3": lambda: (music_like(Piece(bpm=130, seconds=15, level_db=-9, brightness=0.9)), 2),
    # a loud part, a long pause and a very quiet part: the gates must drop the pause and the quiet part
    "gated.flac": lambda: (np.concatenate([tone(440, 5, -20), np.zeros(44100 * 8, np.float32), tone(440, 5, -52)]), 1),
}


@pytest.mark.parametrize("name", sorted(LOUDNESS_CASES))
def test_integrated_loudness_within_1_lu_of_ffmpeg_ebur128(tmp_path: Path, name: str) -> None:
    samples, channels = LOUDNESS_CASES[name]()
    path = encode(tmp_path / name, samples, name.rsplit(".", 1)[1])
    a = analyse_file(str(path), channels=channels, duration=len(samples) / 44100)
    reference = _ebur128(path)
    assert a.loudness is not None
    assert abs(a.loudness - reference) <= 1.0, (a.loudness, reference)


def test_brighter_timbres_rank_brighter_and_sit_nearer_each_other(tmp_path: Path) -> None:
    found = []
    for b in (0.0, 0.3, 0.6, 0.95):
        path = encode(tmp_path / f"b{b}.flac", music_like(Piece(bpm=110, seconds=20, brightness=b, seed=7)))
        found.append(analyse_file(str(path), channels=2, duration=20))
    centroids = [a.brightness for a in found]
    assert centroids == sorted(centroids) and len(set(centroids)) == 4, centroids
    # The timbre vectors agree: the darkest piece is farther from the brightest than from its neighbour.
    t = [np.array(a.timbre) for a in found]
    assert len(t[0]) == 24
    assert np.linalg.norm(t[0] - t[1]) < np.linalg.norm(t[0] - t[3])


def test_a_held_a440_is_in_a_and_has_no_tempo(tmp_path: Path) -> None:
    path = encode(tmp_path / "a440.flac", tone(440, 15, -12))
    a = analyse_file(str(path), channels=1, duration=15)
    assert a.status == "ok" and a.key == 9  # A; a lone tone cannot tell major from minor
    assert a.tempo is None and a.danceability is None  # no onsets, no pulse


def test_energy_and_acousticness_order_a_loud_dense_track_against_a_soft_sparse_one(tmp_path: Path) -> None:
    loud = encode(tmp_path / "loud.flac", music_like(Piece(bpm=140, seconds=20, brightness=0.9, level_db=-8)))
    soft = encode(tmp_path / "soft.flac", music_like(Piece(bpm=70, seconds=20, brightness=0.05, level_db=-30,
                                                           drums=False)))
    a_loud = analyse_file(str(loud), duration=20)
    a_soft = analyse_file(str(soft), duration=20)
    assert a_loud.energy is not None and a_soft.energy is not None
    assert a_loud.energy > a_soft.energy + 0.2
    assert a_soft.acousticness is not None and a_loud.acousticness is not None
    assert a_soft.acousticness > a_loud.acousticness
    assert math.isfinite(a_loud.loudness or math.nan)
