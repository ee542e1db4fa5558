"""Check that every dependency musicd declares (and those of the extras named) is installed in this venv.

`python -m musicd.devtools.check_deps [extra ...]` exits 1 naming what is missing. scripts/_setup.sh runs
it after an install: `pip install` can leave a venv without a dependency (a wheel that failed), and an
`import musicd` alone does not notice one that is loaded lazily (`implicit`, by the recommendation trainer).
"""

from __future__ import annotations

import re
import sys
from importlib.metadata import PackageNotFoundError, distribution, requires

__all__ = ["missing"]

_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_EXTRA = re.compile(r"""extra\s*==\s*["']([^"']+)["']""")


def missing(extras: set[str]) -> list[str]:
    """The requirements of musicd (base and `extras`) with no installed distribution."""
    out = []
    for req in requires("musicd") or []:
        spec, _, marker = req.partition(";")
        extra = _EXTRA.search(marker)
        if extra and extra.group(1) not in extras:
            continue
        m = _NAME.match(spec)
        if m is None:
            continue
        try:
            distribution(m.group(1))
        except PackageNotFoundError:
            out.append(spec.strip())
    return out


if __name__ == "__main__":
    gone = missing(set(sys.argv[1:]))
    if gone:
        print("musicd: not installed: " + ", ".join(gone), file=sys.stderr)
        sys.exit(1)
