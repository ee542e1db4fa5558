"""Helpers of the connect tests and bench: a library of long tones, and `musicd speaker` processes whose
JSON event lines (stdout) are collected as they come."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from musicd.devtools.library_builder import ExpectedTrack, encode_tone, write_tags

__all__ = ["SpeakerProcess", "build_long_library"]


def build_long_library(root: Path, albums: int = 1, tracks: int = 3, seconds: float = 40.0) -> Path:
    """`albums` albums of `tracks` FLAC tones of `seconds` each, tagged (artist "Long Tones")."""
    root.mkdir(parents=True, exist_ok=True)
    template = root / ".template.flac"
    encode_tone(template, "flac", seconds, freq=330.0)
    for a in range(albums):
        for n in range(1, tracks + 1):
            dest = root / f"album-{a + 1}" / f"{n:02d}.flac"
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(template.read_bytes())
            t = ExpectedTrack(path="", title=f"Tone {a + 1}.{n}", artist="Long Tones", artists=("Long Tones",),
                              album=f"Long Album {a + 1}", album_artist="Long Tones", compilation=False, track=n,
                              track_total=tracks, disc=1, disc_total=1, year=2024, genres=("Test",), format="flac",
                              duration=seconds)
            write_tags(dest, t)
    template.unlink()
    return root


class SpeakerProcess:
    """`python -m musicd speaker` in a process of its own; `events` are its JSON lines as they arrive."""

    def __init__(self, server: str | None, name: str, state_dir: Path, api_key: str | None = None,
                 sink: str = "null", cwd: Path | None = None, interface: str = "127.0.0.1") -> None:
        where = ["--server", server] if server else ["--interface", interface]
        argv = [sys.executable, "-m", "musicd", "speaker", *where, "--name", name, "--sink", sink,
                "--state-dir", str(state_dir)]
        if api_key:
            argv += ["--api-key", api_key]
        env = {k: v for k, v in os.environ.items() if not k.startswith("MUSICD_")}
        env["MUSICD_DATA_DIR"] = str(state_dir / "unused-data")
        self.name = name
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, cwd=cwd,
                                     start_new_session=True)
        self.events: list[dict[str, Any]] = []
        self._new: queue.Queue[dict[str, Any]] = queue.Queue()
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()
        self.device_id: str | None = None

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            with contextlib.suppress(ValueError):
                ev = json.loads(raw)
                self.events.append(ev)
                self._new.put(ev)

    def wait(self, event: str, within: float = 10.0, where: Callable[[dict[str, Any]], bool] | None = None,
             after: int = 0) -> dict[str, Any]:
        """The first event named `event` (matching `where`) at index >= `after`, waiting for it."""
        deadline = time.monotonic() + within
        i = after
        while True:
            while i < len(self.events):
                ev = self.events[i]
                i += 1
                if ev["event"] == event and (where is None or where(ev)):
                    return ev
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{self.name}: no {event!r} within {within} s; got {self.events[-8:]}")
            with contextlib.suppress(queue.Empty):
                self._new.get(timeout=min(left, 0.05))

    def ready(self, within: float = 30.0) -> str:
        self.device_id = str(self.wait("ready", within)["device_id"])
        return self.device_id

    def kill(self) -> None:
        """Kill it at once (a speaker unplugged)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
