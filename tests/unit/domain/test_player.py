"""The pure rules of the playback state: position, play order, next / previous."""

from __future__ import annotations

import msgspec

from musicd.domain.player import PlayerState, advance, position_at, shuffled_order


def _state(**kw) -> PlayerState:  # type: ignore[no-untyped-def]
    base = {"user_id": "u", "tracks": ["a", "b", "c"], "order": [0, 1, 2], "pos": 0, "current": "a",
            "duration_ms": 10_000, "position_ms": 1_000, "updated_at": 100.0}
    base.update(kw)
    return PlayerState(**base)


def test_position_not_extrapolated_while_paused() -> None:
    s = _state(playing=False)
    assert position_at(s, 105.0) == 1_000


def test_position_extrapolated_while_playing_and_capped_at_the_end() -> None:
    s = _state(playing=True)
    assert position_at(s, 102.5) == 3_500
    assert position_at(s, 1_000.0) == 10_000
    assert position_at(s, 50.0) == 1_000  # a clock before the report never moves it back


def test_shuffled_order_starts_with_the_chosen_track_and_is_reproducible() -> None:
    order = shuffled_order(50, 7, seed=42)
    assert order[0] == 7 and sorted(order) == list(range(50))
    assert order == shuffled_order(50, 7, seed=42)
    assert order != shuffled_order(50, 7, seed=43)


def test_next_takes_the_play_next_queue_first_then_the_context() -> None:
    s = _state(queue=["q"])
    assert advance(s, 1, 0) == ("q", True, 0, False)
    after_q = msgspec.structs.replace(s, current="q", from_queue=True, queue=[])
    assert advance(after_q, 1, 0) == ("b", False, 1, False)


def test_end_of_context_stops_unless_repeat() -> None:
    s = _state(pos=2, current="c")
    assert advance(s, 1, 0) == ("c", False, 2, True)
    assert advance(msgspec.structs.replace(s, repeat="context"), 1, 0) == ("a", False, 0, False)


def test_repeat_track_repeats_only_when_the_track_ended_by_itself() -> None:
    s = _state(repeat="track")
    assert advance(s, 1, 0, auto=True)[0] == "a"
    assert advance(s, 1, 0)[0] == "b"


def test_previous_restarts_after_three_seconds() -> None:
    s = _state(pos=1, current="b")
    assert advance(s, -1, 5_000)[0] == "b"
    assert advance(s, -1, 1_000)[0] == "a"
