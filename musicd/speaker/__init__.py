"""`musicd speaker`: a headless player for the box by the stereo, a client of the server (HTTP and the
realtime channel only; it never imports services or store)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
from pathlib import Path

__all__ = ["run_speaker"]


def run_speaker(server: str | None, name: str | None, sink: str, state_dir: Path, api_key: str | None,
                ffmpeg: str = "ffmpeg", interfaces: tuple[str, ...] = ()) -> None:
    """Run a speaker until SIGINT / SIGTERM (its sound output stops with it); without `server`, find one
    on the LAN by zeroconf first."""
    from musicd.speaker.client import Speaker, SpeakerSettings, emit

    async def main() -> None:
        url = server
        while url is None:
            from musicd.net.discovery import browse

            found = await browse(5.0, interfaces, first=True)
            if found:
                url = found[0].url
                emit("discovered", server=url, instance_id=found[0].instance_id)
        cfg = SpeakerSettings(url, name or f"musicd speaker on {socket.gethostname()}", sink, state_dir,
                              api_key, ffmpeg)
        sp = Speaker(cfg)
        task = asyncio.create_task(sp.run())
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(main())
