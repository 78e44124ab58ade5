"""The body ring at the front's link: RING, HTTP_RESPONSE_RING, RING_DONE, and their violations.

Driven like test_front_link.py: a real WorkerLink, the worker end by hand
(link_doubles.py), the ring a memfd made here and passed with SCM_RIGHTS.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from link_doubles import Recorder, Setup, run, start
from pagi.protocol import Event, Kind
from pagi.protocol import messages as m

RING = 4096


def ring_fd(data: bytes = b"") -> int:
    fd = os.memfd_create("test-ring", os.MFD_CLOEXEC)
    os.ftruncate(fd, RING)
    os.pwrite(fd, data, 0)
    return fd


def ring_body(sid: int, offset: int, length: int, more: bool = False) -> list[Any]:
    return m.event(sid, Event.HTTP_RESPONSE_RING, offset, length, more)


def test_ring_pieces_reach_the_handler_as_bodies_and_come_back_as_one_ring_done() -> None:
    async def main() -> None:
        s = Setup(response_window=100)
        await s.ready()
        fd = ring_fd(b"hello, world")
        s.worker.send(m.ring(RING), fds=[fd])
        os.close(fd)
        h = Recorder()
        sid = s.open(h)
        await s.worker.recv()  # OPEN
        s.worker.send(start(sid), ring_body(sid, 0, 5, True), ring_body(sid, 5, 7, False))
        (done,) = await s.worker.recv()
        assert done == [Kind.RING_DONE, 0, 2]
        assert h.calls[1:] == [("body", b"hello", True), ("body", b", world", False)]
        assert s.link.ring is not None and s.link.ring.fd >= 0
        ring = s.link.ring
        s.link.close()
        assert ring.fd == -1  # closed with the link

    run(main)


@pytest.mark.parametrize(
    ("events", "fds", "needle"),
    [
        ([ring_body(1, 0, 5)], 0, "HTTP_RESPONSE_RING without a RING"),
        ([m.ring(RING), m.ring(RING)], 2, "RING twice"),
        ([m.ring(RING)], 0, "RING twice, or without a file descriptor"),
        ([m.ring(RING * 2)], 1, f"RING of {RING * 2} bytes on a file of {RING}"),
        ([m.ring(RING), start(1), ring_body(1, RING - 4, 5)], 1, "outside the ring"),
        ([m.ring(RING), start(1), ring_body(1, 0, 101)], 1, "exceeds the granted window"),
        ([m.ring(RING), start(1), ring_body(1, 0, 1), ring_body(1, 0, 1)], 1, "after the resp"),
    ],
)
def test_ring_violations_drop_the_worker(
    events: list[list[Any]], fds: int, needle: str, caplog: pytest.LogCaptureFixture
) -> None:
    async def main() -> None:
        s = Setup(response_window=100)
        await s.ready()
        h = Recorder()
        s.open(h)
        passed = [ring_fd() for _ in range(fds)]
        s.worker.send(*events, fds=passed)
        for fd in passed:
            os.close(fd)
        await s.worker.recv_eof()
        assert h.calls[-1] == ("lost",)
        assert s.closed == [s.link]
        assert s.link.ring is None or s.link.ring.fd == -1

    run(main)
    assert needle in caplog.text
