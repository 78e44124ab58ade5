"""The worker's side of the body ring (docs/worker-protocol.md), against a hand-driven front."""

from __future__ import annotations

import os

import front_doubles
import pytest
from front_doubles import FakeFront
from pagi.protocol import Event, Kind
from pagi.protocol import messages as m

front = front_doubles.front_fixture  # the FakeFront of each test

KiB = 1024


def test_offered_ring_carries_large_bodies_and_reuses_released_space(front: FakeFront) -> None:
    conn, _ = front.connect(window=1 << 20, body_ring=64 * KiB)
    assert conn.recv() == [Kind.RING, 0, 64 * KiB]
    ring = conn.fds.popleft()
    try:
        with pytest.raises(OSError):
            os.write(ring, b"x")  # the front's copy is read-only
        conn.open(1, path=b"/big", query=b"n=40000")
        assert conn.recv()[2] == Event.HTTP_RESPONSE_START
        assert conn.recv() == [Kind.EVENT, 1, Event.HTTP_RESPONSE_RING, 0, 40000, False]
        assert os.pread(ring, 40000, 0) == b"x" * 40000
        assert conn.recv()[0] == Kind.END
        # not released yet: a second large body does not fit and goes inline
        conn.open(2, path=b"/big", query=b"n=40000")
        r = conn.response(2)
        assert r["bodies"] == [(b"x" * 40000, False)]
        # released: the next one goes through the ring again, from its start
        conn.send(m.ring_done(1))
        conn.open(3, path=b"/big", query=b"n=33000")
        assert conn.recv()[2] == Event.HTTP_RESPONSE_START
        assert conn.recv() == [Kind.EVENT, 3, Event.HTTP_RESPONSE_RING, 0, 33000, False]
        # small bodies stay inline
        conn.open(4, path=b"/big", query=b"n=1000")
        assert conn.response(4)["bodies"] == [(b"x" * 1000, False)]
    finally:
        os.close(ring)


def test_without_an_offer_there_is_no_ring(front: FakeFront) -> None:
    conn, _ = front.connect(window=1 << 20)
    conn.open(1, path=b"/big", query=b"n=40000")
    r = conn.response(1)
    assert r["body"] == b"x" * 40000 and not conn.fds


def test_ring_done_for_more_pieces_than_outstanding_drops_the_link(front: FakeFront) -> None:
    conn, _ = front.connect(body_ring=64 * KiB)
    assert conn.recv()[0] == Kind.RING
    conn.send(m.ring_done(1))
    conn.expect_eof()
    assert "RING_DONE for 1 pieces; 0 outstanding" in front.log()


def test_ring_done_without_a_ring_drops_the_link(front: FakeFront) -> None:
    conn, _ = front.connect()
    conn.send(m.ring_done(1))
    conn.expect_eof()
    assert "RING_DONE without a ring" in front.log()


def test_pieces_sent_in_one_loop_turn_leave_as_one_ring_piece(front: FakeFront) -> None:
    conn, _ = front.connect(window=1 << 20, body_ring=256 * KiB)
    assert conn.recv()[0] == Kind.RING
    ring = conn.fds.popleft()
    try:
        conn.open(1, path=b"/chunks", query=b"n=4&size=40000")
        assert conn.recv()[2] == Event.HTTP_RESPONSE_START
        assert conn.recv() == [Kind.EVENT, 1, Event.HTTP_RESPONSE_RING, 0, 160000, False]
        assert (
            os.pread(ring, 160000, 0) == b"A" * 40000 + b"B" * 40000 + b"C" * 40000 + b"D" * 40000
        )
        assert conn.recv()[0] == Kind.END
        # one piece to release: RING_DONE 1 empties the ring, the next starts at 0
        conn.send(m.ring_done(1))
        # six pieces, the ring holds five: five joined, the sixth inline
        conn.open(2, path=b"/chunks", query=b"n=6&size=50000")
        assert conn.recv()[2] == Event.HTTP_RESPONSE_START
        assert conn.recv() == [Kind.EVENT, 2, Event.HTTP_RESPONSE_RING, 0, 250000, True]
        assert conn.recv() == [Kind.EVENT, 2, Event.HTTP_RESPONSE_BODY, b"F" * 50000, False]
        assert os.pread(ring, 50000, 200000) == b"E" * 50000
    finally:
        os.close(ring)
