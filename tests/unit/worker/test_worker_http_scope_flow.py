"""The http scope's request body, response flow control, pagi.transport and
connection state, in-process (recording link, tests/worker_doubles.py).
"""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import pytest
from http_scope_doubles import START, body, make_scope
from pagi.protocol import BodyMode, Kind, LinkError
from pagi.protocol.codec import ZERO_COPY_MIN
from pagi.worker.backlog import TransportState
from pagi.worker.connection_state import ConnectionState
from pagi.worker.flow import SendWindow
from pagi.worker.http_events import UnexpectedEvent
from worker_doubles import run

# --- request body ----------------------------------------------------------------------


def test_request_body_is_joined_and_credited() -> None:
    async def main() -> None:
        scope, session = make_scope(BodyMode.STREAM, request_window=10)
        scope.on_request_body(b"abc", True)
        scope.on_request_body(b"defg", True)
        got = await scope.receive()
        assert got == {"type": "http.request", "body": b"abcdefg", "more": True, "more_body": True}
        assert session.link.sent == [[Kind.CREDIT, 3, 7]]
        scope.on_request_body(b"0123456789", True)  # 3 left + 7 credited = 10
        with pytest.raises(LinkError, match="exceed the window"):
            scope.on_request_body(b"x", True)
        assert (await scope.receive())["body"] == b"0123456789"
        scope.on_request_body(b"end", False)
        assert await scope.receive() == {
            "type": "http.request",
            "body": b"end",
            "more": False,
            "more_body": False,
        }
        assert session.link.sent == [[Kind.CREDIT, 3, 7], [Kind.CREDIT, 3, 10]]  # no final one
        with pytest.raises(LinkError, match="after the end of the body"):
            scope.on_request_body(b"", False)

    run(main)


def test_body_mode_none_refuses_body() -> None:
    scope, _ = make_scope(BodyMode.NONE)
    with pytest.raises(LinkError):
        scope.on_request_body(b"x", False)


def test_expect_continue_credit_on_first_receive() -> None:
    async def main() -> None:
        scope, _session = make_scope(BodyMode.EXPECT_CONTINUE, request_window=50)
        with pytest.raises(LinkError):
            scope.on_request_body(b"x", True)

    run(main)

    async def main2() -> None:
        scope, session = make_scope(BodyMode.EXPECT_CONTINUE, request_window=50)
        waiter = asyncio.ensure_future(scope.receive())
        await asyncio.sleep(0)
        assert session.link.sent == [[Kind.CREDIT, 3, 50]]
        scope.on_request_body(b"x" * 50, False)
        assert (await waiter)["body"] == b"x" * 50

    run(main2)


def test_cancelled_receive_loses_nothing() -> None:
    async def main() -> None:
        scope, _ = make_scope(BodyMode.STREAM)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(scope.receive(), 0.01)
        scope.on_request_body(b"abc", False)
        assert (await scope.receive())["body"] == b"abc"

    run(main)


# --- response flow control and pagi.transport ------------------------------------------


def test_body_is_split_to_the_window_and_waits_for_credit() -> None:
    async def main() -> None:
        scope, session = make_scope(response_window=100)
        transport = scope.transport
        transport.set_water_marks(high=60, low=20)
        edges: list[str] = []
        transport.on_high_water(lambda: edges.append("high"))
        transport.on_drain(lambda: edges.append("drain"))
        await scope.send(START)
        await scope.send(body(b"a" * 50, more=True))
        assert transport.buffered_amount() == 50 and edges == []
        task = asyncio.ensure_future(scope.send(body(b"b" * 120)))
        await asyncio.sleep(0)
        assert transport.buffered_amount() == 100 and edges == ["high"]
        assert not task.done()
        scope.on_credit(70)  # 30 buffered: not yet <= low; then 70 more sent
        await asyncio.sleep(0)
        assert edges == ["high"] and transport.buffered_amount() == 100
        await task  # the last piece fitted the credit
        scope.on_credit(100)
        assert edges == ["high", "drain"]
        bodies = [(len(msg[3]), msg[4]) for msg in session.link.sent[1:]]
        assert bodies == [(50, True), (50, True), (70, False)]
        assert transport.buffered_amount() == 0
        assert scope.connection.response_complete()

    run(main)


