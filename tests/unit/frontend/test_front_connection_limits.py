"""Connection counting per address and the limits decisions (no sockets)."""

from __future__ import annotations

import logging

import pytest
from pagi.frontend.connection_limits import ConnectionLimits
from pagi.frontend.connections import ConnectionSet


class Conn:
    def __init__(self, address: str | None) -> None:
        self.client = [address, 1234] if address else None


def test_connection_set_counts_per_address() -> None:
    conns = ConnectionSet()
    a1, a2, b, unix = Conn("10.0.0.1"), Conn("10.0.0.1"), Conn("10.0.0.2"), Conn(None)
    for conn in (a1, a2, b, unix, a1):  # adding twice counts once
        conns.add(conn)
    assert len(conns) == 4 and conns.by_address == {"10.0.0.1": 2, "10.0.0.2": 1}
    conns.discard(a1)
    conns.discard(a1)
    conns.discard(b)
    assert conns.by_address == {"10.0.0.1": 1}
    conns.discard(a2)
    conns.discard(unix)
    assert conns.by_address == {} and not conns


def test_refusals_and_their_log_once_per_episode(caplog: pytest.LogCaptureFixture) -> None:
    conns = ConnectionSet()
    limits = ConnectionLimits(conns, 2, 1, lambda: 0, fd_limit=1000)
    conns.add(Conn("10.0.0.1"))
    with caplog.at_level(logging.WARNING, "pagi.front"):
        assert limits.refusal("10.0.0.1") == (429, "too many connections from this address")
        assert limits.refusal("10.0.0.1") is not None
        assert limits.refusal("10.0.0.2") is None  # admitted: the episode ends
        conns.add(Conn("10.0.0.2"))
        assert limits.refusal("10.0.0.3") == (503, "too many connections")
        assert limits.refusal(None) == (503, "too many connections")
    assert caplog.text.count("reached") == 2


def test_descriptor_pressure_episodes(caplog: pytest.LogCaptureFixture) -> None:
    reaped: list[int] = []
    limits = ConnectionLimits(ConnectionSet(), 0, 0, lambda: reaped.append(1) or 7, fd_limit=100)
    with caplog.at_level(logging.INFO, "pagi.front"):
        for fd in (10, 89, 90, 95, 99, 85, 80, 79, 50, 91, 92):
            limits.descriptor(fd)
    assert reaped == [1, 1]  # two episodes: fd 90 .. fd 79, then fd 91
    assert caplog.text.count("nearly exhausted") == 2
    assert caplog.text.count("closed 7 idle") == 2
    assert caplog.text.count("available again") == 1
