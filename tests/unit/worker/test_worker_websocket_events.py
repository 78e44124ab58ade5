"""The worker's websocket scope in-process: its state machine and every validation error.

These tests drive :class:`~pagi.worker.websocket_scope.WebSocketScope` with a
recording link (``StubSession`` from worker_doubles.py); the same scope over a
real link is tested in test_worker_websocket.py.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from pagi.protocol import BodyMode, Event, Kind
from pagi.protocol import messages as m
from pagi.worker.http_events import InvalidEvent, UnexpectedEvent
from pagi.worker.interface import ASGI_INTERFACE, PAGI_INTERFACE
from pagi.worker.websocket_scope import WebSocketScope
from worker_doubles import StubSession


def make_ws(subprotocols: list[str] | None = None, **kw: Any) -> tuple[WebSocketScope, StubSession]:
    """A websocket scope of an ASGI app (most tests here drive the ASGI denial
    events); ``interface=PAGI_INTERFACE`` for a PAGI app."""
    kw.setdefault("interface", ASGI_INTERFACE)
    session = StubSession(**kw)
    extras = {} if subprotocols is None else {"subprotocols": subprotocols}
    msg = m.open_scope(
        5, "websocket", "1.1", "GET", "wss", b"/ws", b"", [], None, None, extras, BodyMode.NONE
    )
    return WebSocketScope(session, msg), session  # type: ignore[arg-type]


def run(coro_fn: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(coro_fn(), 5))


def sent(session: StubSession) -> list[list[Any]]:
    out = [msg[2:] if msg[0] == Kind.EVENT else msg for msg in session.link.sent]
    session.link.sent.clear()
    return out


ACCEPT = {"type": "websocket.accept"}


def wsend(text: str | None = None, data: bytes | None = None) -> dict[str, Any]:
    return {"type": "websocket.send", "text": text, "bytes": data}


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


def test_sends_after_close_are_no_ops_but_still_validated() -> None:
    async def main() -> None:
        scope, session = make_ws()
        await scope.send(ACCEPT)
        await scope.send({"type": "websocket.close", "code": 4000, "reason": "r"})
        sent(session)
        for event in (
            wsend("x"),
            ACCEPT,
            {"type": "websocket.close"},
            {"type": "websocket.keepalive", "interval": 1},
            {"type": "websocket.http.response.start", "status": 403},
        ):
            await scope.send(event)
        with pytest.raises(InvalidEvent):
            await scope.send(wsend())
        assert sent(session) == []
        assert not scope.gone  # the client still has to answer the close
        scope.on_ws_event(m.event(5, Event.WS_RECEIVE, "late", False))
        assert (await scope.receive())["type"] == "websocket.connect"
        assert await scope.receive() == {"type": "websocket.receive", "bytes": None, "text": "late"}
        scope.on_ws_event(m.event(5, Event.WS_DISCONNECT, 4000, "r"))
        for _ in range(2):
            assert await scope.receive() == {
                "type": "websocket.disconnect",
                "code": 4000,
                "reason": "r",
            }

    run(main)


def test_sends_after_the_client_is_gone_are_no_ops() -> None:
    async def main() -> None:
        scope, session = make_ws(interface=PAGI_INTERFACE)
        scope.on_close("client_closed")  # before the handshake
        await scope.send(ACCEPT)
        await scope.send(wsend("x"))
        await scope.send({"type": "websocket.close"})
        assert sent(session) == []
        assert await scope.receive() == {"type": "websocket.connect"}
        assert await scope.receive() == {
            "type": "websocket.disconnect",
            "code": 1006,
            "reason": "client_closed",
        }

    run(main)


def test_text_is_split_between_code_points_within_window_and_frame() -> None:
    async def main() -> None:
        scope, session = make_ws(response_window=10)
        session.max_body_piece = 16  # a str piece may take 4 bytes per code point: 4
        await scope.send(ACCEPT)
        sent(session)
        text = "\U0001f600" * 9 + "ab"  # 11 code points
        task = asyncio.ensure_future(scope.send(wsend(text)))
        await asyncio.sleep(0)
        assert sent(session) == [
            [Event.WS_SEND, "\U0001f600" * 4, True],
            [Event.WS_SEND, "\U0001f600" * 4, True],
            [Event.WS_SEND, "\U0001f600a", True],
        ]
        assert not task.done()
        assert scope.transport.buffered_amount() == 10
        scope.on_credit(1)
        await task
        assert sent(session) == [[Event.WS_SEND, "b", False]]
        assert scope.transport.buffered_amount() == 10

    run(main)


def test_concurrent_sends_do_not_interleave() -> None:
    async def main() -> None:
        scope, session = make_ws(response_window=3)
        await scope.send(ACCEPT)
        sent(session)
        first = asyncio.ensure_future(scope.send(wsend(data=b"aaaaa")))
        second = asyncio.ensure_future(scope.send(wsend(data=b"bb")))
        await asyncio.sleep(0)
        assert sent(session) == [[Event.WS_SEND, b"aaa", True]]
        scope.on_credit(10)
        await asyncio.gather(first, second)
        assert sent(session) == [[Event.WS_SEND, b"aa", False], [Event.WS_SEND, b"bb", False]]

    run(main)


def test_cancelled_send_drops_or_finishes_its_message() -> None:
    async def main() -> None:
        scope, session = make_ws(response_window=2)
        await scope.send(ACCEPT)
        sent(session)
        partial = asyncio.ensure_future(scope.send(wsend(data=b"xyz")))
        queued = asyncio.ensure_future(scope.send(wsend(data=b"q")))
        await asyncio.sleep(0)
        assert sent(session) == [[Event.WS_SEND, b"xy", True]]
        partial.cancel()
        queued.cancel()
        await asyncio.gather(partial, queued, return_exceptions=True)
        assert partial.cancelled() and queued.cancelled()
        scope.on_credit(5)
        # the started message is completed (the stream stays well formed); the
        # one that never started is dropped
        assert sent(session) == [[Event.WS_SEND, b"z", False]]

    run(main)


def test_close_drops_pending_messages_and_releases_senders() -> None:
    async def main() -> None:
        scope, session = make_ws(response_window=2)
        await scope.send(ACCEPT)
        sent(session)
        pending = asyncio.ensure_future(scope.send(wsend(data=b"xyz")))
        await asyncio.sleep(0)
        await scope.send({"type": "websocket.close", "code": 1001})
        await pending  # returns without error: a send after close is a no-op
        scope.on_credit(10)
        assert sent(session) == [[Event.WS_SEND, b"xy", True], [Event.WS_CLOSE, 1001, ""]]

    run(main)


def test_disconnect_releases_a_waiting_sender() -> None:
    async def main() -> None:
        scope, _ = make_ws(response_window=0)
        await scope.send(ACCEPT)
        pending = asyncio.ensure_future(scope.send(wsend("x")))
        await asyncio.sleep(0)
        scope.on_ws_event(m.event(5, Event.WS_DISCONNECT, 1001, "going"))
        await pending
        assert scope.gone

    run(main)


def test_denial_body_is_flow_controlled_and_final() -> None:
    async def main() -> None:
        scope, session = make_ws(response_window=4)
        await scope.send({"type": "websocket.http.response.start", "status": 403, "headers": []})
        await scope.send({"type": "websocket.http.response.body", "body": b"", "more": True})
        task = asyncio.ensure_future(
            scope.send({"type": "websocket.http.response.body", "body": b"forbidden"})
        )
        await asyncio.sleep(0)
        scope.on_credit(100)
        await task
        assert sent(session) == [
            [Event.HTTP_RESPONSE_START, 403, [], False],
            [Event.HTTP_RESPONSE_BODY, b"forb", True],
            [Event.HTTP_RESPONSE_BODY, b"idden", False],
        ]
        assert scope.gone
        assert await scope.receive() == {"type": "websocket.connect"}
        assert (await scope.receive())["code"] == 1006

    run(main)


def test_headers_larger_than_a_frame_raise() -> None:
    async def main() -> None:
        scope, session = make_ws()
        session.max_frame_size = 1000
        big = [(b"x-big", b"v" * 2000)]
        with pytest.raises(InvalidEvent, match=r"websocket\.accept: the headers are too large"):
            await scope.send({"type": "websocket.accept", "headers": big})
        with pytest.raises(InvalidEvent, match=r"http\.response\.start: the headers are too large"):
            await scope.send(
                {"type": "websocket.http.response.start", "status": 403, "headers": big}
            )
        assert sent(session) == []
        await scope.send(ACCEPT)  # nothing changed state

    run(main)


def test_cancelled_receive_loses_nothing_and_partial_credit() -> None:
    async def main() -> None:
        scope, session = make_ws(request_window=10)
        await scope.send(ACCEPT)
        await scope.receive()  # connect
        sent(session)
        scope.on_ws_event(m.event(5, Event.WS_RECEIVE, b"12345", True))  # nobody waiting
        assert sent(session) == []
        waiter = asyncio.ensure_future(scope.receive())
        await asyncio.sleep(0)
        assert sent(session) == [[Kind.CREDIT, 5, 5]]  # the app asked: pull the rest
        waiter.cancel()
        await asyncio.gather(waiter, return_exceptions=True)
        scope.on_ws_event(m.event(5, Event.WS_RECEIVE, b"678", False))
        assert await scope.receive() == {
            "type": "websocket.receive",
            "bytes": b"12345678",
            "text": None,
        }
        assert sent(session) == [[Kind.CREDIT, 5, 3]]

    run(main)


def test_finish_sends_end_and_later_receive_is_a_disconnect() -> None:
    async def main() -> None:
        async def app(scope: Any, receive: Any, send: Any) -> None:
            await send(ACCEPT)
            raise KeyError("k")

        ws, session = make_ws()
        session.app = app
        await ws.run()
        assert sent(session) == [
            [Event.WS_ACCEPT, None, []],
            [Kind.END, 5, 1, True, "KeyError: 'k'"],
        ]
        assert session.ended == [5]
        assert await ws.receive() == {"type": "websocket.connect"}
        assert await ws.receive() == {
            "type": "websocket.disconnect",
            "code": 1011,
            "reason": "server_error",
        }

    run(main)


def test_a_finished_websocket_scope_leaves_no_reference_cycle() -> None:
    """As for HTTP (test_worker_http_scope.py): whatever a WebSocket connection
    built in the worker is freed by reference counting once its scope is over,
    whether the app accepted, exchanged messages and closed, or refused."""

    async def talks(scope: Any, receive: Any, send: Any) -> None:
        assert (await receive())["type"] == "websocket.connect"
        await send(ACCEPT)
        message = await receive()
        await send(wsend(text=message["text"]))
        await send({"type": "websocket.close", "code": 1000})

    async def refuses(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 403, "headers": []})
        await send({"type": "http.response.body", "body": b"no"})

    async def main() -> None:
        gc.collect()
        gc.disable()
        try:
            for app in (talks, refuses):
                scope, session = make_ws(interface=PAGI_INTERFACE)
                session.app = app
                task = asyncio.ensure_future(scope.run())
                await asyncio.sleep(0)
                if app is talks:
                    scope.on_ws_event([Kind.EVENT, 5, Event.WS_RECEIVE, "hi", False])
                await task
                assert session.ended, app
                del scope, session, task
            assert gc.collect() == 0
        finally:
            gc.enable()

    run(main)
