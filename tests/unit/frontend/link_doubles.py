"""What the worker-link tests share: a recording handler, a hand-driven worker end.

test_front_link.py (scopes), test_front_link_handshake.py and
test_link_pool.py drive a real :class:`~pagi.frontend.link.worker_link.WorkerLink`
over a UNIX socket pair whose worker end (:class:`FakeWorker`) speaks the
protocol by hand.
"""

from __future__ import annotations

import array
import asyncio
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import uvloop
from pagi.frontend.config import FrontConfig
from pagi.frontend.link.pool import WorkerPool
from pagi.frontend.link.worker_link import WorkerLink
from pagi.protocol import (
    PROTOCOL_VERSION,
    BodyMode,
    Event,
    Kind,
    LinkDecoder,
    encode,
)
from pagi.protocol import messages as m

HELLO_INFO = {
    "pid": 4242,
    "name": "app:app #1",
    "app": "app:app",
    "interface": "pagi",
    "capacity": 0,
    "window": 65536,
}


def run(coro_fn: Callable[[], Awaitable[None]]) -> None:
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(asyncio.wait_for(coro_fn(), 10))


class Recorder:
    """A ScopeHandler that records every call."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.fds: list[int] = []

    def on_response_start(self, status: int, headers: list[list[bytes]], trailers: bool) -> None:
        self.calls.append(("start", status, headers, trailers))

    def on_response_body(self, body: bytes, more: bool) -> None:
        self.calls.append(("body", body, more))

    def on_response(
        self, status: int, headers: list[list[bytes]], trailers: bool, body: bytes, more: bool
    ) -> None:
        self.calls.append(("start+body", status, headers, trailers, body, more))

    def on_response_file(self, fd: int, offset: int, length: int | None) -> None:
        self.fds.append(fd)
        self.calls.append(("file", offset, length))

    def on_response_trailers(self, headers: list[list[bytes]]) -> None:
        self.calls.append(("trailers", headers))

    def on_request_credit(self, nbytes: int) -> None:
        self.calls.append(("credit", nbytes))

    def on_end(self, outcome: int, response_started: bool, detail: str) -> None:
        self.calls.append(("end", outcome, response_started, detail))

    def on_worker_lost(self) -> None:
        self.calls.append(("lost",))


class FakeWorker:
    """The worker end of the pair, speaking the protocol by hand."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        sock.setblocking(False)
        self.decoder = LinkDecoder("worker")
        self.pending: list[list[Any]] = []
        self.eof = False

    def send(self, *msgs: list[Any], fds: list[int] | None = None) -> None:
        data = b"".join(encode(msg) for msg in msgs)
        if fds:
            self.sock.sendmsg(
                [data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))]
            )
        else:
            self.sock.sendall(data)

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    async def recv(self, count: int = 1) -> list[list[Any]]:
        loop = asyncio.get_running_loop()
        while len(self.pending) < count:
            data = await loop.sock_recv(self.sock, 65536)
            if not data:
                self.eof = True
                raise EOFError(f"link closed; got {self.pending}")
            self.pending += self.decoder.feed(data)
        out, self.pending = self.pending[:count], self.pending[count:]
        return out

    async def recv_eof(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            data = await loop.sock_recv(self.sock, 65536)
            if not data:
                return

    async def handshake(self, **info: Any) -> list[Any]:
        self.send(m.hello(PROTOCOL_VERSION, {**HELLO_INFO, **info}))
        (welcome,) = await self.recv()
        return welcome


class Setup:
    def __init__(self, **config: Any) -> None:
        self.config = FrontConfig(**config)
        self.pool = WorkerPool()
        front_sock, worker_sock = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.closed: list[WorkerLink] = []
        self.link = WorkerLink(front_sock, 7, self.config, self.pool, self.closed.append)
        self.worker = FakeWorker(worker_sock)

    async def ready(self, **info: Any) -> None:
        welcome = await self.worker.handshake(**info)
        assert welcome[0] == Kind.WELCOME

    def open(self, handler: Recorder, body_mode: BodyMode = BodyMode.NONE) -> int:
        return self.link.open_http(
            handler,
            (
                "http",
                "1.1",
                "GET",
                "http",
                b"/x",
                b"a=1",
                [(b"host", b"h")],
                ["127.0.0.1", 5000],
                ["127.0.0.1", 8000],
                {},
                body_mode,
            ),
        )

    async def settle(self) -> None:
        for _ in range(5):
            await asyncio.sleep(0.01)


def start(sid: int, status: int = 200, trailers: bool = False) -> list[Any]:
    return m.event(
        sid, Event.HTTP_RESPONSE_START, status, [[b"content-type", b"text/plain"]], trailers
    )


def body(sid: int, data: bytes, more: bool = False) -> list[Any]:
    return m.event(sid, Event.HTTP_RESPONSE_BODY, data, more)


def start_with_body(sid: int, data: bytes, more: bool = False, trailers: bool = False) -> list[Any]:
    """HTTP_RESPONSE_START carrying the first body piece."""
    return [*start(sid, trailers=trailers), data, more]
