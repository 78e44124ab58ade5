"""The front's ring reader: reads the worker's pieces; refuses impossible ranges and files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pagi.frontend.link.body_ring import MAX_RING_SIZE, RingReader
from pagi.frontend.link.io import LinkViolation
from pagi.protocol import Event, Kind


def memfd(data: bytes) -> int:
    fd = os.memfd_create("test-ring", os.MFD_CLOEXEC)
    os.write(fd, data)
    return fd


def fd_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


def test_as_body_reads_the_piece_into_a_body_message() -> None:
    reader = RingReader(memfd(b"0123456789"), 10)
    try:
        msg = [Kind.EVENT, 4, Event.HTTP_RESPONSE_RING, 3, 4, True]
        assert reader.as_body(msg) == [Kind.EVENT, 4, Event.HTTP_RESPONSE_BODY, b"3456", True]
    finally:
        reader.close()


@pytest.mark.parametrize(("offset", "length"), [(8, 3), (10, 1), (0, 11)])
def test_a_range_outside_the_ring_is_a_violation(offset: int, length: int) -> None:
    reader = RingReader(memfd(b"0123456789"), 10)
    try:
        with pytest.raises(LinkViolation, match="outside the ring of 10 bytes"):
            reader.read(1, offset, length)
    finally:
        reader.close()


def test_a_file_truncated_under_the_reader_is_a_violation_not_a_crash() -> None:
    fd = memfd(b"0123456789")
    reader = RingReader(os.dup(fd), 10)
    os.ftruncate(fd, 4)
    os.close(fd)
    try:
        with pytest.raises(LinkViolation, match="holds 2 of 4 bytes"):
            reader.read(1, 2, 4)
    finally:
        reader.close()


def test_a_ring_larger_than_its_file_is_refused_and_the_descriptor_closed() -> None:
    fd = memfd(b"abc")
    with pytest.raises(LinkViolation, match="RING of 4 bytes on a file of 3"):
        RingReader(fd, 4)
    assert not fd_open(fd)


def test_a_ring_above_the_limit_is_refused() -> None:
    fd = memfd(b"")
    os.ftruncate(fd, MAX_RING_SIZE + 1)
    with pytest.raises(LinkViolation, match="RING of"):
        RingReader(fd, MAX_RING_SIZE + 1)
    assert not fd_open(fd)


def test_a_descriptor_that_is_not_a_regular_file_is_refused(tmp_path: Path) -> None:
    r, w = os.pipe()
    os.close(w)
    with pytest.raises(LinkViolation, match="not a regular file"):
        RingReader(r, 10)
    assert not fd_open(r)


def test_close_is_idempotent() -> None:
    fd = memfd(b"x")
    reader = RingReader(fd, 1)
    reader.close()
    reader.close()
    assert reader.fd == -1 and not fd_open(fd)
