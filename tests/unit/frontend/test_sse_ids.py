"""The event-stream follower that knows a stream's last event id (frontend/streams/sse_ids.py)."""

from __future__ import annotations

import pytest
from pagi.frontend.streams.sse_ids import MAX_ID_LINE, SSEIdTracker


def fed(*pieces: bytes, last: bytes | None = None) -> SSEIdTracker:
    tracker = SSEIdTracker(last)
    for piece in pieces:
        tracker.feed(piece)
    return tracker


def test_nothing_fed_keeps_the_requests_id_and_is_at_a_boundary() -> None:
    assert fed().last_id is None and fed().at_boundary
    assert fed(last=b"7").last_id == b"7"


def test_an_id_counts_only_once_its_event_is_dispatched() -> None:
    tracker = fed(b"id: 1\ndata: a\n")
    assert tracker.last_id is None and not tracker.at_boundary
    tracker.feed(b"\n")
    assert tracker.last_id == b"1" and tracker.at_boundary


@pytest.mark.parametrize(
    ("line", "expected"),
    [(b"id: 5", b"5"), (b"id:5", b"5"), (b"id:  5", b" 5"), (b"id", b""), (b"id:", b"")],
)
def test_id_field_forms(line: bytes, expected: bytes) -> None:
    assert fed(line + b"\ndata: x\n\n").last_id == expected


def test_fields_that_are_not_id_and_ids_with_nul_leave_the_id_alone() -> None:
    assert fed(b"idx: 9\ndata: x\n\n", last=b"1").last_id == b"1"
    assert fed(b"id: a\x00b\ndata: x\n\n", last=b"1").last_id == b"1"
    assert fed(b"data: id: 9\n\n", last=b"1").last_id == b"1"
    assert fed(b": id: 9\n\n", last=b"1").last_id == b"1"


def test_the_id_buffer_carries_over_to_events_without_an_id() -> None:
    tracker = fed(b"id: 3\ndata: a\n\n", b"data: b\n\n")
    assert tracker.last_id == b"3"


@pytest.mark.parametrize("ending", [b"\n", b"\r\n", b"\r"])
def test_every_line_ending_and_every_split(ending: bytes) -> None:
    stream = b"".join(
        f"id: {n}{ending.decode()}data: tick {n}{ending.decode()}{ending.decode()}".encode()
        for n in range(1, 4)
    )
    for cut in range(1, len(stream)):
        tracker = fed(stream[:cut], stream[cut:])
        assert tracker.last_id == b"3", cut
        assert tracker.at_boundary, cut


def test_byte_by_byte() -> None:
    tracker = SSEIdTracker()
    stream = b"id: 12\r\ndata: x\r\n\r\n: comment\n\nid: 13\ndata: y\n"
    for i in range(len(stream)):
        tracker.feed(stream[i : i + 1])
    assert tracker.last_id == b"12" and not tracker.at_boundary
    tracker.feed(b"\n")
    assert tracker.last_id == b"13" and tracker.at_boundary


def test_a_comment_alone_keeps_the_boundary() -> None:
    tracker = fed(b"id: 1\ndata: x\n\n", b": keepalive\n")
    assert tracker.at_boundary and tracker.last_id == b"1"


def test_a_long_data_line_is_not_kept() -> None:
    tracker = SSEIdTracker()
    tracker.feed(b"data: " + b"x" * 100_000)
    assert len(tracker._partial) == 1 and not tracker.at_boundary
    tracker.feed(b"y" * 100_000 + b"\n\n")
    assert tracker.at_boundary and not tracker.unusable


def test_an_id_line_longer_than_the_limit_makes_the_stream_unusable() -> None:
    tracker = SSEIdTracker()
    tracker.feed(b"id: " + b"1" * MAX_ID_LINE)
    tracker.feed(b"1\n\n")
    assert tracker.unusable
    assert tracker.at_boundary  # still followed as an ordinary line
