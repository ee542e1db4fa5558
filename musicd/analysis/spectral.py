"""Short-time spectra of a mono stream, frame by frame, and what is measured on each frame.

Two analyses run over the same samples: a short one (2048 points, 23 ms hop at 44.1 kHz) for
loudness-independent timbre (mel bands, MFCCs, centroid, flatness) and onsets, and a long one
(8192 points, 5.4 Hz bins) for pitch classes, where the low notes need the finer resolution.
Only per-frame numbers are kept (about 45 floats per 23 ms frame), never the samples.
"""

from __future__ import annotations

import numpy as np
import scipy.fft

__all__ = ["ChromaFrames", "SpectralFrames", "Stft", "mel_filterbank"]


class Stft:
    """A streaming short-time Fourier transform: `feed` samples, get the magnitude spectra of whole frames."""

    def __init__(self, n_fft: int, hop: int) -> None:
        self.n_fft, self.hop = n_fft, hop
        self.window = np.hanning(n_fft).astype(np.float32)
        self._buf = np.zeros(0, dtype=np.float32)

    def feed(self, x: np.ndarray) -> np.ndarray:
        """Magnitudes (frames, n_fft // 2 + 1) of every frame complete after these samples."""
        buf = np.concatenate([self._buf, x.astype(np.float32, copy=False)])
        n = 0 if len(buf) < self.n_fft else 1 + (len(buf) - self.n_fft) // self.hop
        if n == 0:
            self._buf = buf
            return np.zeros((0, self.n_fft // 2 + 1), dtype=np.float32)
        frames = np.lib.stride_tricks.sliding_window_view(buf, self.n_fft)[: n * self.hop: self.hop]
        spec = np.abs(scipy.fft.rfft(frames * self.window, axis=1, workers=1))
        self._buf = buf[n * self.hop:].copy()
        return spec.astype(np.float32, copy=False)


def _hz_to_mel(f: np.ndarray | float) -> np.ndarray:
    return 2595.0 * np.log10(1.0 + np.asarray(f) / 700.0)


def mel_filterbank(rate: int, n_fft: int, bands: int, fmin: float = 30.0, fmax: float = 16000.0) -> np.ndarray:
    """(bands, bins) triangular mel filters, each normalised to unit area (HTK mel scale)."""
    freqs = np.fft.rfftfreq(n_fft, 1.0 / rate)
    edges_mel = np.linspace(_hz_to_mel(fmin), _hz_to_mel(min(fmax, rate / 2)), bands + 2)
    edges = 700.0 * (10 ** (edges_mel / 2595.0) - 1.0)
    fb = np.zeros((bands, len(freqs)), dtype=np.float32)
    for m in range(bands):
        lo, mid, hi = edges[m], edges[m + 1], edges[m + 2]
        up = (freqs - lo) / (mid - lo)
        down = (hi - freqs) / (hi - mid)
        fb[m] = np.maximum(0, np.minimum(up, down))
        area = fb[m].sum()
        if area > 0:
            fb[m] /= area
    return fb


class SpectralFrames:
    """Per-frame mel energies (dB), RMS, spectral centroid and flatness of the short analysis."""

    N_FFT, HOP, BANDS = 2048, 1024, 40

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self.fps = rate / self.HOP
        self.stft = Stft(self.N_FFT, self.HOP)
        self.mel = mel_filterbank(rate, self.N_FFT, self.BANDS)
        self.freqs = np.fft.rfftfreq(self.N_FFT, 1.0 / rate).astype(np.float32)
        self._mel_db: list[np.ndarray] = []
        self._rms: list[np.ndarray] = []
        self._centroid: list[np.ndarray] = []
        self._flatness: list[np.ndarray] = []
        self._low: list[np.ndarray] = []
        self._low_bins = int(np.searchsorted(self.freqs, 60.0))  # sub-bass: synth bass, kick drums
        self.mel_t = np.ascontiguousarray(self.mel.T)

    def feed(self, mono: np.ndarray) -> None:
        mag = self.stft.feed(mono)
        if not len(mag):
            return
        power = mag * mag
        total = power.sum(axis=1) + 1e-12
        mel = power @ self.mel_t + 1e-10
        mel_db = 10.0 * np.log10(mel)
        self._mel_db.append(mel_db)
        self._rms.append(np.sqrt(2.0 * total) / self.stft.window.sum())
        self._centroid.append((mag @ self.freqs) / (mag.sum(axis=1) + 1e-12))
        # Flatness over the mel bands: geometric over arithmetic mean (1 for noise, near 0 for tones).
        self._flatness.append(np.exp(mel_db.mean(axis=1) * (np.log(10.0) / 10.0)) / mel.mean(axis=1))
        self._low.append(power[:, : self._low_bins].sum(axis=1) / total)

    def arrays(self) -> dict[str, np.ndarray]:
        """Everything measured so far: mel_db (frames, bands), rms, centroid, flatness, low (frames,)."""

        def cat(parts: list[np.ndarray], shape: tuple[int, ...]) -> np.ndarray:
            return np.concatenate(parts) if parts else np.zeros(shape, dtype=np.float32)

        return {"mel_db": cat(self._mel_db, (0, self.BANDS)), "rms": cat(self._rms, (0,)),
                "centroid": cat(self._centroid, (0,)), "flatness": cat(self._flatness, (0,)),
                "low": cat(self._low, (0,))}


class ChromaFrames:
    """Per-frame energy in the 12 pitch classes (C = 0), from 60 Hz to 5 kHz, of the long analysis."""

    N_FFT, HOP = 8192, 4096

    def __init__(self, rate: int) -> None:
        self.stft = Stft(self.N_FFT, self.HOP)
        freqs = np.fft.rfftfreq(self.N_FFT, 1.0 / rate)
        use = (freqs >= 60.0) & (freqs <= 5000.0)
        midi = 69 + 12 * np.log2(freqs[use] / 440.0)
        # Each bin counts for the pitch class it is nearest to, weighted by how near it is to the note's
        # centre, so the skirts between two semitones count for neither.
        nearest = np.round(midi)
        weight = np.clip(1.0 - 2.0 * np.abs(midi - nearest), 0.0, 1.0)
        self._bins = np.flatnonzero(use)
        self._map = np.zeros((len(self._bins), 12), dtype=np.float32)
        self._map[np.arange(len(self._bins)), nearest.astype(int) % 12] = weight
        self._frames: list[np.ndarray] = []

    def feed(self, mono: np.ndarray) -> None:
        mag = self.stft.feed(mono)
        if len(mag):
            self._frames.append((mag[:, self._bins] ** 2) @ self._map)

    def array(self) -> np.ndarray:
        """(frames, 12) pitch-class energies."""
        return np.concatenate(self._frames) if self._frames else np.zeros((0, 12), dtype=np.float32)
