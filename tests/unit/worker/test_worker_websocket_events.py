"""The websocket scope's sends, receives, close and end, in-process: no-ops after
the end, text split at code points, whole messages under concurrency and
cancellation, the denial body and the scope's finish.
"""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import pytest
from pagi.protocol import Event, Kind
from pagi.protocol import messages as m
from pagi.worker.http_events import InvalidEvent
from pagi.worker.interface import PAGI_INTERFACE
from websocket_scope_doubles import ACCEPT, make_ws, sent, wsend
from worker_doubles import run


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
