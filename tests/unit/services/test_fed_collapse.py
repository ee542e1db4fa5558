"""A friend's copy of a recording the library has collapses into the local one."""

from __future__ import annotations

from musicd.domain.federation import normalise_scopes
from musicd.domain.ids import federated_id, is_federated, random_id
from musicd.services.fed_sync import _LocalKeys

LOCAL = [
    ("l1", "8f3c1b2e-0000-4000-8000-000000000001", None, "Radiohead", "Karma Police", 264.0),
    ("l2", None, "GBAYE9700087", "Radiohead", "Airbag", 284.0),
    ("l3", None, None, "Sigur Rós", "Hoppípolla", 268.5),
]


def test_matches_by_mbid_isrc_and_normalised_names_within_two_seconds() -> None:
    keys = _LocalKeys(LOCAL)
    assert keys.match("8F3C1B2E-0000-4000-8000-000000000001", None, "x", "y", 1.0) == "l1"
    assert keys.match(None, "gbaye9700087", "Someone", "Else", 1.0) == "l2"
    assert keys.match(None, None, "sigur ros", "HOPPIPOLLA!", 267.0) == "l3"
    assert keys.match(None, None, "Sigur Rós", "Hoppípolla", 275.0) is None  # another version
    assert keys.match(None, None, "Radiohead", "Lucky", 264.0) is None


def test_federated_ids_are_told_apart_from_local_ones() -> None:
    fid = federated_id("track", "peer", "remote")
    assert is_federated(fid) and len(fid) == 22 and fid == federated_id("track", "peer", "remote")
    assert fid != federated_id("album", "peer", "remote") != federated_id("track", "other", "remote")
    assert not any(is_federated(random_id()) for _ in range(1000))


def test_scopes_are_canonical_and_unknown_ones_refused() -> None:
    assert normalise_scopes("stream, library") == ["library", "stream"]
    assert normalise_scopes([]) == []
    try:
        normalise_scopes("library,admin")
    except ValueError as e:
        assert "admin" in str(e)
    else:
        raise AssertionError("an unknown scope was accepted")
