"""Tempo, its confidence, beat strength and metre from an onset-strength envelope.

The envelope is the spectral flux of the mel bands. Its autocorrelation is read with a comb: a tempo T
scores how strongly the envelope repeats at every multiple of the beat period (C) minus how strongly it
repeats half-way between them (H). The half-way term is what settles octave errors: a click track at
174 BPM repeats at half-periods of 87 BPM as strongly as at whole ones (87 is then no pulse of its
own), while in music with eighth-note hi-hats the half-beats repeat more weakly than the beats. A
broad prior around 120 BPM breaks near-ties. The winner is refined on many multiples of its period,
which pins the tempo to a fraction of a frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter1d, uniform_filter1d

__all__ = ["MAX_BPM", "MIN_BPM", "TempoEstimate", "estimate_tempo", "onset_envelope"]

MIN_BPM, MAX_BPM = 50.0, 220.0
_PRIOR_CENTRE, _PRIOR_OCTAVES = 120.0, 1.2
_DOUBLE_RATIO = 0.9
_TRIPLE_MARGIN = 0.08
_SMOOTH_FRAMES = 1.5
_MIN_ONSET_DB = 2.0  # the loudest 1 % of the flux must jump this much (a tone or noise: < 1 dB)


@dataclass(frozen=True)
class TempoEstimate:
    bpm: float
    confidence: float  # 0..1: how clearly the envelope pulses at this tempo and no other
    beat_strength: float  # 0..1: autocorrelation of the onsets at the beat period's multiples
    time_signature: int  # 3 or 4 beats to the bar


def onset_envelope(mel_db: np.ndarray, fps: float, accents: bool = False) -> np.ndarray:
    """Positive spectral flux of the mel bands, less its local mean over half a second.

    On a dB scale (80 dB range) every band's onsets count alike, which finds the pulse; with
    `accents` the bands are compressed with log(1 + 100 P / Pmax) instead, so loud hits (kick, snare)
    outweigh quiet ones (hi-hats) and the accents that mark the bar show.
    """
    if len(mel_db) < 2:
        return np.zeros(0)
    if accents:
        power = 10.0 ** ((mel_db - mel_db.max()) / 10.0)
        m = np.log1p(100.0 * power)
    else:
        m = np.maximum(mel_db, float(mel_db.max()) - 80.0)
    flux = np.maximum(0.0, np.diff(m, axis=0)).mean(axis=1)
    local = uniform_filter1d(flux, size=max(3, int(fps / 2)), mode="nearest")
    return np.maximum(0.0, flux - local)


def _autocorrelation(env: np.ndarray, max_lag: int) -> np.ndarray:
    # Smoothing first: an onset falls between two frames at most tempos, and without it the peaks of
    # the autocorrelation split unevenly between neighbouring lags (read at 3 beats, a click track
    # looked more periodic than at 2 or 4).
    x = gaussian_filter1d(env, _SMOOTH_FRAMES)
    x = x - x.mean()
    n = len(x)
    spec = np.fft.rfft(x, 2 * n)
    r = np.fft.irfft(spec * np.conj(spec))[:max_lag]
    r = r / (n - np.arange(max_lag))  # unbiased: long lags are not damped for having fewer terms
    return r / r[0] if r[0] > 0 else np.zeros(max_lag)


def _teeth(r: np.ndarray, lag: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Mean of r at lag*k (linear interpolation) for each lag; k beyond the table counts as missing."""
    pos = lag[:, None] * k[None, :]
    vals = np.interp(pos, np.arange(len(r)), r)
    ok = pos < len(r) - 1
    return np.where(ok, vals, 0.0).sum(axis=1) / np.maximum(ok.sum(axis=1), 1)


def _clip(x: float) -> float:
    return float(min(1.0, max(0.0, x)))


def estimate_tempo(env: np.ndarray, fps: float, accents: np.ndarray | None = None) -> TempoEstimate | None:
    """The tempo of an onset envelope at `fps` frames per second; None when there is too little of it.

    `accents` (the accent envelope, see `onset_envelope`) tells three beats to the bar from four: it
    repeats more strongly after three beats than after two or four in a waltz.
    """
    if len(env) < 8 * fps or float(np.percentile(env, 99)) < _MIN_ONSET_DB:
        return None  # too short, or no onsets to speak of (a held tone, noise)
    max_lag = min(len(env) // 2, int(24 * fps))
    r = _autocorrelation(env, max_lag)
    bpms = np.exp(np.linspace(np.log(MIN_BPM), np.log(MAX_BPM), 600))
    k = np.arange(1, 9, dtype=float)

    def comb(bpm: np.ndarray, teeth: np.ndarray = k) -> np.ndarray:
        return _teeth(r, 60.0 * fps / bpm, teeth)

    prior = np.exp(-0.5 * (np.log2(bpms / _PRIOR_CENTRE) / _PRIOR_OCTAVES) ** 2)
    score = np.clip(comb(bpms), 0, None) * prior
    bpm = float(bpms[int(np.argmax(score))])
    # A pulse that repeats as strongly half-way between its beats is really twice as fast.
    while 2 * bpm <= MAX_BPM and comb(np.array([bpm]), k - 0.5)[0] >= _DOUBLE_RATIO * comb(np.array([bpm]))[0]:
        bpm *= 2
    # Refine on as many multiples of the period as the autocorrelation holds.
    fine = bpm * np.linspace(0.98, 1.02, 401)
    many = np.arange(1, max(2, int(max_lag * fine.min() / (60.0 * fps))), dtype=float)
    bpm = float(fine[int(np.argmax(comb(fine, many)))])
    lag = np.array([60.0 * fps / bpm])
    c = float(comb(np.array([bpm]))[0])
    # The rival: the best score of a tempo that is no simple ratio (1/3 .. 3) of this one.
    ratios = bpms / bpm
    related = np.zeros(len(bpms), dtype=bool)
    for q in (1 / 3, 1 / 2, 2 / 3, 1.0, 3 / 2, 2.0, 3.0):
        related |= np.abs(ratios / q - 1) < 0.04
    best_score = float(np.clip(c, 0, None) * np.exp(-0.5 * (np.log2(bpm / _PRIOR_CENTRE) / _PRIOR_OCTAVES) ** 2))
    rival = float(np.max(score[~related])) if np.any(~related) else 0.0
    confidence = _clip(c) * _clip(1 - rival / best_score if best_score > 0 else 0)
    metre = 4
    if accents is not None and np.any(accents > 0):
        ra = _autocorrelation(accents, max_lag)
        at = np.interp(lag[0] * np.array([2.0, 3.0, 4.0]), np.arange(max_lag), ra)
        metre = 3 if at[1] > max(at[0], at[2]) + _TRIPLE_MARGIN else 4
    return TempoEstimate(bpm=round(bpm, 2), confidence=round(confidence, 3), beat_strength=float(np.clip(c, 0, 1)),
                         time_signature=metre)
