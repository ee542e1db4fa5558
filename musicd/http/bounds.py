"""Bounded numbers for /v1 and /share query parameters and JSON body fields.

An unbounded `int` accepts any Python int (2^63 and past it) and an unbounded `float` accepts inf and nan;
such a value then fails deep down, as a 500 (SQLite's INTEGER is signed 64-bit, tantivy sizes its heap by
the limit it is given). So every number a handler or a body takes is one of these types, bounded to what
the services accept, and tests/unit/http/test_bounded_numbers.py fails on any number left unbounded.

Each type carries its bounds twice: Litestar reads a query parameter's from `Parameter`, msgspec a body
field's from `Meta`. An optional query parameter must be `Annotated[int | None, Parameter(...)]` (Litestar
drops the bounds of an `Annotated` inside a union, and msgspec refuses `Meta` on one): the `Opt*` names.
"""

from __future__ import annotations

from typing import Annotated

from litestar.params import Parameter
from msgspec import Meta

from musicd.domain.numbers import INT64_MAX, INT64_MIN
from musicd.domain.playlists import MAX_ITEMS

__all__ = [
    "MAX_OFFSET",
    "MAX_SECONDS",
    "Int64",
    "ItemCount",
    "ItemIndex",
    "Offset",
    "OptImageSize",
    "OptItemIndex",
    "Seconds",
]

MAX_OFFSET = 10_000_000  # a page offset: more than any household's catalogue
MAX_SECONDS = 1e9  # a seek position: finite; the service answers past-the-end itself
_MAX_IMAGE = 10_000  # pixels, as services.playback.image accepts

Int64 = Annotated[int, Parameter(ge=INT64_MIN, le=INT64_MAX), Meta(ge=INT64_MIN, le=INT64_MAX)]
"""Any integer SQLite can store; for fields whose exact range the service checks (with its own error code)."""

Offset = Annotated[int, Parameter(ge=0, le=MAX_OFFSET, description="The index of the first item"),
                   Meta(ge=0, le=MAX_OFFSET)]
ItemIndex = Annotated[int, Parameter(ge=0, le=MAX_ITEMS, description=f"A position in a playlist (0 to {MAX_ITEMS})"),
                      Meta(ge=0, le=MAX_ITEMS)]
ItemCount = Annotated[int, Parameter(ge=0, le=MAX_ITEMS), Meta(ge=0, le=MAX_ITEMS)]
Seconds = Annotated[float, Parameter(ge=0, le=MAX_SECONDS, description="Seconds from the start"),
                    Meta(ge=0, le=MAX_SECONDS)]

OptItemIndex = Annotated[int | None, Parameter(ge=0, le=MAX_ITEMS,
                                               description=f"A position in a playlist (0 to {MAX_ITEMS})")]
OptImageSize = Annotated[int | None, Parameter(ge=1, le=_MAX_IMAGE, description="Fit within this many pixels")]
