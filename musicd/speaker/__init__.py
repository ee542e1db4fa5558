"""`musicd speaker`: a headless player for the box by the stereo, a client of the server (HTTP and the
realtime channel only; it never imports services or store)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
from pathlib import Path

__all__ = ["run_speaker"]


def run_speaker(server: str, name: str | None, sink: str, state_dir: Path, api_key: str | None,
                ffmpeg: str = "ffmpeg") -> None:
    """Run a speaker until SIGINT / SIGTERM (its sound output stops with it)."""
    from musicd.speaker.client import Speaker, SpeakerSettings

    cfg = SpeakerSettings(server, name or f"musicd speaker on {socket.gethostname()}", sink, state_dir,
                          api_key, ffmpeg)

    async def main() -> None:
        sp = Speaker(cfg)
        task = asyncio.create_task(sp.run())
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(main())