def test_large_bodies_reach_the_link_as_the_apps_own_bytes() -> None:
    # zero copy: the body object itself is one of the buffers handed to the
    # link, whole or as views of it; small bodies are packed as usual
    async def main() -> None:
        scope, session = make_scope(response_window=100_000)
        big = b"z" * ZERO_COPY_MIN
        await scope.send(START)
        await scope.send(body(b"tiny", more=True))
        await scope.send(body(big, more=True))
        huge = b"h" * 50_000
        session.max_body_piece = 20_000  # split into views of the same bytes
        await scope.send(body(huge))
        assert len(session.link.parts) == 4
        assert session.link.parts[0][1] is big
        views = [parts[1] for parts in session.link.parts[1:]]
        assert all(isinstance(v, memoryview) and v.obj is huge for v in views)
        assert session.bodies() == [
            (b"tiny", True),
            (big, True),
            (huge[:20_000], True),
            (huge[20_000:40_000], True),
            (huge[40_000:], False),
        ]

    run(main)


def test_transport_defaults_and_marks() -> None:
    t = TransportState()
    assert (t.buffered_amount(), t.high_water_mark(), t.low_water_mark()) == (0, 65536, 16384)
    with pytest.raises(ValueError):
        t.set_water_marks(high=10, low=20)
    t.set_water_marks(low=0)
    assert t.low_water_mark() == 0


def test_send_window() -> None:
    async def main() -> None:
        w = SendWindow(5, asyncio.get_running_loop())
        assert w.take(3) == 3 and w.take(10) == 2 and w.take(1) == 0
        waiter = asyncio.ensure_future(w.wait())
        cancelled = asyncio.ensure_future(w.wait())
        await asyncio.sleep(0)
        cancelled.cancel()
        await asyncio.sleep(0)
        w.grant(4)
        await waiter
        assert w.available == 4
        w.take(4)
        waiter = asyncio.ensure_future(w.wait())
        await asyncio.sleep(0)
        w.close()
        await waiter
        assert w.closed

    run(main)


def test_connection_state_defaults() -> None:
    c = ConnectionState()
    assert c.is_connected() and c.disconnect_reason() is None
    assert not c.response_started() and not c.response_complete()


def test_receive_does_not_report_completion_while_the_final_body_waits() -> None:
    async def main() -> None:
        scope, _ = make_scope(response_window=10)
        await scope.send(START)
        assert (await scope.receive())["type"] == "http.request"
        receiver = asyncio.ensure_future(scope.receive())
        sender = asyncio.ensure_future(scope.send(body(b"x" * 25)))
        await asyncio.sleep(0.01)
        assert not receiver.done() and not sender.done()
        assert not scope.connection.response_complete()
        with pytest.raises(UnexpectedEvent, match="the final body is still being sent"):
            await scope.send(body())
        scope.on_credit(100)
        await sender
        assert scope.connection.response_complete()
        assert await receiver == {"type": "http.disconnect"}

    run(main)


def test_a_finished_scope_leaves_no_reference_cycle() -> None:
    """Everything a request built is freed by reference counting as soon as
    its scope is over: a cycle per request (the scope's abort callback in its
    own ``pagi.connection``) left the worker's garbage collector running
    every few hundred requests (docs/performance.md, issue 16's CPU round)."""

    async def answers(scope: Any, receive: Any, send: Any) -> None:
        await send(START)
        await send(body(b"hello"))

    async def forgets(scope: Any, receive: Any, send: Any) -> None:
        pass

    async def main() -> None:
        gc.collect()
        gc.disable()
        try:
            for app in (answers, forgets):
                scope, session = make_scope()
                session.app = app
                await scope.run()
                assert session.ended == [3]
                del scope, session
            assert gc.collect() == 0
        finally:
            gc.enable()

    run(main)
