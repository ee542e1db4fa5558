"""ffmpeg decodes a file into float PCM that the analyser reads in chunks (memory stays flat).

The analyser decodes at 44.1 kHz in the file's own channels (mono stays mono, more than two are mixed
down to stereo): EBU R128 loudness weighs every channel and the band above 11 kHz, so a 22 kHz mono
decode would read pink noise about 1 LU low and a stereo file 3 LU low. Long files are read in a
window of at most `max_seconds` from their middle, so a 10-hour file costs what a 10-minute one does.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator

import numpy as np

__all__ = ["SAMPLE_RATE", "DecodeError", "decode_argv", "decode_chunks", "window"]

SAMPLE_RATE = 44100
_CHUNK_FRAMES = 1 << 16  # about 1.5 s of audio per read


class DecodeError(Exception):
    """ffmpeg could not decode the file; the message carries the end of its error output."""


def window(duration: float, max_seconds: float) -> tuple[float, float]:
    """(start, length) of the part of a `duration`-second file to analyse: all of it, or its middle."""
    if duration <= max_seconds:
        return 0.0, max_seconds
    return (duration - max_seconds) / 2, max_seconds


def decode_argv(binary: str, path: str, channels: int, start: float, seconds: float) -> list[str]:
    """ffmpeg arguments that write `seconds` of `path` from `start` as 44.1 kHz float32 PCM to stdout."""
    argv = [binary, "-nostdin", "-hide_banner", "-nostats", "-loglevel", "error"]
    if start > 0:
        argv += ["-ss", f"{start:.3f}"]
    argv += ["-i", path, "-t", f"{seconds:.3f}", "-map", "0:a:0", "-vn", "-sn", "-dn",
             "-ac", str(channels), "-ar", str(SAMPLE_RATE), "-f", "f32le", "pipe:1"]
    return argv


def _reason(stderr: str, rc: int) -> str:
    """The line of ffmpeg's errors that says what is wrong: its first own line (those of its components
    start with "[codec @ 0x...]" and tend to be consequences), else the last one."""
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    own = [ln for ln in lines if not ln.startswith("[") and not ln.startswith("Last message repeated")]
    return (own or lines or [f"ffmpeg exited with {rc}"])[0 if own else -1]


def decode_chunks(path: str, *, channels: int, start: float = 0.0, seconds: float = 600.0,
                  binary: str = "ffmpeg", timeout: float = 600.0) -> Iterator[np.ndarray]:
    """Yield (frames, channels) float32 chunks of the decoded audio; DecodeError when ffmpeg fails.

    ffmpeg's error output goes to a temporary file (a pipe could fill up with per-packet errors and
    stall the decode); a decode that runs past `timeout` seconds is killed.
    """
    exe = shutil.which(binary)
    if exe is None:
        raise DecodeError(f"ffmpeg not found: {binary!r}")
    frame_bytes = 4 * channels
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(decode_argv(exe, path, channels, start, seconds),
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err)
        timed_out = threading.Event()

        def kill() -> None:
            timed_out.set()
            proc.kill()

        timer = threading.Timer(timeout, kill)
        timer.start()
        got = 0
        try:
            assert proc.stdout is not None
            rest = b""
            while True:
                data = proc.stdout.read(_CHUNK_FRAMES * frame_bytes)
                if not data:
                    break
                data = rest + data
                usable = len(data) - len(data) % frame_bytes
                rest = data[usable:]
                if usable:
                    got += usable
                    yield np.frombuffer(data[:usable], dtype="<f4").reshape(-1, channels)
        finally:
            timer.cancel()
            with contextlib.suppress(OSError):
                proc.stdout.close()  # type: ignore[union-attr]
            if proc.poll() is None:
                proc.kill()
            rc = proc.wait()
        if timed_out.is_set():
            raise DecodeError(f"decoding took longer than {timeout:.0f} s")
        if rc != 0 and not got:
            err.seek(0)
            raise DecodeError(f"cannot decode: {_reason(err.read(8192).decode('utf-8', 'replace'), rc)}")
