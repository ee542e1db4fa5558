"""Every number a route takes (query, path, header or JSON body, nested fields too) is bounded.

An unbounded int accepts 2^63 and thousands of digits, an unbounded float inf and nan, and such a value
fails later as a 500. This walks the models Litestar and msgspec actually decode with, so a new route or
body field with a bare `int` fails here, before the fuzzer (tests/integration/test_hostile_input_fuzz.py)
has to find it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import msgspec.inspect as mi
import pytest

from musicd.app import create_app
from tests.live import make_config


def _unbounded(t: mi.Type, where: str, seen: set[type]) -> Iterator[str]:
    if isinstance(t, (mi.IntType, mi.FloatType)):
        low = t.ge is not None or t.gt is not None
        high = t.le is not None or t.lt is not None
        if not (low and high):
            yield where
    elif isinstance(t, (mi.StructType, mi.DataclassType, mi.TypedDictType, mi.NamedTupleType)):
        if t.cls in seen:
            return
        seen.add(t.cls)
        for f in t.fields:
            yield from _unbounded(f.type, f"{where}.{f.name}", seen)
    elif isinstance(t, mi.UnionType):
        for alt in t.types:
            yield from _unbounded(alt, where, seen)
    elif isinstance(t, (mi.ListType, mi.SetType, mi.FrozenSetType, mi.VarTupleType)):
        yield from _unbounded(t.item_type, f"{where}[]", seen)
    elif isinstance(t, mi.TupleType):
        for i, item in enumerate(t.item_types):
            yield from _unbounded(item, f"{where}[{i}]", seen)
    elif isinstance(t, mi.DictType):
        yield from _unbounded(t.value_type, f"{where}{{}}", seen)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # Litestar 3 notices about the routes, not ours
def test_no_route_takes_an_unbounded_number(tmp_path: Path) -> None:
    app = create_app(make_config(tmp_path / "data"))
    found = []
    checked = 0
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            model = mi.type_info(handler.signature_model)
            assert isinstance(model, mi.StructType)
            for f in model.fields:
                checked += 1
                label = f"{sorted(getattr(handler, 'http_methods', ['WS']))} {route.path} {f.name}"
                found += list(_unbounded(f.type, label, set()))
    assert checked > 200
    assert not found, "numbers without both bounds (use musicd.http.bounds):\n" + "\n".join(found)
