"""The front's SSE pieces in-process: SSE_KEEPALIVE on the link, the idle-comment timer."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from pagi.frontend.http1.responses import CHUNKED, NO_BODY, UNTIL_CLOSE
from pagi.frontend.link.io import LinkViolation
from pagi.frontend.link.scope import LinkScope
from pagi.frontend.streams.sse import SSEKeepalive, set_keepalive
from pagi.protocol.kinds import HTTP_RESPONSE_BODY as BODY
from pagi.protocol.kinds import HTTP_RESPONSE_START as START
from pagi.protocol.kinds import SSE_KEEPALIVE as KEEPALIVE


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


def test_keepalive_for_a_handler_without_sse_is_ignored() -> None:
    class Plain:
        def on_response_start(self, *args: Any) -> None:
            pass

    scope = LinkScope(Plain(), 1000)  # type: ignore[arg-type]
    scope.on_event(1, START, [5, 1, START, 200, [], False], -1)
    scope.on_event(1, KEEPALIVE, [5, 1, KEEPALIVE, 1.0, ""], -1)  # no error


class FakeConn:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.closing = False
        self.write_paused = False
        self.written: list[tuple[float, bytes]] = []

    def write(self, data: bytes) -> None:
        self.written.append((self.loop.time(), data))


class FakeExchange:
    def __init__(self, conn: FakeConn, framing: int = CHUNKED) -> None:
        self.conn = conn
        self.sse = True
        self.finished = False
        self.head_written = True
        self.framing = framing
        self.body_bytes = 0
        self.keepalive: SSEKeepalive | None = None


def run(coro: Any) -> None:
    asyncio.run(asyncio.wait_for(coro, 5))


def test_comments_only_when_idle() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        conn = FakeConn(loop)
        exchange = FakeExchange(conn)
        start = loop.time()
        set_keepalive(exchange, 0.1, "ka")  # type: ignore[arg-type]
        await asyncio.sleep(0.25)
        assert [d for _, d in conn.written] == [b"5\r\n:ka\n\n\r\n"] * 2
        assert conn.written[0][0] - start >= 0.099
        # activity postpones the next comment by a whole interval
        assert exchange.keepalive is not None
        exchange.keepalive.last_write = loop.time()
        await asyncio.sleep(0.08)
        assert len(conn.written) == 2
        await asyncio.sleep(0.05)
        assert len(conn.written) == 3
        # a backed-up client gets no comments
        conn.write_paused = True
        await asyncio.sleep(0.25)
        assert len(conn.written) == 3
        conn.write_paused = False
        await asyncio.sleep(0.15)
        written = len(conn.written)
        assert written >= 4
        assert exchange.body_bytes == written * len(b":ka\n\n")
        # interval 0 stops it
        set_keepalive(exchange, 0, "")  # type: ignore[arg-type]
        await asyncio.sleep(0.25)
        assert len(conn.written) == written

    run(main())


def test_framing_and_the_end_of_the_response() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        conn = FakeConn(loop)
        http10 = FakeExchange(conn, UNTIL_CLOSE)
        set_keepalive(http10, 0.05, "")  # type: ignore[arg-type]
        await asyncio.sleep(0.08)
        assert [d for _, d in conn.written] == [b":\n\n"]
        http10.finished = True  # the response ended: the timer stops by itself
        await asyncio.sleep(0.15)
        assert len(conn.written) == 1
        head = FakeExchange(conn, NO_BODY)
        set_keepalive(head, 0.05, "x")  # type: ignore[arg-type]
        await asyncio.sleep(0.15)
        assert len(conn.written) == 1  # a body-less response gets no comments
        plain = FakeExchange(conn)
        plain.sse = False
        set_keepalive(plain, 0.05, "x")  # type: ignore[arg-type]
        assert plain.keepalive is None

    run(main())
