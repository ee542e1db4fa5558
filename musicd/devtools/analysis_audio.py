"""Audio with a known truth for the audio-analysis tests and benchmark: click tracks at a given tempo,
music-like pieces (drums, bass, chords, a melody) in a given key and tempo, tones at a given level.

Signals are made with numpy and encoded by the ``ffmpeg`` binary, so the analyser meets real files.
Everything is seeded: the same arguments give the same samples.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

__all__ = [
    "SR",
    "Piece",
    "click_track",
    "encode",
    "measure_analysis",
    "music_like",
    "noise",
    "sparse_wav",
    "tone",
]

SR = 44100
_CODECS = {
    "flac": ["-c:a", "flac", "-f", "flac"],
    "wav": ["-c:a", "pcm_s16le", "-f", "wav"],
    "mp3": ["-c:a", "libmp3lame", "-b:a", "192k", "-f", "mp3"],
    "ogg": ["-c:a", "libvorbis", "-q:a", "5", "-f", "ogg"],
}
# Pitch classes of the major and natural-minor scale degrees, from the tonic.
_MAJOR = (0, 2, 4, 5, 7, 9, 11)
_MINOR = (0, 2, 3, 5, 7, 8, 10)


def encode(dest: Path, samples: np.ndarray, fmt: str = "flac", sr: int = SR) -> Path:
    """Write float samples (n,) or (n, channels) in [-1, 1] to `dest` as `fmt` (flac, wav, mp3, ogg)."""
    x = np.asarray(samples, dtype=np.float32)
    channels = 1 if x.ndim == 1 else x.shape[1]
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise FileNotFoundError("ffmpeg not found")
    dest.parent.mkdir(parents=True, exist_ok=True)
    argv = [ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-f", "f32le", "-ar", str(sr),
            "-ac", str(channels), "-i", "pipe:0", *_CODECS[fmt], str(dest)]
    subprocess.run(argv, input=np.clip(x, -1, 1).tobytes(), check=True)
    return dest


def _env(n: int, decay_s: float, sr: int = SR) -> np.ndarray:
    return np.exp(-np.arange(n) / (decay_s * sr)).astype(np.float32)


def _add(out: np.ndarray, at: int, sound: np.ndarray) -> None:
    end = min(len(out), at + len(sound))
    if at < end:
        out[at:end] += sound[: end - at]


def click_track(bpm: float, seconds: float, *, accent_every: int = 0, sr: int = SR) -> np.ndarray:
    """A metronome: a 10 ms 1.5 kHz click on every beat (louder every `accent_every` beats when > 0)."""
    out = np.zeros(int(seconds * sr), dtype=np.float32)
    n = int(0.03 * sr)
    t = np.arange(n) / sr
    click = (np.sin(2 * np.pi * 1500 * t) * _env(n, 0.008, sr)).astype(np.float32)
    period = 60.0 / bpm
    k = 0
    while (at := round(k * period * sr)) < len(out):
        gain = 0.8 if accent_every and k % accent_every == 0 else 0.4
        _add(out, at, gain * click)
        k += 1
    return out


def tone(freq: float, seconds: float, level_dbfs: float = -20.0, sr: int = SR) -> np.ndarray:
    """A sine at `freq` Hz whose peak is `level_dbfs`."""
    t = np.arange(int(seconds * sr)) / sr
    return (10 ** (level_dbfs / 20) * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def noise(seconds: float, color: str = "pink", level_dbfs: float = -20.0, seed: int = 0, sr: int = SR) -> np.ndarray:
    """White or pink noise with an RMS of `level_dbfs`."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    spec = np.fft.rfft(rng.standard_normal(n))
    if color == "pink":
        f = np.fft.rfftfreq(n, 1 / sr)
        spec[1:] /= np.sqrt(f[1:])
        spec[0] = 0
    x = np.fft.irfft(spec, n)
    x *= 10 ** (level_dbfs / 20) / np.sqrt(np.mean(x**2))
    return x.astype(np.float32)


