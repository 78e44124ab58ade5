"""The wire format and validation of the app's sse.* events (pure functions)."""

from __future__ import annotations

from typing import Any

import pytest
from pagi.worker.http_events import InvalidEvent
from pagi.worker.sse_events import (
    check_decline_body,
    check_decline_start,
    check_keepalive,
    check_start,
    encode_comment,
    encode_send,
    unknown_type,
)


def send(**fields: Any) -> bytes:
    return encode_send({"type": "sse.send", **fields})


# --- sse.send wire bytes -------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "wire"),
    [
        ({"data": "hello"}, b"data: hello\n\n"),
        ({"data": ""}, b"data:\n\n"),
        ({"data": "a\nb"}, b"data: a\ndata: b\n\n"),
        ({"data": "a\r\nb\rc\nd"}, b"data: a\ndata: b\ndata: c\ndata: d\n\n"),
        ({"data": "a\n"}, b"data: a\ndata:\n\n"),
        ({"data": "\n"}, b"data:\ndata:\n\n"),
        ({"data": "a\n\nb"}, b"data: a\ndata:\ndata: b\n\n"),
        ({"data": "\r\n\r\n"}, b"data:\ndata:\ndata:\n\n"),
        ({"data": " lead"}, b"data:  lead\n\n"),
        ({"data": "é ☃ 😀"}, "data: é ☃ 😀\n\n".encode()),
        # only CR and LF break lines: other Unicode line separators are text
        ({"data": "a\u2028b\x0bc\x85d"}, "data: a\u2028b\x0bc\x85d\n\n".encode()),
        ({"data": "x", "event": "tick"}, b"event: tick\ndata: x\n\n"),
        ({"data": "x", "id": "42"}, b"id: 42\ndata: x\n\n"),
        ({"data": "x", "retry": 0}, b"retry: 0\ndata: x\n\n"),
        ({"data": "x", "retry": 2500}, b"retry: 2500\ndata: x\n\n"),
        (
            {"data": "1\n2", "event": "e", "id": "7", "retry": 10},
            b"event: e\nid: 7\nretry: 10\ndata: 1\ndata: 2\n\n",
        ),
        ({"data": "x", "id": ""}, b"id:\ndata: x\n\n"),  # resets the last event id
        ({"data": "x", "event": ""}, b"event:\ndata: x\n\n"),
        ({"retry": 1000}, b"retry: 1000\n\n"),  # no data: no data line
        ({"id": "5", "data": None}, b"id: 5\n\n"),
        ({"data": "x", "event": None, "id": None, "retry": None, "extra": 1}, b"data: x\n\n"),
        ({"data": "nul\x00inside"}, b"data: nul\x00inside\n\n"),
    ],
)
def test_send_wire_bytes(fields: dict[str, Any], wire: bytes) -> None:
    assert send(**fields) == wire


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "sse.send: needs 'data'"),
        ({"data": None}, "sse.send: needs 'data'"),
        ({"data": b"bytes"}, "sse.send: 'data' must be a str, got bytes"),
        ({"data": 5}, "sse.send: 'data' must be a str, got int"),
        ({"data": ["a"], "event": "e"}, "sse.send: 'data' must be a str, got list"),
        ({"data": "x", "event": "a\nb"}, "sse.send: 'event' must not contain CR or LF"),
        ({"data": "x", "event": "a\rb"}, "sse.send: 'event' must not contain CR or LF"),
        ({"data": "x", "event": 3}, "sse.send: 'event' must be a str, got int"),
        ({"data": "x", "id": "1\n2"}, "sse.send: 'id' must not contain CR or LF"),
        ({"data": "x", "id": "1\r"}, "sse.send: 'id' must not contain CR or LF"),
        ({"data": "x", "id": "1\x002"}, "sse.send: 'id' must not contain NUL"),
        ({"data": "x", "id": 7}, "sse.send: 'id' must be a str, got int"),
        ({"data": "x", "retry": -1}, "sse.send: 'retry' must be an int >= 0"),
        ({"data": "x", "retry": 1.5}, "sse.send: 'retry' must be an int >= 0"),
        ({"data": "x", "retry": "10"}, "sse.send: 'retry' must be an int >= 0"),
        ({"data": "x", "retry": True}, "sse.send: 'retry' must be an int >= 0"),
        ({"data": "\udcff"}, "sse.send: 'data' is not valid text"),
        ({"data": "a\nb\udcff"}, "sse.send: 'data' is not valid text"),
        ({"data": "x", "event": "\ud800"}, "sse.send: 'event' is not valid text"),
        ({"data": "x", "id": "\ud800"}, "sse.send: 'id' is not valid text"),
    ],
)
def test_send_validation(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidEvent) as info:
        send(**fields)
    assert str(info.value).startswith(message), str(info.value)


# --- sse.comment -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("comment", "wire"),
    [
        ("ping", b": ping\n\n"),
        ("", b":\n\n"),
        (None, b":\n\n"),
        ("two\nlines", b": two\n: lines\n\n"),
        ("a\r\n\rb", b": a\n:\n: b\n\n"),
    ],
)
def test_comment_wire_bytes(comment: str | None, wire: bytes) -> None:
    assert encode_comment({"type": "sse.comment", "comment": comment}) == wire


