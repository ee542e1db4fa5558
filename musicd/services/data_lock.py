"""Who owns a data dir right now: a running server, a restore or a recovery (an advisory file lock)."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from musicd.errors import ConflictError

__all__ = ["DataDirLock"]


class DataDirLock:
    """`flock` on DATA/musicd.lock, which also names the holder. The kernel drops it when the holder
    exits, even by kill -9, so a crash never leaves a stale lock behind."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.path = data_dir / "musicd.lock"
        self._fd: int | None = None

    def holder(self) -> str | None:
        """What holds the lock ("server (pid 12)"), or None when nothing does."""
        if self._fd is not None:
            return None
        fd = self._locked_fd()
        if fd is None:
            return self._read() or "another process"
        os.close(fd)
        return None

    def acquire(self, what: str) -> None:
        """Take the lock for `what` ("server", "restore", ...); ConflictError naming the holder if taken."""
        fd = self._locked_fd()
        if fd is None:
            raise ConflictError(f"{self.data_dir} is in use by {self._read() or 'another process'}",
                                code="data_dir_busy")
        os.ftruncate(fd, 0)
        os.write(fd, f"{what} (pid {os.getpid()})".encode())
        self._fd = fd

    def _locked_fd(self) -> int | None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        return fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the lock
            self._fd = None

    def _read(self) -> str:
        try:
            return self.path.read_text(encoding="utf-8", errors="replace").strip()
        except OSError:
            return ""
