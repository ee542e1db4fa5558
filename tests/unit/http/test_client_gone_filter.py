"""granian's lines for a client that left mid-response are dropped; its other transport errors are kept."""

from __future__ import annotations

import logging

import pytest

from musicd.http.serving import ClientGoneFilter


def _record(msg: str) -> logging.LogRecord:
    return logging.LogRecord("_granian", logging.INFO, __file__, 1, msg, None, None)


@pytest.mark.parametrize(("msg", "kept"), [
    ("ASGI transport error: Closed", False),
    ("ASGI transport error: SendError { .. }", False),
    ("ASGI transport error: protocol violation", True),
    ("Listening at: http://127.0.0.1:4747", True),
])
def test_client_gone_lines_are_dropped(msg: str, kept: bool) -> None:
    assert ClientGoneFilter().filter(_record(msg)) is kept