def test_comment_validation() -> None:
    with pytest.raises(InvalidEvent, match=r"sse.comment: 'comment' must be a str, got bytes"):
        encode_comment({"type": "sse.comment", "comment": b"x"})
    with pytest.raises(InvalidEvent, match=r"sse.comment: 'comment' is not valid text"):
        encode_comment({"type": "sse.comment", "comment": "\udc80"})


# --- sse.keepalive ---------------------------------------------------------------------


def test_keepalive_fields() -> None:
    assert check_keepalive({"interval": 15}) == (15, "")
    assert check_keepalive({"interval": 0.5, "comment": "ka"}) == (0.5, "ka")
    assert check_keepalive({"interval": 0, "comment": None}) == (0, "")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "sse.keepalive: 'interval' is required"),
        ({"interval": -1}, "sse.keepalive: 'interval' must be a finite number of seconds >= 0"),
        ({"interval": "5"}, "sse.keepalive: 'interval' must be a finite number"),
        ({"interval": True}, "sse.keepalive: 'interval' must be a finite number"),
        ({"interval": float("inf")}, "sse.keepalive: 'interval' must be a finite number"),
        ({"interval": float("nan")}, "sse.keepalive: 'interval' must be a finite number"),
        ({"interval": 1, "comment": "a\nb"}, "sse.keepalive: 'comment' must not contain CR or LF"),
        ({"interval": 1, "comment": 3}, "sse.keepalive: 'comment' must be a str, got int"),
        ({"interval": 1, "comment": "\udc80"}, "sse.keepalive: 'comment' is not valid text"),
    ],
)
def test_keepalive_validation(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidEvent) as info:
        check_keepalive(fields)
    assert str(info.value).startswith(message), str(info.value)


# --- sse.start and the decline pair ----------------------------------------------------


def test_start_adds_sse_headers_unless_set() -> None:
    assert check_start({}) == (
        200,
        [[b"content-type", b"text/event-stream"], [b"cache-control", b"no-cache"]],
    )
    status, headers = check_start(
        {
            "status": 201,
            "headers": [(b"Content-Type", b"text/event-stream; charset=utf-8"), (b"x-a", b"1")],
        }
    )
    assert status == 201
    assert headers == [
        [b"content-type", b"text/event-stream; charset=utf-8"],
        [b"x-a", b"1"],
        [b"cache-control", b"no-cache"],
    ]
    _, headers = check_start({"headers": [[b"cache-control", b"no-store"]]})
    assert headers == [[b"cache-control", b"no-store"], [b"content-type", b"text/event-stream"]]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"status": 199}, "sse.start: 'status' must be an int from 200 to 599"),
        ({"status": "200"}, "sse.start: 'status' must be an int from 200 to 599"),
        ({"headers": [(b"content-length", b"5")]}, "sse.start: an event stream has no"),
        ({"headers": [(b"x", b"a\nb")]}, "sse.start: header value for b'x' contains CR, LF"),
        ({"headers": [(b"bad name", b"v")]}, "sse.start: header name b'bad name' is not"),
        ({"headers": "nope"}, "sse.start: 'headers' must be an iterable"),
    ],
)
def test_start_validation(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidEvent) as info:
        check_start(fields)
    assert str(info.value).startswith(message), str(info.value)


def test_decline_start_and_body() -> None:
    assert check_decline_start({"status": 204}) == (204, [])
    assert check_decline_start({"status": 404, "headers": [(b"X-A", b"1")]}) == (
        404,
        [[b"x-a", b"1"]],
    )
    with pytest.raises(InvalidEvent, match=r"sse.http.response.start: 'status' is required"):
        check_decline_start({})
    with pytest.raises(InvalidEvent, match=r"sse.http.response.start: 'status' must be an int"):
        check_decline_start({"status": 1000})
    with pytest.raises(InvalidEvent, match=r"sse.http.response.start: header value"):
        check_decline_start({"status": 200, "headers": [(b"x", b"\x00")]})
    assert check_decline_body({}) == (b"", False)
    assert check_decline_body({"body": bytearray(b"ab"), "more_body": True}) == (b"ab", True)
    assert check_decline_body({"body": b"ab", "more": False, "more_body": True}) == (b"ab", False)
    with pytest.raises(InvalidEvent, match=r"sse.http.response.body: 'body' must be bytes"):
        check_decline_body({"body": "text"})
    with pytest.raises(InvalidEvent, match=r"sse.http.response.body: 'more' must be a bool"):
        check_decline_body({"more": 2})
    with pytest.raises(InvalidEvent, match=r"sse.http.response.body: file bodies"):
        check_decline_body({"file": "/etc/hostname"})


def test_unknown_type_lists_the_sse_events() -> None:
    message = str(unknown_type("http.response.start"))
    assert "'http.response.start'" in message and "sse scope" in message
    assert "sse.start" in message and "sse.http.response.body" in message
