"""Crash a running musicd the hard way (crash tests and benchmarks): SIGKILL a process and its children.

`musicd serve` runs granian, whose worker is a child process that owns the database: killing only the
parent would leave the worker serving (or exiting cleanly), which is not a crash. Linux only (/proc).
"""

from __future__ import annotations

import contextlib
import os
import signal
import time

__all__ = ["kill_tree", "process_tree"]


def process_tree(pid: int) -> list[int]:
    """`pid` and all its descendants (parents before children), as /proc shows them now."""
    out = [pid]
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return out
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as f:
                children = [int(c) for c in f.read().split()]
        except FileNotFoundError:
            continue
        for child in children:
            out += process_tree(child)
    return out


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")  # a zombie holds nothing open
    except (FileNotFoundError, IndexError):
        return True


def kill_tree(pid: int, timeout: float = 10.0) -> list[int]:
    """SIGKILL `pid` and every descendant (the parent first, so it cannot start a new worker), and wait
    until none of them runs any more. Returns the pids killed."""
    pids = process_tree(pid)
    for p in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(p, signal.SIGKILL)
    deadline = time.monotonic() + timeout
    while not all(_gone(p) for p in pids):
        if time.monotonic() > deadline:
            raise TimeoutError(f"processes {pids} still run {timeout} s after SIGKILL")
        time.sleep(0.01)
    return pids
