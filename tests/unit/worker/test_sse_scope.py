"""The sse scope's dict, receive, send and the app's end, in-process.

The scope writes through its session's link; here the link is a recorder that
decodes what would have gone on the wire (real processes: integration/test_sse.py).
Backpressure: test_sse_scope_backpressure.py; the ASGI replay: test_sse_scope_replay.py.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from pagi.protocol import BodyMode
from pagi.protocol.kinds import (
    CREDIT,
    END,
    EVENT,
)
from pagi.protocol.kinds import HTTP_RESPONSE_START as START
from pagi.protocol.kinds import SSE_KEEPALIVE as KEEPALIVE
from pagi.worker.http_events import InvalidEvent, UnexpectedEvent
from pagi.worker.sse_scope import SSEScope
from sse_scope_doubles import SSE_HEADERS, NoFilesLink, make, open_msg, sse_send
from worker_doubles import StubSession, run

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
