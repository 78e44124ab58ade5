"""Validation of what an app sends on an http scope (pagi.worker.http_events)."""

from __future__ import annotations

import pathlib
from typing import Any

import pytest
from pagi.worker import http_events as events
from pagi.worker.http_events import InvalidEvent, UnexpectedEvent


def test_exception_classes() -> None:
    assert issubclass(InvalidEvent, ValueError)
    assert issubclass(UnexpectedEvent, RuntimeError)


# --- type -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "needle"),
    [
        ([("type", "x")], "send() takes an event dict, got list"),
        ("http.response.start", "send() takes an event dict, got str"),
        ({}, "event has no 'type' key"),
        ({"type": 3}, "event 'type' must be a str, got int"),
    ],
)
def test_event_type_errors(event: Any, needle: str) -> None:
    with pytest.raises(InvalidEvent) as info:
        events.event_type(event)
    assert needle in str(info.value)


def test_event_type_and_unknown_type() -> None:
    assert events.event_type({"type": "http.response.body", "extra": 1}) == "http.response.body"
    message = str(events.unknown_type("http.response.nope"))
    assert "unknown event type 'http.response.nope'" in message


# --- http.response.start -------------------------------------------------------------------


def test_start_normalizes() -> None:
    status, headers, trailers = events.check_start(
        {
            "type": "http.response.start",
            "status": 404,
            "headers": [(b"Content-Type", b"text/plain"), [bytearray(b"X-A"), bytearray(b"v")]],
            "unknown": object(),
        }
    )
    assert status == 404
    assert headers == [[b"content-type", b"text/plain"], [b"x-a", b"v"]]
    assert all(type(n) is bytes and type(v) is bytes for n, v in headers)
    assert trailers is False


def test_start_headers_from_a_generator_and_defaults() -> None:
    gen = ((b"a", b"1") for _ in range(2))
    assert events.check_start({"status": 200, "headers": gen})[1] == [[b"a", b"1"]] * 2
    assert events.check_start({"status": 200}) == (200, [], False)
    assert events.check_start({"status": 200, "headers": None, "trailers": None})[2] is False


@pytest.mark.parametrize("flag", [True, 1])
def test_start_trailers_flag(flag: Any) -> None:
    assert events.check_start({"status": 200, "trailers": flag})[2] is True


@pytest.mark.parametrize(
    ("status", "needle"),
    [
        (None, "http.response.start: 'status' is required"),
        ("200", "http.response.start: 'status' must be an int from 100 to 999, got '200'"),
        (True, "got True"),
        (99, "got 99"),
        (1000, "got 1000"),
        (200.0, "got 200.0"),
    ],
)
def test_start_status(status: Any, needle: str) -> None:
    event: dict[str, Any] = {"type": "http.response.start", "headers": []}
    if status is not None:
        event["status"] = status
    with pytest.raises(InvalidEvent) as info:
        events.check_start(event)
    assert needle in str(info.value)


@pytest.mark.parametrize(
    ("headers", "needle"),
    [
        (b"x: y", "'headers' must be an iterable of [name, value] pairs, got bytes"),
        ("x", "got str"),
        ({b"a": b"b"}, "got dict"),
        (5, "got int"),
        ([b"ab"], "'headers' item 0 must be a [name, value] pair"),
        ([(b"a", b"b"), (b"a",)], "'headers' item 1 must be a [name, value] pair"),
        ([(b"a", b"b", b"c")], "must be a [name, value] pair"),
        ([("content-type", b"x")], "header name (item 0) must be bytes, got str"),
        ([(b"content-type", "x")], "header value (item 0) must be bytes, got str"),
        ([(b"content-type", 5)], "must be bytes, got int"),
        ([(b"bad name", b"x")], "header name b'bad name' is not a valid HTTP token"),
        ([(b"", b"x")], "header name b'' is not a valid HTTP token"),
        ([(b"a:b", b"x")], "is not a valid HTTP token"),
        ([(b"a\r\nb", b"x")], "is not a valid HTTP token"),
        (
            [(b"x-evil", b"a\r\nset-cookie: x=1")],
            "header value for b'x-evil' contains CR, LF or NUL",
        ),
        ([(b"x", b"a\rb")], "contains CR, LF or NUL"),
        ([(b"x", b"a\nb")], "contains CR, LF or NUL"),
        ([(b"x", b"a\x00b")], "contains CR, LF or NUL"),
    ],
)
def test_start_headers_rejected(headers: Any, needle: str) -> None:
    with pytest.raises(InvalidEvent) as info:
        events.check_start({"type": "http.response.start", "status": 200, "headers": headers})
    assert needle in str(info.value)
    assert str(info.value).startswith("http.response.start: ")