@dataclass(frozen=True)
class Piece:
    """A music-like piece with a known truth: tempo, key (0 = C .. 11 = B), mode (1 major, 0 minor), metre."""

    bpm: float
    key: int = 0
    mode: int = 1
    beats_per_bar: int = 4
    seconds: float = 30.0
    brightness: float = 0.5  # 0: pure sines, 1: bright saws with noisy hats
    drums: bool = True
    level_db: float = -14.0  # rough loudness of the mix
    seed: int = 0


@lru_cache(maxsize=256)
def _voice(freq: float, n: int, harmonics: int, rolloff: float, decay_s: float, sr: int) -> np.ndarray:
    """A note with `harmonics` partials falling off as 1/h**rolloff (cached: pieces repeat their notes)."""
    t = np.arange(n) / sr
    x = np.zeros(n, dtype=np.float64)
    for h in range(1, harmonics + 1):
        if freq * h >= sr / 2:
            break
        x += np.sin(2 * np.pi * freq * h * t) / h**rolloff
    out = (x * _env(n, decay_s, sr)).astype(np.float32)
    out.flags.writeable = False
    return out


def _kick(sr: int) -> np.ndarray:
    n = int(0.25 * sr)
    t = np.arange(n) / sr
    f = 45 + 90 * np.exp(-t / 0.03)
    return (np.sin(2 * np.pi * np.cumsum(f) / sr) * _env(n, 0.09, sr)).astype(np.float32)


def _noise_hit(rng: np.random.Generator, seconds: float, decay: float, highpass: bool, sr: int) -> np.ndarray:
    n = int(seconds * sr)
    x = rng.standard_normal(n).astype(np.float32)
    if highpass:
        x = np.diff(x, prepend=0).astype(np.float32) * 0.5
    return x * _env(n, decay, sr)


