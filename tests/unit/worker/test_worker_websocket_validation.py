"""Every websocket event the app may send, checked before it reaches the wire,
and the events allowed in each state of the scope (in-process).
"""

from __future__ import annotations

from typing import Any

import pytest
from pagi.protocol import Event
from pagi.worker.http_events import InvalidEvent, UnexpectedEvent
from websocket_scope_doubles import ACCEPT, make_ws, sent, wsend
from worker_doubles import run

BAD_EVENTS: list[tuple[dict[str, Any], str]] = [
    ({"type": "websocket.nope"}, "unknown event type 'websocket.nope' for a websocket scope"),
    ({"type": "http.response.start", "status": 200}, "unknown event type 'http.response.start'"),
    # accept
    ({"type": "websocket.accept", "subprotocol": 3}, "'subprotocol' must be a str or None"),
    ({"type": "websocket.accept", "subprotocol": ""}, "'subprotocol' must be a non-empty HTTP"),
    ({"type": "websocket.accept", "subprotocol": "a b"}, "'subprotocol' must be a non-empty"),
    ({"type": "websocket.accept", "headers": "x"}, "'headers' must be an iterable of"),
    ({"type": "websocket.accept", "headers": [(b"x", b"a\nb")]}, "contains CR, LF or NUL"),
    ({"type": "websocket.accept", "headers": [(b"x y", b"1")]}, "is not a valid HTTP token"),
    ({"type": "websocket.accept", "headers": [("x", b"1")]}, "header name (item 0) must be bytes"),
    (
        {"type": "websocket.accept", "headers": [(b"Sec-WebSocket-Protocol", b"x")]},
        "must not include sec-websocket-protocol; use the 'subprotocol' key",
    ),
    (
        {"type": "websocket.accept", "headers": [(b"upgrade", b"x")]},
        "must not include upgrade; the server sets it",
    ),
    # close
    ({"type": "websocket.close", "code": "1000"}, "'code' must be an int from 1000-1003"),
    ({"type": "websocket.close", "code": True}, "'code' must be an int"),
    ({"type": "websocket.close", "reason": b"x"}, "websocket.close: 'reason' must be a str"),
    ({"type": "websocket.close", "reason": "\ud800"}, "'reason' cannot be encoded as UTF-8"),
    ({"type": "websocket.close", "reason": "x" * 124}, "at most 123 bytes in UTF-8, got 124"),
    ({"type": "websocket.close", "reason": "\u00e9" * 62}, "at most 123 bytes in UTF-8, got 124"),
    # keepalive
    ({"type": "websocket.keepalive"}, "websocket.keepalive: 'interval' is required"),
    ({"type": "websocket.keepalive", "interval": -1}, "'interval' must be a number of seconds"),
    ({"type": "websocket.keepalive", "interval": "5"}, "'interval' must be a number"),
    ({"type": "websocket.keepalive", "interval": True}, "'interval' must be a number"),
    ({"type": "websocket.keepalive", "interval": float("nan")}, "'interval' must be a number"),
    ({"type": "websocket.keepalive", "interval": float("inf")}, "'interval' must be a number"),
    ({"type": "websocket.keepalive", "interval": 1, "timeout": -0.5}, "'timeout' must be a"),
    # http denial
    ({"type": "websocket.http.response.start"}, "'status' is required"),
    ({"type": "websocket.http.response.start", "status": 101}, "from 200 to 999, got 101"),
    ({"type": "websocket.http.response.start", "status": "403"}, "from 200 to 999, got '403'"),
    (
        {"type": "websocket.http.response.start", "status": 403, "headers": [(b"a", b"\r")]},
        "contains CR, LF or NUL",
    ),
    ({"type": "websocket.http.response.body", "body": "x"}, "'body' must be bytes, got str"),
    ({"type": "websocket.http.response.body", "more": 2}, "'more' must be a bool"),
]

BAD_SENDS: list[tuple[dict[str, Any], str]] = [
    (wsend(), "websocket.send: one of 'bytes' or 'text' is required"),
    (wsend("a", b"b"), "give exactly one of 'bytes' and 'text', not both"),
    ({"type": "websocket.send", "bytes": "x"}, "'bytes' must be bytes, got str"),
    ({"type": "websocket.send", "text": b"x"}, "'text' must be a str, got bytes"),
    ({"type": "websocket.send", "text": "a\udcffb"}, "'text' cannot be encoded as UTF-8"),
]


