"""Streaming a file descriptor in bounded chunks, with a sink that can push back."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pagi.frontend.streams.file_body import (
    PUMP_BLOCKED,
    PUMP_DONE,
    PUMP_YIELD,
    FileBody,
    regular_file_length,
)

PAYLOAD = bytes(range(256)) * 1000  # 256000 bytes


class Sink:
    """Collects writes; reports 'paused' once more than ``high`` bytes are unread."""

    def __init__(self, high: int | None = None) -> None:
        self.data = bytearray()
        self.writes: list[int] = []
        self.high = high
        self.unread = 0

    def write(self, chunk: bytes) -> None:
        self.data += chunk
        self.writes.append(len(chunk))
        self.unread += len(chunk)

    def paused(self) -> bool:
        return self.high is not None and self.unread > self.high

    def drain(self) -> None:
        self.unread = 0


@pytest.fixture
def fd(tmp_path: Path):  # type: ignore[no-untyped-def]
    path = tmp_path / "data.bin"
    path.write_bytes(PAYLOAD)
    descriptor = os.open(path, os.O_RDONLY)
    yield descriptor
    try:
        os.close(descriptor)
    except OSError:
        pass


def pump_all(body: FileBody, sink: Sink) -> int:
    rounds = 0
    while True:
        rounds += 1
        result = body.pump(sink.write, sink.paused)
        if result == PUMP_DONE:
            return rounds
        if result == PUMP_BLOCKED:
            sink.drain()
        assert rounds < 10_000


def test_regular_file_length(fd: int) -> None:
    assert regular_file_length(fd, 0, None) == len(PAYLOAD)
    assert regular_file_length(fd, 10, None) == len(PAYLOAD) - 10
    assert regular_file_length(fd, 10, 100) == 100
    assert regular_file_length(fd, len(PAYLOAD) - 5, 100) == 5  # clipped to the file
    assert regular_file_length(fd, len(PAYLOAD) + 5, None) == 0


def test_regular_file_length_of_a_pipe_is_none() -> None:
    r, w = os.pipe()
    try:
        assert regular_file_length(r, 0, None) is None
    finally:
        os.close(r)
        os.close(w)


def test_whole_file_in_64k_chunks(fd: int) -> None:
    body = FileBody(fd, 0, len(PAYLOAD))
    sink = Sink()
    pump_all(body, sink)
    assert bytes(sink.data) == PAYLOAD
    assert max(sink.writes) == 64 * 1024
    assert body.sent == len(PAYLOAD) and not body.short
    # pread never moves the descriptor's own offset
    assert os.lseek(fd, 0, os.SEEK_CUR) == 0


def test_range(fd: int) -> None:
    body = FileBody(fd, 10, 100)
    sink = Sink()
    pump_all(body, sink)
    assert bytes(sink.data) == PAYLOAD[10:110]


def test_to_end_of_file(fd: int) -> None:
    body = FileBody(fd, 1000, None)
    sink = Sink()
    pump_all(body, sink)
    assert bytes(sink.data) == PAYLOAD[1000:]
    assert not body.short


def test_back_pressure_stops_reading(fd: int) -> None:
    body = FileBody(fd, 0, len(PAYLOAD), chunk_size=1000)
    sink = Sink(high=5000)
    assert body.pump(sink.write, sink.paused) == PUMP_BLOCKED
    # stopped right after crossing the mark: nothing buffered beyond one chunk
    assert len(sink.data) == 6000
    sink.drain()
    pump_all(body, sink)
    assert bytes(sink.data) == PAYLOAD


def test_budget_per_call_yields(fd: int) -> None:
    body = FileBody(fd, 0, None, chunk_size=1000)
    sink = Sink()
    assert body.pump(sink.write, sink.paused, max_chunks=3) == PUMP_YIELD
    assert sink.writes == [1000, 1000, 1000]


def test_exact_budget_end_is_done(fd: int) -> None:
    body = FileBody(fd, 0, 3000, chunk_size=1000)
    sink = Sink()
    assert body.pump(sink.write, sink.paused, max_chunks=3) == PUMP_DONE


def test_file_shorter_than_promised_is_short(fd: int) -> None:
    body = FileBody(fd, len(PAYLOAD) - 10, 100)
    sink = Sink()
    pump_all(body, sink)
    assert len(sink.data) == 10
    assert body.short


def test_empty_range(fd: int) -> None:
    body = FileBody(fd, 0, 0)
    sink = Sink()
    assert body.pump(sink.write, sink.paused) == PUMP_DONE
    assert sink.writes == []


def test_close_is_idempotent_and_closes_the_fd(fd: int) -> None:
    body = FileBody(fd, 0, None)
    body.close()
    assert body.closed
    with pytest.raises(OSError):
        os.fstat(fd)
    body.close()


def test_read_error_propagates(tmp_path: Path) -> None:
    directory = os.open(tmp_path, os.O_RDONLY)
    body = FileBody(directory, 0, None)
    try:
        with pytest.raises(OSError):
            body.pump(Sink().write, lambda: False)
    finally:
        body.close()
