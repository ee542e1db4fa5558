"""Edits of what comes next (musicd.services.player_queue): the coming list is the play-next queue, then the
context after the current track; moves across that boundary change what an item is."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from musicd.domain.player import PlayerState, advance
from musicd.errors import PlayerError, ValidationError
from musicd.services.player_queue import jump_fields, move_fields, remove_fields

# Context a..e, playing b (pos 1); play-next queue x, y. Coming: x y c d e.
S = PlayerState(user_id="u", tracks=["a", "b", "c", "d", "e"], order=[0, 1, 2, 3, 4], pos=1, queue=["x", "y"],
                current="b")


def coming(s: PlayerState, **fields: Any) -> list[str]:
    s = msgspec.structs.replace(s, **fields)
    return [*s.queue, *(s.tracks[i] for i in s.order[s.pos + 1:])]


def test_moves_within_and_across_the_play_next_queue() -> None:
    assert coming(S, **move_fields(S, 1, "y", 0)) == ["y", "x", "c", "d", "e"]
    assert coming(S, **move_fields(S, 4, "e", 2)) == ["x", "y", "e", "c", "d"]
    # a context track dropped inside the queue becomes a queued item (taken out of the context order)
    moved = move_fields(S, 3, "d", 1)
    assert moved["queue"] == ["x", "d", "y"] and coming(S, **moved) == ["x", "d", "y", "c", "e"]
    # a queued item dropped among the context's tracks joins the context
    moved = move_fields(S, 0, "x", 3)
    assert moved["queue"] == ["y"] and moved["tracks"][-1] == "x"
    assert coming(S, **moved) == ["y", "c", "d", "x", "e"]
    # at the boundary each stays what it was
    assert move_fields(S, 1, "y", 1)["queue"] == ["x", "y"]
    assert move_fields(S, 2, "c", 2)["queue"] == ["x", "y"]


def test_jump_and_remove() -> None:
    j = jump_fields(S, 1, "y")  # a queued item: the one before it is skipped
    after = msgspec.structs.replace(S, **j)
    assert j["current"] == "y" and j["from_queue"] and coming(after) == ["c", "d", "e"]
    assert advance(after, 1, 0)[0] == "c"  # the context goes on after the track played before the queue
    j = jump_fields(S, 3, "d")  # a context track: the play-next queue stays
    assert coming(S, **j) == ["x", "y", "e"] and j["current"] == "d" and not j["from_queue"]
    assert coming(S, **remove_fields(S, 0, "x")) == ["y", "c", "d", "e"]
    assert coming(S, **remove_fields(S, 2, "c")) == ["x", "y", "d", "e"]


@pytest.mark.parametrize("call", [
    lambda: move_fields(S, 0, "y", 1), lambda: jump_fields(S, 2, "d"), lambda: remove_fields(S, 4, "a")])
def test_an_item_that_moved_is_refused(call: Any) -> None:
    with pytest.raises(PlayerError) as e:
        call()
    assert e.value.code == "stale_state"


@pytest.mark.parametrize("call", [
    lambda: move_fields(S, 5, "e", 0), lambda: move_fields(S, 0, "x", 5), lambda: move_fields(S, 0, "x", -1),
    lambda: jump_fields(S, -1, "x"), lambda: remove_fields(S, 9, "x")])
def test_an_index_outside_the_list_is_refused(call: Any) -> None:
    with pytest.raises(ValidationError) as e:
        call()
    assert e.value.code == "invalid_index"
