"""The http scope state machine, pagi.connection and pagi.transport, in-process.

The scope writes through its session's link; here the link is a recorder that
decodes what would have gone on the wire (the real socket path is covered by
test_worker_link.py).
"""

from __future__ import annotations

import asyncio
import gc
import os
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from pagi.protocol import BodyMode, Event, Kind, LinkError
from pagi.protocol import messages as m
from pagi.protocol.codec import ZERO_COPY_MIN
from pagi.worker.backlog import TransportState
from pagi.worker.connection_state import ConnectionState
from pagi.worker.flow import SendWindow
from pagi.worker.http_events import InvalidEvent, UnexpectedEvent
from pagi.worker.http_scope import HTTPScope
from worker_doubles import StubSession


def make_scope(body_mode: BodyMode = BodyMode.NONE, **kw: Any) -> tuple[HTTPScope, StubSession]:
    session = StubSession(**kw)
    msg = m.open_scope(3, "http", "1.1", "POST", "http", b"/p", b"", [], None, None, {}, body_mode)
    return HTTPScope(session, msg), session  # type: ignore[arg-type]


def run(coro_fn: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(coro_fn(), 5))


START = {"type": "http.response.start", "status": 200, "headers": []}


def body(data: bytes = b"", more: bool = False) -> dict[str, Any]:
    return {"type": "http.response.body", "body": data, "more": more}


# --- response state -------------------------------------------------------------------


def test_wrong_state_errors() -> None:
    async def main() -> None:
        scope, session = make_scope()
        with pytest.raises(
            UnexpectedEvent, match=r"http\.response\.body: http\.response\.start has"
        ):
            await scope.send(body())
        with pytest.raises(UnexpectedEvent, match=r"trailers: http\.response\.start has not"):
            await scope.send({"type": "http.response.trailers", "headers": []})
        await scope.send(START)
        with pytest.raises(UnexpectedEvent, match="the response has already started"):
            await scope.send(START)
        with pytest.raises(UnexpectedEvent, match="trailers were not announced"):
            await scope.send({"type": "http.response.trailers", "headers": []})
        await scope.send(body(b"a", more=True))
        await scope.send(body(b"b"))
        assert scope.connection.response_complete()
        for event in (body(), START, {"type": "http.response.body", "file": "/etc/hostname"}):
            with pytest.raises(UnexpectedEvent, match="already"):
                await scope.send(event)
        with pytest.raises(InvalidEvent, match="unknown event type"):
            await scope.send({"type": "websocket.send"})
        kinds = [(msg[0], msg[2]) for msg in session.link.sent]
        assert kinds == [
            (Kind.EVENT, Event.HTTP_RESPONSE_START),
            (Kind.EVENT, Event.HTTP_RESPONSE_BODY),
            (Kind.EVENT, Event.HTTP_RESPONSE_BODY),
        ]

    run(main)


def test_trailers_state() -> None:
    async def main() -> None:
        scope, session = make_scope()
        await scope.send({**START, "trailers": True})
        with pytest.raises(UnexpectedEvent, match="the body is not finished"):
            await scope.send({"type": "http.response.trailers", "headers": []})
        await scope.send(body(b"x"))
        assert not scope.connection.response_complete()
        with pytest.raises(UnexpectedEvent, match=r"only http\.response\.trailers may follow"):
            await scope.send(body(b"y"))
        await scope.send({"type": "http.response.trailers", "headers": [(b"X-T", b"1")]})
        assert scope.connection.response_complete()
        assert session.link.sent[-1] == [
            Kind.EVENT,
            3,
            Event.HTTP_RESPONSE_TRAILERS,
            [[b"x-t", b"1"]],
        ]
        with pytest.raises(UnexpectedEvent, match="already complete"):
            await scope.send({"type": "http.response.trailers", "headers": []})

    run(main)


def test_invalid_events_never_reach_the_wire() -> None:
    async def main() -> None:
        scope, session = make_scope()
        with pytest.raises(InvalidEvent):
            await scope.send(
                {"type": "http.response.start", "status": 200, "headers": [(b"a", b"\r\n")]}
            )
        assert session.link.sent == []
        assert not scope.connection.response_started()

    run(main)


def test_file_body_errors(tmp_path: Any) -> None:
    async def main() -> None:
        scope, session = make_scope()
        await scope.send(START)
        f = tmp_path / "f.txt"
        f.write_bytes(b"12345")
        with pytest.raises(FileNotFoundError) as info:
            await scope.send({"type": "http.response.body", "file": str(tmp_path / "none")})
        assert "cannot open file" in str(info.value) and str(tmp_path / "none") in str(info.value)
        assert info.value.errno == 2
        with pytest.raises(InvalidEvent, match="is not a regular file"):
            await scope.send({"type": "http.response.body", "file": tmp_path})
        with pytest.raises(InvalidEvent, match="'offset' 6 is beyond the end"):
            await scope.send({"type": "http.response.body", "file": f, "offset": 6})
        with pytest.raises(InvalidEvent, match=r"'offset' \+ 'length' \(6\) is beyond the end"):
            await scope.send({"type": "http.response.body", "file": f, "offset": 1, "length": 5})
        assert not session.link.fds
        await scope.send({"type": "http.response.body", "file": f, "offset": 5})
        assert session.link.sent[-1] == [Kind.EVENT, 3, Event.HTTP_RESPONSE_FILE, 5, None]
        (fd,) = session.link.fds
        assert os.pread(fd, 10, 0) == b"12345"
        os.close(fd)
        assert scope.connection.response_complete()

    run(main)


