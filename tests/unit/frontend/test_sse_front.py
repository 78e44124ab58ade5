"""The front's SSE pieces in-process: SSE_KEEPALIVE on the link, the idle-comment timer
(an HTTPStream against a fake writer)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from pagi.frontend.link.io import LinkViolation
from pagi.frontend.link.scope import LinkScope
from pagi.frontend.streams.http_stream import HTTPStream
from pagi.protocol import BodyMode
from pagi.protocol.kinds import HTTP_RESPONSE_BODY as BODY
from pagi.protocol.kinds import HTTP_RESPONSE_START as START
from pagi.protocol.kinds import SSE_KEEPALIVE as KEEPALIVE
from stream_doubles import FakeHost, FakeHTTPWriter, FakeLink, FakePool


class Handler:
    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def on_response_start(self, status: int, headers: list[list[bytes]], trailers: bool) -> None:
        self.calls.append(("start", status))

    def on_response_body(self, body: bytes, more: bool) -> None:
        self.calls.append(("body", body, more))

    def on_sse_keepalive(self, interval: float, comment: str) -> None:
        self.calls.append(("keepalive", interval, comment))


def test_keepalive_is_passed_on_only_while_streaming() -> None:
    scope = LinkScope(Handler(), 1000)  # type: ignore[arg-type]
    handler = scope.handler
    assert isinstance(handler, Handler)
    with pytest.raises(LinkViolation, match="SSE_KEEPALIVE before HTTP_RESPONSE_START"):
        scope.on_event(1, KEEPALIVE, [5, 1, KEEPALIVE, 1.5, "x"], -1)
    scope.on_event(1, START, [5, 1, START, 200, [], False], -1)
    scope.on_event(1, KEEPALIVE, [5, 1, KEEPALIVE, 1.5, "x"], -1)
    scope.on_event(1, BODY, [5, 1, BODY, b"", False], -1)
    with pytest.raises(LinkViolation, match="SSE_KEEPALIVE after the response body was complete"):
        scope.on_event(1, KEEPALIVE, [5, 1, KEEPALIVE, 0, ""], -1)
    assert handler.calls == [("start", 200), ("keepalive", 1.5, "x"), ("body", b"", False)]


def start_stream(sse: bool = True, head: bool = False) -> tuple[HTTPStream, FakeHTTPWriter]:
    host = FakeHost(FakePool(FakeLink()))
    writer = FakeHTTPWriter()
    stream = HTTPStream(host, writer, "GET", b"/events", "1.1", sse, host.loop.time())
    stream.start(b"/events", b"", [], BodyMode.NONE)
    stream.on_response(200, [[b"content-type", b"text/event-stream"]], False, b"", True)
    writer.calls.clear()
    return stream, writer


def comments(writer: FakeHTTPWriter) -> list[bytes]:
    return [call[1] for call in writer.calls if call[0] == "data"]


def run(coro: Any) -> None:
    asyncio.run(asyncio.wait_for(coro, 5))


def test_comments_only_when_idle() -> None:
    async def main() -> None:
        stream, writer = start_stream()
        stream.on_sse_keepalive(0.1, "ka")
        await asyncio.sleep(0.09)
        assert comments(writer) == []  # not before a whole interval
        await asyncio.sleep(0.16)
        assert comments(writer) == [b":ka\n\n"] * 2
        # activity postpones the next comment by a whole interval
        stream.on_response_body(b"data: x\n\n", True)
        writer.calls.clear()
        await asyncio.sleep(0.08)
        assert comments(writer) == []
        await asyncio.sleep(0.05)
        assert comments(writer) == [b":ka\n\n"]
        # a backed-up client gets no comments
        writer.paused = True
        await asyncio.sleep(0.25)
        assert len(comments(writer)) == 1
        writer.paused = False
        await asyncio.sleep(0.15)
        written = len(comments(writer))
        assert written >= 2
        # the two comments before the data piece count too
        assert stream.body_bytes == len(b"data: x\n\n") + (2 + written) * len(b":ka\n\n")
        # interval 0 stops it
        stream.on_sse_keepalive(0, "")
        await asyncio.sleep(0.25)
        assert len(comments(writer)) == written

    run(main())


def test_framing_and_the_end_of_the_response() -> None:
    async def main() -> None:
        stream, writer = start_stream()
        stream.on_sse_keepalive(0.05, "")
        await asyncio.sleep(0.08)
        assert comments(writer) == [b":\n\n"]
        stream.on_response_body(b"", False)  # the response ended: the timer stops
        writer.calls.clear()
        await asyncio.sleep(0.15)
        assert comments(writer) == []
        head, head_writer = start_stream()
        head_writer.has_body = False  # HEAD, 204, a content-length: no room for comments
        head.on_sse_keepalive(0.05, "x")
        await asyncio.sleep(0.15)
        assert comments(head_writer) == []
        plain, _plain_writer = start_stream(sse=False)
        plain.on_sse_keepalive(0.05, "x")  # an http scope ignores SSE_KEEPALIVE
        assert plain.sse is None  # no EventStream, so no keepalive timer

    run(main())
