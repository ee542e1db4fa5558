"""A tag-reader process: `python -m musicd.library.read_worker COVERS_DIR`.

It reads batches of files named on stdin and answers each with what it read, on stdout, in order.
Each message is a 4-byte big-endian length and a msgpack body (msgspec): a request is a list of
`Job`s, an answer a list holding, per job, a ScannedTrack or a `Failure` tuple. It stops at the end
of stdin, so it never outlives the scan that started it.

The scanner starts these itself rather than through multiprocessing: a spawned multiprocessing
worker imports the parent's main module first, which for `musicd scan` is the whole application
(about 1 CPU-second and 100 MiB per worker, more than the worker then spends reading tags).
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import BinaryIO

import msgspec

from musicd.domain.models import ScannedTrack

__all__ = ["Failure", "Job", "Result", "decode_results", "encode_jobs", "read_batch", "read_frame", "write_frame"]

Job = tuple[str, int, int, str | None]  # (path, size, mtime_ns, .lrc sidecar path)
Failure = tuple[str, int, int, str]  # (path, size, mtime_ns, reason)
Result = ScannedTrack | Failure

_HEADER = 4
_jobs_encoder = msgspec.msgpack.Encoder()
_results_decoder = msgspec.msgpack.Decoder(list[Result])


def _frame(body: bytes) -> bytes:
    return len(body).to_bytes(_HEADER, "big") + body


def encode_jobs(jobs: list[Job]) -> bytes:
    """One request frame: a batch of jobs."""
    return _frame(_jobs_encoder.encode(jobs))


def decode_results(body: bytes) -> list[Result]:
    """The body of an answer frame."""
    return _results_decoder.decode(body)


def read_frame(fh: BinaryIO) -> bytes | None:
    """The next frame's body, or None at the end of the stream."""
    head = fh.read(_HEADER)
    if len(head) < _HEADER:
        return None
    n = int.from_bytes(head, "big")
    body = fh.read(n)
    if len(body) < n:
        return None
    return body


def write_frame(fh: BinaryIO, body: bytes) -> None:
    fh.write(_frame(body))
    fh.flush()


def read_batch(jobs: list[Job], covers_dir: Path) -> list[Result]:
    """Read a batch of files; failures come back as tuples, never raise."""
    from musicd.library.reader import ReadError, read_track  # here only: mutagen stays out of the server

    out: list[Result] = []
    for path, size, mtime, lrc in jobs:
        try:
            out.append(read_track(path, size, mtime, covers_dir, lrc))
        except ReadError as e:
            out.append((path, size, mtime, str(e)))
        except OSError as e:
            out.append((path, size, mtime, f"cannot read: {e.strerror or e}"))
        except Exception as e:  # a mutagen bug on one odd file must not stop the scan
            out.append((path, size, mtime, f"unexpected {type(e).__name__}: {e}"))
    return out


def main() -> None:
    """Serve read requests from stdin until it closes."""
    # Ctrl-C reaches the whole process group: the scan stops its readers itself, without their tracebacks.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    covers_dir = Path(sys.argv[1])
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # a stray print from a library must not corrupt the answers
    inp = sys.stdin.buffer
    decoder = msgspec.msgpack.Decoder(list[Job])
    encoder = msgspec.msgpack.Encoder()
    while (body := read_frame(inp)) is not None:
        write_frame(out, encoder.encode(read_batch(decoder.decode(body), covers_dir)))


if __name__ == "__main__":
    main()