def test_headers_larger_than_a_frame_raise() -> None:
    async def main() -> None:
        scope, session = make_scope()
        session.max_frame_size = 1000
        with pytest.raises(InvalidEvent, match="the headers are too large"):
            await scope.send({**START, "headers": [(b"x", b"v" * 2000)]})
        assert session.link.sent == []

    run(main)


# --- client gone ---------------------------------------------------------------------


def test_sends_after_close_are_no_ops_but_still_validated() -> None:
    async def main() -> None:
        scope, session = make_scope()
        await scope.send(START)
        scope.on_close("client_closed")
        await scope.send(body(b"x", more=True))
        await scope.send(START)  # wrong state, but the client is gone: ignored
        await scope.send({"type": "http.response.body", "file": "/nonexistent"})
        with pytest.raises(InvalidEvent):
            await scope.send({"type": "http.response.body", "body": "str"})
        assert len(session.link.sent) == 1
        assert await scope.receive() == {
            "type": "http.request",
            "body": b"",
            "more": False,
            "more_body": False,
        }
        assert await scope.receive() == {"type": "http.disconnect"}
        assert await scope.receive() == {"type": "http.disconnect"}

    run(main)


def test_close_releases_a_send_waiting_for_credit() -> None:
    async def main() -> None:
        scope, _session = make_scope(response_window=10)
        await scope.send(START)
        task = asyncio.ensure_future(scope.send(body(b"x" * 25)))
        await asyncio.sleep(0.01)
        assert not task.done()
        assert scope.transport.buffered_amount() == 10
        scope.on_close("client_closed")
        await task  # resolved, not cancelled, no error
        assert not scope.connection.response_complete()

    run(main)


def test_disconnect_order_and_callbacks() -> None:
    async def main() -> None:
        scope, _ = make_scope()
        conn = scope.connection
        order: list[Any] = []
        future = conn.disconnect_future()
        other = conn.disconnect_future()
        other.cancel()  # cancelling one future disturbs nothing else

        def first(reason: str) -> None:
            order.append(
                ("first", reason, conn.is_connected(), conn.disconnect_reason(), future.done())
            )
            raise RuntimeError("callback bug is logged, not propagated")

        conn.on_disconnect(first)
        conn.on_disconnect(lambda reason: order.append(("second", reason)))
        conn.on_complete(lambda: order.append("complete"))
        receiver = asyncio.ensure_future(scope.receive())
        await asyncio.sleep(0)
        receiver2 = asyncio.ensure_future(scope.receive())
        await asyncio.sleep(0)
        scope.on_close("client_timeout")
        assert order == []  # never inside the code that saw the end: on the loop, next
        await asyncio.sleep(0)
        assert order == [
            ("first", "client_timeout", False, "client_timeout", True),
            ("second", "client_timeout"),
        ]
        assert await future == "client_timeout"
        assert (await receiver)["type"] == "http.request"  # mode 0: the empty request first
        assert await receiver2 == {"type": "http.disconnect"}
        late: list[str] = []
        conn.on_disconnect(late.append)  # already disconnected: runs soon
        conn.on_complete(lambda: late.append("never"))
        await asyncio.sleep(0)
        assert late == ["client_timeout"]
        assert (await conn.disconnect_future()) == "client_timeout"

    run(main)


def test_clean_completion_runs_on_complete_only() -> None:
    async def main() -> None:
        scope, _ = make_scope()
        conn = scope.connection
        seen: list[str] = []
        conn.on_complete(lambda: seen.append("complete"))
        conn.on_disconnect(lambda reason: seen.append(reason))
        assert not conn.response_started()
        await scope.send(START)
        assert conn.response_started() and not conn.response_complete()
        waiter = asyncio.ensure_future(scope.receive())
        await asyncio.sleep(0)
        assert (await waiter)["type"] == "http.request"
        waiter = asyncio.ensure_future(scope.receive())
        await asyncio.sleep(0)
        assert not waiter.done()  # body complete: waits for the end of the response
        await scope.send(body(b"done"))
        assert seen == []  # not inside the app's own send()
        assert await waiter == {"type": "http.disconnect"}
        assert seen == ["complete"]  # ... but before the task it woke
        conn.on_complete(lambda: seen.append("late"))
        await asyncio.sleep(0)
        assert seen == ["complete", "late"]
        scope.on_close("client_closed")  # after a clean end: state changes, no callbacks
        assert seen == ["complete", "late"]
        assert not conn.is_connected() and conn.disconnect_reason() == "client_closed"

    run(main)


def test_app_without_response_ends_as_server_error() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        scope["pagi.connection"].on_disconnect(seen.append)

    seen: list[str] = []

    async def main() -> None:
        scope, session = make_scope()
        session.app = app
        await scope.run()
        await asyncio.sleep(0)
        assert seen == ["server_error"]
        assert session.link.sent == [[Kind.END, 3, 0, False, ""]]
        assert session.ended == [3]

    run(main)


def test_app_exception_detail_is_one_line() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send(START)
        raise ValueError("a\nb")

    async def main() -> None:
        scope, session = make_scope()
        session.app = app
        await scope.run()
        assert session.link.sent[-1] == [Kind.END, 3, 1, True, "ValueError: a"]
        # the app's pagi.connection says how it ended
        assert scope.connection.disconnect_reason() == "server_error"
        assert scope.connection.disconnect_detail() == "ValueError: a"

    run(main)


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