def test_header_values_may_hold_other_bytes() -> None:
    value = bytes(range(0x20, 0x7F)) + b"\t\xff\x80"
    assert events.check_headers("t", [(b"x", value)]) == [[b"x", value]]


@pytest.mark.parametrize("flag", ["yes", 2, 1.0])
def test_start_bad_trailers_flag(flag: Any) -> None:
    with pytest.raises(InvalidEvent, match="'trailers' must be a bool"):
        events.check_start({"status": 200, "trailers": flag})


# --- http.response.body -------------------------------------------------------------------


def test_body_defaults_and_flags() -> None:
    assert events.check_body({"type": "http.response.body"}) == (b"", False)
    assert events.check_body({"body": b"x", "more": True}) == (b"x", True)
    assert events.check_body({"body": b"x", "more_body": True}) == (b"x", True)
    assert events.check_body({"body": b"x", "more": 1}) == (b"x", True)
    assert events.check_body({"body": b"x", "more": 0, "more_body": True}) == (b"x", False)
    assert events.check_body({"body": None, "more": None}) == (b"", False)
    body, _ = events.check_body({"body": bytearray(b"ab")})
    assert type(body) is bytes and body == b"ab"
    body, _ = events.check_body({"body": memoryview(b"abc")[1:]})
    assert type(body) is bytes and body == b"bc"


@pytest.mark.parametrize(
    ("event", "needle"),
    [
        ({"body": "text"}, "http.response.body: 'body' must be bytes, got str"),
        ({"body": 5}, "'body' must be bytes, got int"),
        ({"body": b"", "more": "yes"}, "http.response.body: 'more' must be a bool"),
        ({"body": b"", "more_body": 2}, "'more_body' must be a bool"),
    ],
)
def test_body_rejected(event: dict[str, Any], needle: str) -> None:
    with pytest.raises(InvalidEvent) as info:
        events.check_body(event)
    assert needle in str(info.value)


# --- file bodies -------------------------------------------------------------------------


def test_file_variant() -> None:
    assert events.check_file({"file": "/a"}) == ("/a", 0, None)
    assert events.check_file({"file": pathlib.Path("/a"), "offset": 3, "length": 0}) == (
        "/a",
        3,
        0,
    )
    assert events.check_file({"file": "/a", "body": b"", "more": False}) == ("/a", 0, None)
    assert events.check_file({"path": "/p"}, events.PATHSEND, "path") == ("/p", 0, None)


@pytest.mark.parametrize(
    ("event", "needle"),
    [
        ({"file": 5}, "http.response.body: 'file' must be a str or os.PathLike path, got int"),
        ({"file": "/a", "offset": -1}, "'offset' must be an int >= 0, got -1"),
        ({"file": "/a", "offset": True}, "'offset' must be an int >= 0, got True"),
        ({"file": "/a", "offset": "1"}, "'offset' must be an int >= 0"),
        ({"file": "/a", "length": -2}, "'length' must be an int >= 0 or None, got -2"),
        ({"file": "/a", "length": 1.5}, "'length' must be an int >= 0 or None"),
        ({"file": "/a", "body": b"x"}, "'body' and 'file' are mutually exclusive"),
        ({"file": "/a", "more": True}, "a file body is always final"),
        ({"file": "/a", "more_body": True}, "a file body is always final"),
    ],
)
def test_file_rejected(event: dict[str, Any], needle: str) -> None:
    with pytest.raises(InvalidEvent) as info:
        events.check_file(event)
    assert needle in str(info.value)


# --- http.response.trailers ---------------------------------------------------------------


def test_trailers() -> None:
    assert events.check_trailers({"headers": [(b"X-Sum", b"1")]}) == [[b"x-sum", b"1"]]
    assert events.check_trailers({}) == []
    with pytest.raises(InvalidEvent, match=r"^http\.response\.trailers: header value"):
        events.check_trailers({"headers": [(b"x", b"\n")]})
