"""The sse scope state machine, its whole-event writes and the ASGI replay, in-process.

The scope writes through its session's link; here the link is a recorder that
decodes what would have gone on the wire (real processes: integration/test_sse.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from pagi.protocol import BodyMode
from pagi.protocol import messages as m
from pagi.protocol.kinds import (
    CREDIT,
    END,
    EVENT,
)
from pagi.protocol.kinds import HTTP_RESPONSE_START as START
from pagi.protocol.kinds import SSE_KEEPALIVE as KEEPALIVE
from pagi.worker import sse_verdict
from pagi.worker.http_events import InvalidEvent, UnexpectedEvent
from pagi.worker.http_scope import HTTPScope
from pagi.worker.sse_scope import SSEScope, open_sse_scope
from worker_doubles import RecordingLink, StubSession

SSE_HEADERS = [[b"content-type", b"text/event-stream"], [b"cache-control", b"no-cache"]]


class NoFilesLink(RecordingLink):
    def send_with_fd(self, msg: list[Any], fd: int) -> None:
        raise AssertionError("no files on sse scopes")


def open_msg(
    body_mode: BodyMode = BodyMode.NONE, method: str = "GET", extras: dict[str, Any] | None = None
) -> list[Any]:
    headers = [[b"accept", b"text/event-stream"], [b"last-event-id", b"41"]]
    return m.open_scope(
        3,
        "sse",
        "1.1",
        method,
        "http",
        b"/events",
        b"a=1",
        headers,
        None,
        None,
        extras or {},
        body_mode,
    )


def make(
    app: Any = None, body_mode: BodyMode = BodyMode.NONE, replay: bool = False, **kw: Any
) -> tuple[SSEScope, StubSession]:
    session = StubSession(app, link=NoFilesLink(), **kw)
    method = "GET" if body_mode == BodyMode.NONE else "POST"
    return SSEScope(session, open_msg(body_mode, method), replay=replay), session  # type: ignore[arg-type]


def run(coro_fn: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(coro_fn(), 5))


def sse_send(data: str = "x", **kw: Any) -> dict[str, Any]:
    return {"type": "sse.send", "data": data, **kw}


# --- the scope dict and receive ----------------------------------------------------------


def test_scope_has_http_keys_with_type_sse() -> None:
    session = StubSession(link=NoFilesLink())
    extras = {"extensions": {"tls": {"version": 1}}}
    scope = SSEScope(session, open_msg(extras=extras)).scope  # type: ignore[arg-type]
    assert scope["type"] == "sse"
    assert scope["method"] == "GET" and scope["path"] == "/events"
    assert scope["query_string"] == b"a=1" and scope["http_version"] == "1.1"
    assert [b"last-event-id", b"41"] in scope["headers"]
    assert scope["extensions"] == {"tls": {"version": 1}}  # no http.response.* extensions
    assert scope["pagi"] == {"version": "0.5", "spec_version": "0.6"}
    assert "pagi.connection" in scope and "pagi.transport" in scope
    assert scope["state"] == {"k": 1}


def test_get_receives_one_empty_request_then_disconnect() -> None:
    async def main() -> None:
        scope, _session = make()
        assert await scope.receive() == {"type": "sse.request", "body": b"", "more": False}
        waiting = asyncio.ensure_future(scope.receive())
        await asyncio.sleep(0.01)
        assert not waiting.done()
        scope.on_close("client_closed")
        assert await waiting == {"type": "sse.disconnect", "reason": "client_closed"}
        assert await scope.receive() == {"type": "sse.disconnect", "reason": "client_closed"}

    run(main)


def test_post_body_arrives_with_credit() -> None:
    async def main() -> None:
        scope, session = make(body_mode=BodyMode.STREAM)
        scope.on_request_body(b"ab", True)
        assert await scope.receive() == {"type": "sse.request", "body": b"ab", "more": True}
        assert [CREDIT, 3, 2] in session.link.sent
        scope.on_request_body(b"c", False)
        assert await scope.receive() == {"type": "sse.request", "body": b"c", "more": False}

    run(main)


def test_disconnect_after_clean_close_has_no_reason() -> None:
    async def main() -> None:
        scope, _session = make()
        await scope.receive()
        await scope.send({"type": "sse.start"})
        await scope.send({"type": "sse.close"})
        assert await scope.receive() == {"type": "sse.disconnect", "reason": None}
        assert scope.connection.response_complete()

    run(main)


# --- send: the stream -------------------------------------------------------------------


def test_stream_events_on_the_link() -> None:
    async def main() -> None:
        scope, session = make()
        await scope.send({"type": "sse.start", "headers": [(b"x-a", b"1")]})
        await scope.send(sse_send("one\ntwo", event="e", id="1"))
        await scope.send({"type": "sse.comment", "comment": "hi"})
        await scope.send({"type": "sse.keepalive", "interval": 2.5, "comment": "ka"})
        await scope.send({"type": "sse.close", "reason": "done"})
        await scope.send({"type": "sse.close"})  # idempotent
        assert session.starts() == [[EVENT, 3, START, 200, [[b"x-a", b"1"], *SSE_HEADERS], False]]
        assert [EVENT, 3, KEEPALIVE, 2.5, "ka"] in session.link.sent
        assert session.bodies() == [
            (b"event: e\nid: 1\ndata: one\ndata: two\n\n", True),
            (b": hi\n\n", True),
            (b"", False),
        ]
        assert scope.transport.buffered_amount() == 42
        assert scope.connection.response_started() and scope.connection.response_complete()

    run(main)


@pytest.mark.parametrize(
    ("before", "event", "message"),
    [
        ([], sse_send(), "sse.send: sse.start has not been sent"),
        ([], {"type": "sse.comment"}, "sse.comment: sse.start has not been sent"),
        ([], {"type": "sse.keepalive", "interval": 1}, "sse.keepalive: sse.start has not"),
        ([], {"type": "sse.close"}, "sse.close: sse.start has not been sent"),
        ([], {"type": "http.response.body"}, "http.response.body: http.response.start"),
        ([{"type": "sse.start"}], {"type": "sse.start"}, "sse.start: the stream has already"),
        (
            [{"type": "sse.start"}],
            {"type": "http.response.start", "status": 404},
            "http.response.start: the stream has already started (sse.start was sent); "
            "it can no longer be declined",
        ),
        (
            [{"type": "sse.start"}],
            {"type": "http.response.body", "body": b"x"},
            "http.response.body: the stream was started with sse.start",
        ),
        (
            [{"type": "http.response.start", "status": 404}],
            {"type": "sse.start"},
            "sse.start: the request was already declined with http.response.start",
        ),
        (
            [{"type": "http.response.start", "status": 404}],
            sse_send(),
            "sse.send: the request was declined with http.response.start",
        ),
        (
            [{"type": "http.response.start", "status": 404}],
            {"type": "sse.close"},
            "sse.close: the request was declined",
        ),
        (
            [{"type": "http.response.start", "status": 404}],
            {"type": "http.response.start", "status": 404},
            "http.response.start: the request was already declined",
        ),
        (
            [
                {"type": "http.response.start", "status": 404},
                {"type": "http.response.body", "body": b"no"},
            ],
            {"type": "http.response.body"},
            "http.response.body: the response is already complete",
        ),
        (
            [{"type": "sse.start"}, {"type": "sse.close"}],
            sse_send(),
            "sse.send: the stream is closed",
        ),
        (
            [{"type": "sse.start"}, {"type": "sse.close"}],
            {"type": "sse.comment", "comment": "x"},
            "sse.comment: the stream is closed",
        ),
        (
            [{"type": "sse.start"}, {"type": "sse.close"}],
            {"type": "sse.keepalive", "interval": 1},
            "sse.keepalive: the stream is closed",
        ),
    ],
)
def test_order_errors_raise_and_write_nothing(
    before: list[dict[str, Any]], event: dict[str, Any], message: str
) -> None:
    async def main() -> None:
        scope, session = make()
        for ev in before:
            await scope.send(ev)
        sent = len(session.link.sent)
        with pytest.raises(UnexpectedEvent) as info:
            await scope.send(event)
        assert str(info.value).startswith(message), str(info.value)
        assert len(session.link.sent) == sent

    run(main)


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"type": "sse.http.response.start", "status": 200}, "unknown event type"),
        ({"type": "sse.send", "data": b"x"}, "sse.send: 'data' must be a str"),
        ({"type": "sse.send", "data": "x", "event": "a\nb"}, "sse.send: 'event' must not"),
        ({"type": "sse.send", "data": "x", "id": "a\rb"}, "sse.send: 'id' must not"),
        ({"type": "sse.send", "data": "x", "id": "a\x00"}, "sse.send: 'id' must not contain NUL"),
        ({"type": "sse.send", "data": "x", "retry": -5}, "sse.send: 'retry' must be an int"),
        ({"type": "sse.send", "data": "x", "retry": "1"}, "sse.send: 'retry' must be an int"),
        ({"type": "sse.comment", "comment": 1}, "sse.comment: 'comment' must be a str"),
        ({"type": "sse.keepalive", "interval": -1}, "sse.keepalive: 'interval' must be"),
        ({"type": 5}, "event 'type' must be a str"),
    ],
)
def test_invalid_events_raise_before_the_state_check(event: dict[str, Any], message: str) -> None:
    async def main() -> None:
        for started in (False, True):
            scope, session = make()
            if started:
                await scope.send({"type": "sse.start"})
            sent = len(session.link.sent)
            with pytest.raises(InvalidEvent, match=message):
                await scope.send(event)
            assert len(session.link.sent) == sent

    run(main)


def test_decline_is_an_ordinary_response() -> None:
    async def main() -> None:
        scope, session = make()
        await scope.send(
            {"type": "http.response.start", "status": 204, "headers": [(b"x-why", b"done")]}
        )
        await scope.send({"type": "http.response.body", "body": b""})
        assert session.starts() == [[EVENT, 3, START, 204, [[b"x-why", b"done"]], False]]
        assert session.bodies() == [(b"", False)]
        assert scope.connection.response_complete()

    run(main)


def test_sends_after_the_client_left_are_validated_no_ops() -> None:
    async def main() -> None:
        scope, session = make()
        await scope.send({"type": "sse.start"})
        scope.on_close("client_closed")
        sent = len(session.link.sent)
        await scope.send(sse_send())
        await scope.send({"type": "sse.start"})  # wrong order, but the client is gone
        await scope.send({"type": "sse.close"})
        with pytest.raises(InvalidEvent):
            await scope.send(sse_send(data=b"x"))  # type: ignore[arg-type]
        assert len(session.link.sent) == sent
        assert scope.connection.disconnect_reason() == "client_closed"

    run(main)


# --- the app's end ---------------------------------------------------------------------


def test_return_after_start_without_close_is_an_incomplete_response(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """PAGI 0.6: only sse.close ends a stream cleanly; the worker never adds the
    end marker for an app that just returns (the front then cuts the stream)."""
    seen: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        scope["pagi.connection"].on_disconnect(lambda r, d: seen.append(r))
        await send({"type": "sse.start"})
        await send(sse_send("last"))

    async def main() -> None:
        scope, session = make(app)
        with caplog.at_level(logging.ERROR, "pagi.worker"):
            await scope.run()
        await asyncio.sleep(0)
        assert session.bodies() == [(b"data: last\n\n", True)]  # no final empty body
        assert session.ends() == [[END, 3, 0, True, ""]]  # started, unfinished: front cuts it
        assert not scope.connection.response_complete()
        assert scope.connection.disconnect_reason() == "server_error" and seen == ["server_error"]
        assert "returned without sse.close" in caplog.text

    run(main)


def test_raise_after_start_is_an_error_end() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "sse.start"})
        raise RuntimeError("boom")

    async def main() -> None:
        scope, session = make(app, replay=True)
        await scope.run()
        assert session.bodies() == []
        assert session.ends() == [[END, 3, 1, True, "RuntimeError: boom"]]
        assert scope.connection.disconnect_reason() == "server_error"

    run(main)


# --- whole events, in order, under backpressure ----------------------------------------------


def test_an_event_waits_until_it_fits_whole() -> None:
    async def main() -> None:
        scope, session = make(response_window=20)
        await scope.send({"type": "sse.start"})
        await scope.send(sse_send("0123456789"))  # 18 bytes
        blocked = asyncio.ensure_future(scope.send(sse_send("abcdefghij")))
        queued = asyncio.ensure_future(scope.send(sse_send("z")))  # fits, but must not overtake
        await asyncio.sleep(0.01)
        assert not blocked.done() and not queued.done()
        assert session.bodies() == [(b"data: 0123456789\n\n", True)]
        scope.on_credit(10)  # 12 available: still not enough for 18
        await asyncio.sleep(0.01)
        assert len(session.bodies()) == 1
        scope.on_credit(15)  # 27: room for both
        await asyncio.gather(blocked, queued)
        assert session.bodies()[1:] == [(b"data: abcdefghij\n\n", True), (b"data: z\n\n", True)]
        close = asyncio.ensure_future(scope.send({"type": "sse.close"}))
        await close
        assert session.bodies()[-1] == (b"", False)

    run(main)


def test_an_event_larger_than_the_window_goes_in_pieces() -> None:
    async def main() -> None:
        scope, session = make(response_window=8)
        await scope.send({"type": "sse.start"})
        task = asyncio.ensure_future(scope.send(sse_send("0123456789")))  # 18 bytes
        await asyncio.sleep(0.01)
        assert session.bodies() == [(b"data: 01", True)]
        scope.on_credit(8)
        await asyncio.sleep(0.01)
        scope.on_credit(8)
        await task
        assert b"".join(b for b, _ in session.bodies()) == b"data: 0123456789\n\n"

    run(main)


def test_cancelled_before_the_first_byte_leaves_no_trace() -> None:
    async def main() -> None:
        scope, session = make(response_window=10)
        await scope.send({"type": "sse.start"})
        await scope.send(sse_send("12"))  # 10 bytes: window used up
        task = asyncio.ensure_future(scope.send(sse_send("34")))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        scope.on_credit(10)
        await scope.send(sse_send("56"))
        assert [b for b, _ in session.bodies()] == [b"data: 12\n\n", b"data: 56\n\n"]

    run(main)


def test_cancelled_half_way_breaks_the_stream() -> None:
    async def main() -> None:
        scope, _session = make(response_window=8)
        await scope.send({"type": "sse.start"})
        task = asyncio.ensure_future(scope.send(sse_send("0123456789")))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        with pytest.raises(UnexpectedEvent, match="cancelled half-way"):
            await scope.send(sse_send("next"))

    run(main)


def test_client_gone_releases_a_waiting_writer() -> None:
    async def main() -> None:
        scope, session = make(response_window=20)
        await scope.send({"type": "sse.start"})
        await scope.send(sse_send("0123456789"))  # 18 of 20
        task = asyncio.ensure_future(scope.send(sse_send("too long")))
        await asyncio.sleep(0.01)
        scope.on_close("client_closed")
        await asyncio.wait_for(task, 1)
        assert session.bodies() == [(b"data: 0123456789\n\n", True)]

    run(main)


def test_transport_water_marks_on_an_sse_scope() -> None:
    async def main() -> None:
        scope, _session = make(response_window=1000)
        calls: list[str] = []
        transport = scope.scope["pagi.transport"]
        transport.set_water_marks(high=30, low=10)
        transport.on_high_water(lambda: calls.append("high"))
        transport.on_drain(lambda: calls.append("drain"))
        await scope.send({"type": "sse.start"})
        await scope.send(sse_send("0123456789"))  # 18 buffered
        assert calls == []
        await scope.send(sse_send("0123456789"))  # 36 > 30
        assert calls == ["high"] and transport.buffered_amount() == 36
        scope.on_credit(20)  # 16: not yet at or below 10
        assert calls == ["high"]
        scope.on_credit(6)
        assert calls == ["high", "drain"]

    run(main)


# --- apps that do not speak the sse scope ---------------------------------------------------


def starlette_like() -> Callable[..., Awaitable[None]]:
    seen: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])
        assert scope["type"] in ("http", "websocket", "lifespan")
        message = await receive()
        assert message["type"] == "http.request"
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/event-stream")],
            }
        )
        await send({"type": "http.response.body", "body": b"data: plain\n\n"})

    app.seen = seen  # type: ignore[attr-defined]
    return app


def test_an_app_that_raises_on_sse_is_replayed_as_http(caplog: pytest.LogCaptureFixture) -> None:
    app = starlette_like()

    async def main() -> None:
        scope, session = make(app, replay=True)
        with caplog.at_level(logging.INFO, "pagi.worker"):
            await scope.run()
        assert app.seen == ["sse", "http"]  # type: ignore[attr-defined]
        assert scope.scope["type"] == "http"
        assert scope.scope["extensions"] == {}  # a PAGI worker: trailers etc. are native
        assert session.starts()[0][3] == 200
        assert session.bodies() == [(b"data: plain\n\n", False)]
        assert session.ends() == [[END, 3, 0, True, ""]]
        assert sse_verdict.app_verdict(app) == sse_verdict.HTTP_ONLY
        lines = [
            r.getMessage() for r in caplog.records if "does not handle 'sse'" in r.getMessage()
        ]
        assert len(lines) == 1 and "AssertionError" in lines[0]
        # from now on the worker opens plain http scopes for this app
        session2 = StubSession(app, link=NoFilesLink())
        later = open_sse_scope(session2, open_msg(), "auto")  # type: ignore[arg-type]
        assert type(later) is HTTPScope and later.scope["type"] == "http"

    run(main)


def test_replay_delivers_the_request_body_again() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise ValueError(f"cannot handle {scope['type']}")
        message = await receive()
        await send({"type": "http.response.start", "status": 200})
        await send({"type": "http.response.body", "body": message["body"]})

    async def main() -> None:
        scope, session = make(app, body_mode=BodyMode.STREAM, replay=True)
        scope.on_request_body(b"payload", False)
        await scope.run()
        assert session.bodies() == [(b"payload", False)]

    run(main)


def test_an_app_that_returns_without_responding_is_replayed() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":  # a framework that ignores unknown scope types
            await send({"type": "http.response.start", "status": 200})
            await send({"type": "http.response.body", "body": b"ok"})

    async def main() -> None:
        scope, session = make(app, replay=True)
        await scope.run()
        assert session.bodies() == [(b"ok", False)]

    run(main)


def test_an_app_that_sends_http_events_on_sse_is_replayed() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:  # never looks at the type
        await send({"type": "http.response.start", "status": 200})
        await send({"type": "http.response.body", "body": b"ok"})

    async def main() -> None:
        scope, session = make(app, replay=True)
        await scope.run()
        assert session.bodies() == [(b"ok", False)]
        assert session.ends() == [[END, 3, 0, True, ""]]

    run(main)


def test_no_replay_once_the_app_spoke_sse() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "sse.send", "data": "x"})  # before sse.start: raises

    async def main() -> None:
        scope, session = make(app, replay=True)
        await scope.run()
        assert session.ends() == [
            [END, 3, 1, False, "UnexpectedEvent: sse.send: sse.start has not been sent"]
        ]
        assert sse_verdict.app_verdict(app) == sse_verdict.SPEAKS_SSE
        later = open_sse_scope(StubSession(app), open_msg(), "auto")  # type: ignore[arg-type]
        assert isinstance(later, SSEScope) and not later._replay

    run(main)


def test_no_replay_after_body_was_consumed() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        raise RuntimeError("after reading")

    async def main() -> None:
        scope, session = make(app, body_mode=BodyMode.STREAM, replay=True)
        scope.on_request_body(b"x", False)
        await scope.run()
        assert session.ends() == [[END, 3, 1, False, "RuntimeError: after reading"]]
        assert sse_verdict.app_verdict(app) == sse_verdict.UNKNOWN

    run(main)


def test_modes_on_and_off() -> None:
    app = starlette_like()

    async def main() -> None:
        off = open_sse_scope(StubSession(app), open_msg(), "off")  # type: ignore[arg-type]
        assert type(off) is HTTPScope and off.scope["type"] == "http"
        on = open_sse_scope(StubSession(app), open_msg(), "on")  # type: ignore[arg-type]
        assert isinstance(on, SSEScope) and not on._replay
        session = on.session
        await on.run()  # "on" never replays: the AssertionError is the app's error
        assert session.ends()[0][2:4] == [1, False]  # type: ignore[attr-defined]
        assert app.seen == ["sse"]  # type: ignore[attr-defined]

    run(main)
