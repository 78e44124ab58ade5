"""The http scope's response state machine and the client going away, in-process.

The scope writes through its session's link; here the link is a recorder that
decodes what would have gone on the wire (the real socket path is covered by
test_worker_link.py). Bodies and flow control: test_worker_http_scope_flow.py.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import pytest
from http_scope_doubles import START, body, make_scope
from pagi.protocol import Event, Kind
from pagi.worker.http_events import InvalidEvent, UnexpectedEvent
from worker_doubles import run

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
