"""The worker's body ring: placement, wrap-around, release, no overwrite of unreleased bytes."""

from __future__ import annotations

import os

import pytest
from pagi.protocol import LinkError
from pagi.worker.body_ring import BodyRing

_front_fds: dict[int, int] = {}  # id(ring) -> the descriptor the front was given


@pytest.fixture
def ring():  # type: ignore[no-untyped-def]
    r = BodyRing(100)
    _front_fds[id(r)] = r.take_descriptor()
    yield r
    r.close()
    os.close(_front_fds.pop(id(r)))


def read(ring: BodyRing, offset: int, n: int) -> bytes:
    """What the front reads, through the descriptor it was given."""
    return os.pread(_front_fds[id(ring)], n, offset)


def test_pieces_are_placed_one_after_the_other_and_readable_by_another_descriptor(
    ring: BodyRing,
) -> None:
    assert ring.place(b"a" * 30) == 0
    assert ring.place(b"b" * 30) == 30
    assert read(ring, 0, 60) == b"a" * 30 + b"b" * 30
    assert ring.outstanding == 2


def test_no_room_returns_minus_one_and_leaves_unreleased_bytes_alone(ring: BodyRing) -> None:
    ring.place(b"a" * 60)
    assert ring.place(b"b" * 41) == -1
    assert ring.place(memoryview(b"c" * 40)) == 60
    assert ring.place(b"d") == -1  # full
    assert read(ring, 0, 100) == b"a" * 60 + b"c" * 40


def test_a_piece_that_does_not_fit_before_the_end_wraps_to_zero_once_that_is_released(
    ring: BodyRing,
) -> None:
    ring.place(b"a" * 40)
    ring.place(b"b" * 40)
    assert ring.place(b"c" * 30) == -1  # 20 left at the end, the start still held
    ring.release(1)  # [0, 40) free again
    assert ring.place(b"c" * 30) == 0  # skips the 20-byte tail
    assert ring.place(b"d" * 10) == 30
    assert ring.place(b"e" * 1) == -1  # 40..80 held by b, 80..100 skipped with c
    ring.release(1)  # b gone
    assert ring.place(b"e" * 40) == 40
    assert read(ring, 0, 80) == b"c" * 30 + b"d" * 10 + b"e" * 40


def test_an_empty_ring_starts_again_at_zero(ring: BodyRing) -> None:
    ring.place(b"a" * 70)
    ring.release(1)
    assert ring.place(b"b" * 90) == 0


def test_a_piece_larger_than_the_ring_never_fits(ring: BodyRing) -> None:
    assert ring.place(b"x" * 101) == -1
    assert ring.outstanding == 0


def test_releasing_more_pieces_than_outstanding_is_a_link_error(ring: BodyRing) -> None:
    ring.place(b"a")
    with pytest.raises(LinkError, match="RING_DONE for 2 pieces; 1 outstanding"):
        ring.release(2)


def test_the_front_gets_one_read_only_descriptor() -> None:
    r = BodyRing(100)
    fd = r.take_descriptor()
    assert r.take_descriptor() == -1
    try:
        with pytest.raises(OSError):
            os.write(fd, b"x")
        assert os.fstat(fd).st_size == 100
    finally:
        r.close()
        os.close(fd)


def test_closing_a_ring_whose_descriptor_was_not_taken_closes_that_too() -> None:
    before = len(os.listdir("/proc/self/fd"))
    r = BodyRing(10)
    assert len(os.listdir("/proc/self/fd")) > before
    r.close()
    assert len(os.listdir("/proc/self/fd")) == before


def test_close_is_idempotent_and_the_front_descriptor_outlives_it() -> None:
    r = BodyRing(10)
    r.place(b"kept")
    fd = r.take_descriptor()
    r.close()
    r.close()
    try:
        assert os.pread(fd, 4, 0) == b"kept"
    finally:
        os.close(fd)


def test_append_joins_the_newest_piece_only_where_it_ends_and_only_with_room(
    ring: BodyRing,
) -> None:
    assert ring.append(b"x", 0) is False  # no piece yet
    ring.place(b"a" * 30)
    assert ring.append(b"b" * 20, 29) is False  # not where the newest piece ends
    assert ring.append(b"b" * 20, 30) is True
    assert ring.outstanding == 1  # one piece of 50 bytes
    assert ring.append(b"c" * 51, 50) is False  # past the end: no wrap for a join
    assert read(ring, 0, 50) == b"a" * 30 + b"b" * 20
    ring.release(1)
    assert ring.place(b"d" * 60) == 0
    ring.place(b"e" * 30)
    ring.release(1)  # d gone: [0, 60) free, e at 60..90
    assert ring.place(b"f" * 20) == 0  # wraps (10 left at the end)
    assert ring.append(b"g" * 41, 20) is False  # would run into e
    assert ring.append(b"g" * 40, 20) is True
    assert read(ring, 0, 90) == b"f" * 20 + b"g" * 40 + b"e" * 30
