"""A process and its descendants, read from /proc (for the benchmark scripts: memory and CPU of a server's tree)."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["proc_table", "tree"]


def proc_table() -> tuple[dict[int, list[int]], dict[int, float]]:
    """Every process's children by parent pid, and every process's CPU seconds (user + system, children's
    reaped time included), from one pass over /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    kids: dict[int, list[int]] = {}
    cpu: dict[int, float] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            raw = Path(f"/proc/{d}/stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2 :].split()
        kids.setdefault(int(fields[1]), []).append(int(d))
        cpu[int(d)] = (int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])) / tick
    return kids, cpu


def tree(root: int, kids: dict[int, list[int]] | None = None) -> list[int]:
    """`root` and every process below it (`kids` from `proc_table`, read afresh when not given)."""
    kids = proc_table()[0] if kids is None else kids
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += kids.get(p, [])
    return out