def music_like(p: Piece, sr: int = SR) -> np.ndarray:
    """Stereo samples of `p`: I-vi-IV-V (major) or i-iv-v-i (minor) chords, bass, melody and drums."""
    rng = np.random.default_rng(p.seed)
    n = int(p.seconds * sr)
    left = np.zeros(n, dtype=np.float32)
    right = np.zeros(n, dtype=np.float32)
    beat = 60.0 / p.bpm
    scale = _MAJOR if p.mode == 1 else _MINOR
    degrees = (0, 5, 3, 4) if p.mode == 1 else (0, 3, 4, 0)
    harmonics = 1 + round(p.brightness * 24)
    rolloff = 2.5 - 1.5 * p.brightness
    tonic = 48 + p.key  # MIDI note of the tonic, an octave below middle C's octave
    bar_len = p.beats_per_bar * beat
    kick, hat_decay = _kick(sr), 0.01 + 0.03 * p.brightness
    bar = 0
    while bar * bar_len < p.seconds:
        start = bar * bar_len
        deg = degrees[bar % len(degrees)]
        chord = [scale[(deg + i) % 7] + 12 * ((deg + i) // 7) for i in (0, 2, 4)]
        chord_n = int(bar_len * sr)
        for i, pc in enumerate(chord):
            v = 0.10 * _voice(440 * 2 ** ((tonic + 12 + pc - 69) / 12), chord_n, harmonics, rolloff, bar_len, sr)
            _add(left if i % 2 else right, int(start * sr), v)
            _add(right if i % 2 else left, int(start * sr), 0.6 * v)
        for b in range(p.beats_per_bar):
            at = int((start + b * beat) * sr)
            bass = 0.22 * _voice(440 * 2 ** ((tonic - 12 + chord[0] - 69) / 12), int(beat * sr), 3, 2.0, beat, sr)
            _add(left, at, bass)
            _add(right, at, bass)
            note = chord[int(rng.integers(0, 3))] + 12 * int(rng.integers(1, 3))
            mel = 0.08 * _voice(440 * 2 ** ((tonic + note - 69) / 12), int(beat * sr), harmonics, rolloff, beat / 2, sr)
            _add(left, at, mel)
            _add(right, at, 0.8 * mel)
            if not p.drums:
                continue
            if b == 0 or (p.beats_per_bar == 4 and b == 2):
                _add(left, at, 0.7 * kick)
                _add(right, at, 0.7 * kick)
            else:
                snare = 0.25 * _noise_hit(rng, 0.15, 0.05, False, sr)
                _add(left, at, snare)
                _add(right, at, snare)
            for half in (0, 1):
                hat = (0.06 + 0.08 * p.brightness) * _noise_hit(rng, 0.05, hat_decay, True, sr)
                _add(left, at + int(half * beat / 2 * sr), hat)
                _add(right, at + int(half * beat / 2 * sr), hat)
        bar += 1
    out = np.stack([left, right], axis=1)
    rms = float(np.sqrt(np.mean(out**2))) or 1.0
    out *= 10 ** (p.level_db / 20) / rms / 1.4
    peak = float(np.max(np.abs(out))) or 1.0
    return (out / max(1.0, peak / 0.99)).astype(np.float32)


def sparse_wav(dest: Path, seconds: float, *, rate: int = 8000, tone_from: float = 0.0, tone_seconds: float = 0.0,
               freq: float = 440.0) -> Path:
    """A mono 16-bit WAV of `seconds` (hours if you like) that is digital silence but for a tone from
    `tone_from`: written as a sparse file, so a 10-hour file takes a moment and almost no disk."""
    n = int(seconds * rate)
    data_bytes = 2 * n
    header = b"".join([
        b"RIFF", (36 + data_bytes).to_bytes(4, "little"), b"WAVE",
        b"fmt ", (16).to_bytes(4, "little"), (1).to_bytes(2, "little"), (1).to_bytes(2, "little"),
        rate.to_bytes(4, "little"), (2 * rate).to_bytes(4, "little"), (2).to_bytes(2, "little"),
        (16).to_bytes(2, "little"), b"data", data_bytes.to_bytes(4, "little"),
    ])
    dest.parent.mkdir(parents=True, exist_ok=True)
    with dest.open("wb") as fh:
        fh.write(header)
        if tone_seconds > 0:
            fh.seek(44 + 2 * int(tone_from * rate))
            t = np.arange(int(tone_seconds * rate)) / rate
            fh.write((0.3 * 32767 * np.sin(2 * np.pi * freq * t)).astype("<i2").tobytes())
        fh.truncate(44 + data_bytes)
    return dest


_MEMORY_PROBE = """
import json, sys, time
import numpy
from threadpoolctl import threadpool_limits
threadpool_limits(1)
from musicd.analysis.analyser import analyse_file

def hwm():  # this process's own peak (ru_maxrss would carry the parent's over the exec)
    with open("/proc/self/status") as fh:
        return next(int(ln.split()[1]) for ln in fh if ln.startswith("VmHWM")) / 1024

base = hwm()
a = analyse_file(sys.argv[1], channels=int(sys.argv[2]), duration=float(sys.argv[3]), max_seconds=float(sys.argv[4]))
print(json.dumps({"status": a.status, "seconds": a.seconds, "loudness": a.loudness, "cpu_s": time.process_time(),
                  "after_imports_mb": round(base, 1), "peak_mb": round(hwm(), 1),
                  "analysis_mb": round(hwm() - base, 1)}))
"""


def measure_analysis(path: Path, *, channels: int = 2, duration: float = 0.0, max_seconds: float = 600.0) -> dict:
    """Analyse `path` in a fresh Python process and return its status, CPU seconds and peak memory
    (resident, after the imports and at the end) as a dict. Linux only (reads /proc/self/status)."""
    out = subprocess.run([sys.executable, "-c", _MEMORY_PROBE, str(path), str(channels), str(duration),
                          str(max_seconds)], capture_output=True, text=True, check=True, timeout=600)
    return dict(json.loads(out.stdout))
