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


def start_stream(
    sse: bool = True, head: bool = False, writer: FakeHTTPWriter | None = None
) -> tuple[HTTPStream, FakeHTTPWriter]:
    host = FakeHost(FakePool(FakeLink()))
    writer = writer or FakeHTTPWriter()
    stream = HTTPStream(host, writer, "GET", b"/events", "1.1", sse, host.loop.time())
    stream.start(b"/events", b"", [], BodyMode.NONE)
    stream.on_response(200, [[b"content-type", b"text/event-stream"]], False, b"", True)
    writer.calls.clear()
    return stream, writer


def comments(writer: FakeHTTPWriter) -> list[bytes]:
    return [call[1] for call in writer.calls if call[0] == "data"]


def run(coro: Any) -> None:
    asyncio.run(asyncio.wait_for(coro, 5))


class TimedWriter(FakeHTTPWriter):
    """Records when each comment was written and whether the client was backed up
    then, so the timer's rules can be checked without exact sleeps (a loaded
    machine only ever makes the loop late, never early)."""

    def __init__(self) -> None:
        super().__init__()
        self.written: list[tuple[float, bool]] = []

    def data(self, body: bytes, final: bool) -> int:
        if body.startswith(b":"):
            self.written.append((asyncio.get_running_loop().time(), self.paused))
        return super().data(body, final)


async def wait_for_comments(writer: TimedWriter, count: int) -> None:
    while len(writer.written) < count:
        await asyncio.sleep(0.01)


def test_comments_only_when_idle() -> None:
    interval = 0.1

    async def main() -> None:
        loop = asyncio.get_running_loop()
        writer = TimedWriter()
        stream, _ = start_stream(writer=writer)
        begun = loop.time()
        stream.on_sse_keepalive(interval, "ka")
        await wait_for_comments(writer, 2)
        # never before a whole idle interval, and a whole interval between two
        assert writer.written[0][0] - begun >= interval * 0.99
        assert writer.written[1][0] - writer.written[0][0] >= interval * 0.99
        assert comments(writer) == [b":ka\n\n"] * 2
        # activity postpones the next comment by a whole interval
        stream.on_response_body(b"data: x\n\n", True)
        active = loop.time()
        await wait_for_comments(writer, 3)
        assert writer.written[2][0] - active >= interval * 0.99
        # a backed-up client gets no comments; they resume once it drains
        writer.paused = True
        await asyncio.sleep(interval * 3)
        writer.paused = False
        await wait_for_comments(writer, len(writer.written) + 2)
        assert not any(paused for _, paused in writer.written)
        written = len(writer.written)
        # every comment counts in the body's length, as does the data piece
        assert stream.body_bytes == len(b"data: x\n\n") + written * len(b":ka\n\n")
        # interval 0 stops it
        stream.on_sse_keepalive(0, "")
        await asyncio.sleep(interval * 2.5)
        assert len(writer.written) == written

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
