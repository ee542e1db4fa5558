"""Audio analysis results: what the analyser measured in one file, and a track's stored features."""

from __future__ import annotations

import msgspec

__all__ = ["ANALYSIS_VERSION", "KEY_NAMES", "AnalysisStatus", "AudioAnalysis", "TrackFeatures"]

# Bump when the analyser's numbers change: stored results of an older version are made again.
ANALYSIS_VERSION = 1

KEY_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")

AnalysisStatus = str  # "ok" | "silent" (nothing above the EBU R128 gate) | "failed" (undecodable)


class AudioAnalysis(msgspec.Struct, frozen=True, kw_only=True):
    """What the analyser measured in (a window of) one file. Scores are 0..1; None: not measurable.

    `loudness` is integrated loudness in LUFS (EBU R128), `brightness` the mean spectral centroid in Hz,
    `tempo` in BPM, `key` a pitch class (0 = C .. 11 = B; -1: no clear key) and `mode` 1 major / 0 minor.
    `timbre` is a compact vector for similarity (means and spreads of MFCCs 1..12).
    """

    status: AnalysisStatus
    error: str | None = None
    seconds: float = 0.0  # audio analysed (a bounded window of a long file)
    tempo: float | None = None
    tempo_confidence: float | None = None
    loudness: float | None = None
    energy: float | None = None
    brightness: float | None = None
    beat_strength: float | None = None
    danceability: float | None = None
    acousticness: float | None = None
    valence: float | None = None
    key: int | None = None
    mode: int | None = None
    key_confidence: float | None = None
    time_signature: int | None = None
    timbre: tuple[float, ...] = ()


class TrackFeatures(msgspec.Struct, frozen=True, kw_only=True):
    """A track's stored analysis with what the wire shapes need from the catalogue."""

    track_id: str
    duration: float  # seconds, from the catalogue
    analysis: AudioAnalysis
    analysed_at: str
