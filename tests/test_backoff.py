"""The reconnect loop both collectors use: waits that double while the peer gives nothing and start over after it
gave something, one warning per lost connection, and bugs that are not taken for a flaky peer."""

import asyncio
import logging

import pytest

from ingest.backoff import Backoff, reconnect_forever

log = logging.getLogger("test.peer")


def test_waits_double_while_the_peer_gives_nothing_and_start_over_after_it_gave_something(caplog):
    # what each connection does, in order: refused, silent, ends by itself, gets one reading then drops, a bug
    outcomes = ["refused", "refused", "silent", "ended", "reading", "refused", "bug"]
    received, waits = [0], []

    async def session():
        outcome = outcomes.pop(0)
        if outcome == "refused":
            raise ConnectionRefusedError(111, "Connection refused")
        if outcome == "silent":
            raise TimeoutError("no data for 3 s")
        if outcome == "reading":
            received[0] += 1
            raise ConnectionResetError(104, "Connection reset by peer")
        if outcome == "bug":
            raise KeyError("a bug")

    async def sleep(seconds):
        waits.append(seconds)

    with caplog.at_level(logging.WARNING, logger="test.peer"), pytest.raises(KeyError, match="a bug"):
        asyncio.run(reconnect_forever(session, lambda: received[0], (OSError,), log, "peer", Backoff(1, 4), sleep))

    assert outcomes == []
    assert waits == [1, 2, 4, 4, 1, 2]
    assert caplog.messages == [
        "peer: [Errno 111] Connection refused; reconnecting in 1 s",
        "peer: [Errno 111] Connection refused; reconnecting in 2 s",
        "peer: no data for 3 s; reconnecting in 4 s",
        "peer: the connection ended; reconnecting in 4 s",
        "peer: [Errno 104] Connection reset by peer; reconnecting in 1 s",
        "peer: [Errno 111] Connection refused; reconnecting in 2 s",
    ]


class Stop(Exception):
    """Ends a loop that never ends by itself."""


def test_an_error_without_a_message_is_named(caplog):
    async def session():
        raise TimeoutError

    async def sleep(_seconds):
        raise Stop

    with caplog.at_level(logging.WARNING, logger="test.peer"), pytest.raises(Stop):
        asyncio.run(reconnect_forever(session, lambda: 0, (OSError,), log, "inverter", sleep=sleep))
    assert caplog.messages == ["inverter: TimeoutError; reconnecting in 1 s"]
