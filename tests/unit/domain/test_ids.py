"""Ids: opaque, 22 base62 digits, local ones starting with 0-7; ordered ids sort in the order they were made."""

from __future__ import annotations

import re
import time

from musicd.domain.ids import derived_id, federated_id, is_federated, ordered_id, random_id

_LOCAL = re.compile(r"^[0-7][0-9A-Za-z]{21}$")


def test_every_local_id_has_the_same_shape() -> None:
    for make in (random_id, ordered_id, lambda: derived_id("track", "/music/a.flac")):
        for _ in range(200):
            assert _LOCAL.match(make())
    fid = federated_id("track", "peer", "remote")
    assert len(fid) == 22 and is_federated(fid) and not is_federated(ordered_id())


def test_ordered_ids_sort_in_the_order_they_were_made() -> None:
    first = [ordered_id() for _ in range(50)]
    time.sleep(0.002)
    later = [ordered_id() for _ in range(50)]
    assert max(first) < min(later)  # a later millisecond always sorts after
    assert len(set(first + later)) == 100