@pytest.mark.parametrize(("event", "needle"), BAD_EVENTS + BAD_SENDS)
def test_invalid_events_raise_and_never_reach_the_wire(event: dict[str, Any], needle: str) -> None:
    async def main() -> None:
        scope, session = make_ws()
        if event["type"] in {"websocket.send", "websocket.keepalive"}:
            await scope.send(ACCEPT)
        elif event["type"] == "websocket.http.response.body":
            await scope.send({"type": "websocket.http.response.start", "status": 403})
        sent(session)
        with pytest.raises(InvalidEvent) as info:
            await scope.send(event)
        assert needle in str(info.value)
        assert isinstance(info.value, ValueError)
        assert sent(session) == []

    run(main)


def test_send_takes_an_event_dict() -> None:
    async def main() -> None:
        scope, _ = make_ws()
        with pytest.raises(InvalidEvent, match="send\\(\\) takes an event dict, got str"):
            await scope.send("websocket.accept")  # type: ignore[arg-type]

    run(main)


def test_valid_events_normalize() -> None:
    async def main() -> None:
        scope, session = make_ws(["a"])
        await scope.send(
            {
                "type": "websocket.accept",
                "subprotocol": "not-offered",  # accepted: the client decides
                "headers": (x for x in [(bytearray(b"Set-Cookie"), memoryview(b"a=1"))]),
                "extra": object(),
            }
        )
        await scope.send({"type": "websocket.send", "bytes": bytearray(b"ab"), "text": None})
        await scope.send({"type": "websocket.send", "text": "\u00e9", "bytes": None})
        await scope.send({"type": "websocket.keepalive", "interval": 10, "timeout": None})
        await scope.send({"type": "websocket.close", "reason": "\u00e9" * 61 + "x"})  # 123 bytes
        assert sent(session) == [
            [Event.WS_ACCEPT, "not-offered", [[b"set-cookie", b"a=1"]]],
            [Event.WS_SEND, b"ab", False],
            [Event.WS_SEND, "\u00e9", False],
            [Event.WS_KEEPALIVE, 10, None],
            [Event.WS_CLOSE, 1000, "\u00e9" * 61 + "x"],
        ]

    run(main)


@pytest.mark.parametrize("code", [1000, 1001, 1002, 1003, 1007, 1011, 1014, 3000, 4999])
def test_close_codes_allowed(code: int) -> None:
    async def main() -> None:
        scope, session = make_ws()
        await scope.send(ACCEPT)
        await scope.send({"type": "websocket.close", "code": code, "reason": None})
        assert sent(session)[-1] == [Event.WS_CLOSE, code, ""]

    run(main)


@pytest.mark.parametrize("code", [999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 0, -1])
def test_close_codes_refused(code: int) -> None:
    async def main() -> None:
        scope, _ = make_ws()
        with pytest.raises(InvalidEvent, match="'code' must be an int from 1000-1003, 1007-1014"):
            await scope.send({"type": "websocket.close", "code": code})

    run(main)


@pytest.mark.parametrize(
    ("setup", "event", "needle"),
    [
        ([], wsend("x"), "websocket.send: the connection has not been accepted yet"),
        ([], {"type": "websocket.keepalive", "interval": 1}, "has not been accepted yet"),
        ([], {"type": "websocket.http.response.body"}, "response.start has not been sent"),
        ([ACCEPT], ACCEPT, "websocket.accept: the connection has already been accepted"),
        (
            [ACCEPT],
            {"type": "websocket.http.response.start", "status": 403},
            "already been accepted; a denial response is only possible before",
        ),
        ([ACCEPT], {"type": "websocket.http.response.body"}, "already been accepted"),
        (
            [{"type": "websocket.http.response.start", "status": 403}],
            ACCEPT,
            "websocket.accept: a denial response has started; only "
            "websocket.http.response.body may follow",
        ),
        (
            [{"type": "websocket.http.response.start", "status": 403}],
            {"type": "websocket.close"},
            "websocket.close: a denial response has started",
        ),
        (
            [{"type": "websocket.http.response.start", "status": 403}],
            {"type": "websocket.http.response.start", "status": 403},
            "the denial response has already started",
        ),
        (
            [{"type": "websocket.http.response.start", "status": 403}],
            wsend("x"),
            "a denial response has started",
        ),
    ],
)
def test_events_at_the_wrong_time(
    setup: list[dict[str, Any]], event: dict[str, Any], needle: str
) -> None:
    async def main() -> None:
        scope, session = make_ws()
        for e in setup:
            await scope.send(e)
        before = sent(session)
        with pytest.raises(UnexpectedEvent) as info:
            await scope.send(event)
        assert needle in str(info.value)
        assert isinstance(info.value, RuntimeError)
        assert sent(session) == []
        assert len(before) == len(setup)

    run(main)
