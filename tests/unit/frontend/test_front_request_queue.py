"""The per-connection queue of parsed request events (pure)."""

from __future__ import annotations

from pagi.frontend.http1.parser import Body, EndOfMessage, ParseError, RequestHead
from pagi.frontend.http1.request_queue import MAX_PENDING_BODY, MAX_PENDING_REQUESTS, RequestQueue


def req(
    method: str = "GET", content_length: int | None = None, chunked: bool = False
) -> RequestHead:
    return RequestHead(
        method=method,
        target=b"/",
        http_version="1.1",
        headers=[(b"host", b"x")],
        keep_alive=True,
        chunked=chunked,
        content_length=content_length,
        expect_continue=False,
        upgrade=None,
    )


def test_get_then_pipelined_get() -> None:
    q = RequestQueue(1000)
    assert q.accept([req(), EndOfMessage(), req()]) is None
    assert q.parse_seq == 2 and q.in_message and q.heads == 2
    assert q.parsing(2) and not q.parsing(1)
    head = q.next_request()
    assert isinstance(head, RequestHead)
    assert q.take_body(100) == (b"", False)  # the end of a body-less request
    assert q.heads == 1


def test_body_within_window_joins_chunks_and_takes_the_end() -> None:
    q = RequestQueue(1000)
    q.accept([req("POST", chunked=True), Body(b"ab"), Body(b"cd"), EndOfMessage()])
    q.next_request()
    assert q.body_bytes == 4
    assert q.take_body(100) == (b"abcd", False)
    assert q.body_bytes == 0 and len(q) == 0


def test_body_split_to_fit_the_window() -> None:
    q = RequestQueue(1000)
    q.accept([req("POST", content_length=10), Body(b"0123456789"), EndOfMessage()])
    q.next_request()
    assert q.take_body(4) == (b"0123", True)
    assert q.body_bytes == 6
    assert q.take_body(0) is None  # no room, and the end is not next
    assert q.take_body(3) == (b"456", True)
    assert q.take_body(3) == (b"789", False)  # the end needs no room: taken along
    assert q.take_body(3) is None
    assert q.body_bytes == 0


def test_nothing_queued_takes_nothing() -> None:
    q = RequestQueue(1000)
    q.accept([req("POST", content_length=5)])
    q.next_request()
    assert q.take_body(10) is None
    assert q.parsing(1)
    q.accept([Body(b"abc")])
    assert q.take_body(10) == (b"abc", True)
    q.accept([Body(b"de"), EndOfMessage()])
    assert not q.parsing(1)
    assert q.take_body(10) == (b"de", False)


def test_content_length_over_limit_is_refused_up_front() -> None:
    q = RequestQueue(100)
    error = q.accept([req(), EndOfMessage(), req("POST", content_length=101), Body(b"x")])
    assert isinstance(error, ParseError) and error.status == 413
    assert not q.in_message  # the refused request is not "being parsed"
    assert q.heads == 1 and len(q) == 2  # the first request stays queued


def test_received_body_over_limit() -> None:
    q = RequestQueue(10)
    error = q.accept([req("POST", chunked=True), Body(b"x" * 6), Body(b"y" * 6), EndOfMessage()])
    assert isinstance(error, ParseError) and error.status == 413
    assert q.in_message and q.parsing(1)
    assert q.body_bytes == 6
    q.drop_partial()
    assert len(q) == 0 and q.body_bytes == 0 and q.heads == 0 and not q.in_message


def test_drop_partial_keeps_complete_requests() -> None:
    q = RequestQueue(1000)
    q.accept([req(), EndOfMessage(), req("POST", chunked=True), Body(b"abc")])
    q.drop_partial()
    assert q.heads == 1 and q.body_bytes == 0 and len(q) == 2
    q.push_error(ParseError(400, "bad chunk"))
    assert isinstance(q.next_request(), RequestHead)
    assert q.take_body(10) == (b"", False)
    error = q.next_request()
    assert isinstance(error, ParseError) and error.status == 400


def test_discard_body_up_to_the_end() -> None:
    q = RequestQueue(1000)
    q.accept([req("POST", chunked=True), Body(b"abc"), Body(b"de")])
    q.next_request()
    assert not q.discard_body()
    assert q.body_bytes == 0
    q.accept([Body(b"f"), EndOfMessage(), req()])
    assert q.discard_body()
    assert isinstance(q.next_request(), RequestHead)


def test_empty_body_events_are_ignored() -> None:
    q = RequestQueue(1000)
    q.accept([req("POST", chunked=True), Body(b""), EndOfMessage()])
    assert len(q) == 2 and q.body_bytes == 0


def test_limits_for_pausing() -> None:
    q = RequestQueue(10 * MAX_PENDING_BODY)
    q.accept([req("POST", chunked=True), Body(b"x" * MAX_PENDING_BODY)])
    assert not q.over_limit
    q.accept([Body(b"x")])
    assert q.over_limit
    q.clear()
    assert not q.over_limit and q.body_bytes == 0
    events: list = []
    for _ in range(MAX_PENDING_REQUESTS + 1):
        events += [req(), EndOfMessage()]
    q.accept(events)
    assert q.over_limit
    q.next_request()
    assert not q.over_limit


def test_parse_body_counts_per_request() -> None:
    q = RequestQueue(1000)
    q.accept(
        [req("POST", content_length=3), Body(b"abc"), EndOfMessage(), req("POST", content_length=2)]
    )
    assert q.parse_body == 0 and q.parsing(2)
    q.accept([Body(b"z")])
    assert q.parse_body == 1
