"""WorkerLink and WorkerPool over a real UNIX socket pair, in one process.

The "worker" end is driven by hand with the protocol codec (and ``sendmsg``
with SCM_RIGHTS for files), so every rule of the front's link can be
provoked exactly: handshake, REJECT, order and window violations, fds,
CLOSE, DRAIN, PING, EOF, the stuck-writer limit.
"""

from __future__ import annotations

import array
import asyncio
import logging
import os
import socket
import tempfile
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
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


# --- handshake -----------------------------------------------------------------


def test_hello_gets_welcome_and_joins_the_pool(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "pagi.front")

    async def main() -> None:
        s = Setup(response_window=1000, max_frame_size=123456)
        assert s.pool.pick() is None
        welcome = await s.worker.handshake(capacity=5, window=777)
        assert welcome == [
            Kind.WELCOME,
            0,
            PROTOCOL_VERSION,
            {
                "window": 1000,
                "worker_id": 7,
                "max_frame_size": 123456,
                "ws_max_size": 16 * 1024 * 1024,
                "ws_max_queue": 16 * 1024 * 1024,
                "channels": {"node": s.config.channels_node, "capacity": 100, "backend": "front"},
            },
        ]
        assert s.pool.pick() is s.link and len(s.pool) == 1
        assert s.link.name == "app:app #1" and s.link.pid == 4242
        assert s.link.request_window == 777 and s.link.capacity == 5

    run(main)
    assert "worker app:app #1 pid 4242 joined" in caplog.text


def test_version_mismatch_is_rejected_with_a_reason(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        s = Setup()
        s.worker.send(m.hello(PROTOCOL_VERSION + 1, HELLO_INFO))
        (reject,) = await s.worker.recv()
        assert reject == [
            Kind.REJECT,
            0,
            f"protocol version {PROTOCOL_VERSION + 1} not supported; "
            f"this front speaks {PROTOCOL_VERSION} "
            "(run pagi-front and pagi-worker from the same release)",
        ]
        await s.worker.recv_eof()
        assert s.link.closed and s.closed == [s.link] and len(s.pool) == 0

    run(main)
    assert "rejected worker app:app #1" in caplog.text


def test_hello_without_window_is_rejected() -> None:
    async def main() -> None:
        s = Setup()
        info = dict(HELLO_INFO)
        del info["window"]
        s.worker.send(m.hello(PROTOCOL_VERSION, info))
        (reject,) = await s.worker.recv()
        assert reject[0] == Kind.REJECT and "window" in reject[2]

    run(main)


@pytest.mark.parametrize(
    "first",
    [
        m.ping(1),
        m.drain(),
        m.end(1, 0, False, ""),
        m.event(1, Event.HTTP_RESPONSE_BODY, b"", False),
    ],
)
def test_first_message_must_be_hello(first: list[Any], caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        s = Setup()
        s.worker.send(first)
        await s.worker.recv_eof()
        assert s.link.closed

    run(main)
    assert "dropping worker #7" in caplog.text


def test_silent_link_is_dropped_after_the_handshake_timeout(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def main() -> None:
        s = Setup(handshake_timeout=0.1)
        await s.worker.recv_eof()

    run(main)
    assert "dropping worker #7: no HELLO within 0.1 s" in caplog.text


def test_garbage_frame_drops_the_link(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        s = Setup()
        await s.ready()
        handler = Recorder()
        s.open(handler)
        await s.worker.recv()
        s.worker.send_raw(b"\x00\x00\x00\x03\xc1\xc1\xc1")
        await s.worker.recv_eof()
        assert handler.calls == [("lost",)]
        assert s.pool.pick() is None and s.link.open_scopes == 0

    run(main)
    assert "dropping worker app:app #1: undecodable msgpack" in caplog.text


def test_oversize_frame_drops_the_link(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        s = Setup(max_frame_size=1000)
        await s.ready()
        s.worker.send_raw(b"\x00\x00\x10\x00")
        await s.worker.recv_eof()

    run(main)
    assert "exceeds the maximum of 1000" in caplog.text


# --- scopes ----------------------------------------------------------------------


def test_scope_round_trip_and_coalesced_writes() -> None:
    async def main() -> None:
        s = Setup()
        await s.ready()
        h1, h2 = Recorder(), Recorder()
        sid1 = s.open(h1, BodyMode.STREAM)
        s.link.send_request_body(sid1, b"abc", False)
        sid2 = s.open(h2)
        assert (sid1, sid2) == (1, 2)
        assert s.link.open_scopes == 2
        # Everything queued in one iteration arrives in one write.
        data = await asyncio.get_running_loop().sock_recv(s.worker.sock, 65536)
        msgs = s.worker.decoder.feed(data)
        assert [x[0] for x in msgs] == [Kind.OPEN, Kind.EVENT, Kind.OPEN]
        assert msgs[0] == [
            Kind.OPEN,
            1,
            "http",
            "1.1",
            "GET",
            "http",
            b"/x",
            b"a=1",
            [[b"host", b"h"]],
            ["127.0.0.1", 5000],
            ["127.0.0.1", 8000],
            {},
            BodyMode.STREAM,
        ]
        assert msgs[1] == [Kind.EVENT, 1, Event.HTTP_REQUEST, b"abc", False]

        s.worker.send(
            start(1), m.credit(1, 10), body(1, b"hel", True), body(1, b"lo"), m.end(1, 0, True, "")
        )
        await s.settle()
        assert h1.calls == [
            ("start", 200, [[b"content-type", b"text/plain"]], False),
            ("credit", 10),
            ("body", b"hel", True),
            ("body", b"lo", False),
            ("end", 0, True, ""),
        ]
        assert s.link.open_scopes == 1
        # END without a response is the handler's business (500), not a violation.
        s.worker.send(m.end(2, 1, False, "RuntimeError: boom"))
        await s.settle()
        assert h2.calls == [("end", 1, False, "RuntimeError: boom")]
        assert s.link.open_scopes == 0 and not s.link.closed
        # A message for a forgotten scope crossed on the wire: ignored.
        s.worker.send(m.credit(1, 5), m.end(2, 0, False, ""))
        await s.settle()
        assert not s.link.closed and len(h1.calls) == 5

    run(main)


def test_trailers_when_announced() -> None:
    async def main() -> None:
        s = Setup()
        await s.ready()
        h = Recorder()
        sid = s.open(h)
        s.worker.send(
            start(sid, trailers=True),
            body(sid, b"x"),
            m.event(sid, Event.HTTP_RESPONSE_TRAILERS, [[b"x-sum", b"1"]]),
            m.end(sid, 0, True, ""),
        )
        await s.settle()
        assert [c[0] for c in h.calls] == ["start", "body", "trailers", "end"]
        assert not s.link.closed

    run(main)


@pytest.mark.parametrize(
    ("events", "needle"),
    [
        ([body(1, b"x")], "HTTP_RESPONSE_BODY before HTTP_RESPONSE_START"),
        ([start(1), start(1)], "second HTTP_RESPONSE_START"),
        ([start(1), body(1, b"x"), body(1, b"y")], "after the response body was complete"),
        (
            [start(1), m.event(1, Event.HTTP_RESPONSE_TRAILERS, [])],
            "TRAILERS before the response body was complete",
        ),
        ([start(1), body(1, b""), m.event(1, Event.HTTP_RESPONSE_TRAILERS, [])], "not announced"),
        ([start(1), body(1, b"x" * 101)], "exceeds the granted window by 1 bytes"),
        ([start_with_body(1, b"x" * 102)], "exceeds the granted window by 2 bytes"),
        ([start_with_body(1, b"x"), body(1, b"y")], "after the response body was complete"),
        ([start_with_body(1, b"x"), start(1)], "second HTTP_RESPONSE_START"),
        ([m.end(9, 0, False, "")], "END for scope 9, which was never opened"),
        ([m.event(5, Event.HTTP_RESPONSE_FILE, 0, None)], "without a file descriptor"),
        ([m.hello(1, HELLO_INFO)], "second HELLO"),
    ],
)
def test_violations_drop_the_worker(
    events: list[list[Any]], needle: str, caplog: pytest.LogCaptureFixture
) -> None:
    async def main() -> None:
        s = Setup(response_window=100)
        await s.ready()
        h = Recorder()
        s.open(h)
        s.worker.send(*events)
        await s.worker.recv_eof()
        assert h.calls[-1] == ("lost",)
        assert s.pool.pick() is None and s.closed == [s.link]

    run(main)
    assert "dropping worker app:app #1" in caplog.text
    assert needle in caplog.text


def test_grant_extends_the_window() -> None:
    async def main() -> None:
        s = Setup(response_window=10)
        await s.ready()
        h = Recorder()
        sid = s.open(h)
        await s.worker.recv()
        s.worker.send(start(sid), body(sid, b"x" * 10, True))
        await s.settle()
        s.link.grant(sid, 5)
        (credit,) = await s.worker.recv()
        assert credit == [Kind.CREDIT, sid, 5]
        s.worker.send(body(sid, b"y" * 5), m.end(sid, 0, True, ""))
        await s.settle()
        assert not s.link.closed and h.calls[-1][0] == "end"

    run(main)


def test_grants_of_one_batch_leave_as_one_credits_message_in_place_of_the_first() -> None:
    async def main() -> None:
        s = Setup(response_window=10)
        await s.ready()
        h1, h2, h3 = Recorder(), Recorder(), Recorder()
        sid1, sid2, sid3 = s.open(h1), s.open(h2), s.open(h3)
        await s.worker.recv(3)
        for sid in (sid1, sid2):
            s.worker.send(start(sid), body(sid, b"x" * 10, True))
        await s.settle()
        # one loop iteration: grant, another frame, more grants (one to the same scope)
        s.link.grant(sid2, 4)
        s.link.close_scope(sid3, "client_closed")
        s.link.grant(sid1, 3)
        s.link.grant(sid2, 6)
        credits, close = await s.worker.recv(2)
        assert credits == [Kind.CREDITS, 0, [sid2, 10, sid1, 3]]
        assert close == [Kind.CLOSE, sid3, "client_closed"]
        # the windows grew by the sums: 10 more bytes for sid2 are accepted
        s.worker.send(body(sid2, b"y" * 10, False), m.end(sid2, 0, True, ""))
        # a lone grant in its batch is a plain CREDIT
        s.link.grant(sid1, 2)
        (credit,) = await s.worker.recv()
        assert credit == [Kind.CREDIT, sid1, 2]
        await s.settle()
        assert not s.link.closed and h2.calls[-1][0] == "end"

    run(main)


def test_response_file_passes_the_descriptor() -> None:
    async def main() -> None:
        s = Setup()
        await s.ready()
        h1, h2 = Recorder(), Recorder()
        sid1, sid2 = s.open(h1), s.open(h2)
        with tempfile.TemporaryFile() as f1, tempfile.TemporaryFile() as f2:
            f1.write(b"first file")
            f1.flush()
            f2.write(b"second")
            f2.flush()
            # Two FILE frames in one write carry two descriptors, taken in order.
            s.worker.send(
                start(sid1),
                m.event(sid1, Event.HTTP_RESPONSE_FILE, 6, None),
                start(sid2),
                m.event(sid2, Event.HTTP_RESPONSE_FILE, 0, 3),
                fds=[f1.fileno(), f2.fileno()],
            )
            await s.settle()
        assert h1.calls[1] == ("file", 6, None) and h2.calls[1] == ("file", 0, 3)
        assert os.pread(h1.fds[0], 100, 0) == b"first file"
        assert os.pread(h2.fds[0], 100, 0) == b"second"
        for fd in h1.fds + h2.fds:
            os.close(fd)

    run(main)


def test_close_scope_detaches_the_handler_and_closes_stray_fds() -> None:
    async def main() -> None:
        s = Setup()
        await s.ready()
        h = Recorder()
        sid = s.open(h)
        await s.worker.recv()
        s.link.close_scope(sid, "client_closed")
        s.link.close_scope(sid, "client_closed")  # once only
        (close,) = await s.worker.recv()
        assert close == [Kind.CLOSE, sid, "client_closed"]
        assert s.link.open_scopes == 1  # until END
        before = len(os.listdir("/proc/self/fd"))
        r, w = os.pipe()
        s.worker.send(start(sid), m.event(sid, Event.HTTP_RESPONSE_FILE, 0, None), fds=[r])
        os.close(r)
        await s.settle()
        # The front's received copy of the descriptor was closed, not leaked.
        assert len(os.listdir("/proc/self/fd")) == before + 1  # only our w remains
        os.close(w)
        s.worker.send(m.end(sid, 0, True, ""))
        await s.settle()
        assert h.calls == [] and s.link.open_scopes == 0
        # Sends for a closed or finished scope are dropped.
        s.link.send_request_body(sid, b"x", False)
        s.link.grant(sid, 10)
        s.link.close_scope(sid, "client_closed")
        s.worker.send(m.ping(9))
        (pong,) = await s.worker.recv()
        assert pong == [Kind.PONG, 0, 9]

    run(main)


def test_drain_stops_routing_and_eof_loses_open_scopes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, "pagi.front")

    async def main() -> None:
        s = Setup()
        await s.ready()
        h = Recorder()
        s.open(h)
        s.worker.send(m.drain(), m.stats({"scopes": 1}))
        await s.settle()
        assert s.link.draining and s.pool.pick() is None and len(s.pool) == 0
        assert s.link.stats == {"scopes": 1}
        s.worker.sock.close()
        await s.settle()
        assert h.calls == [("lost",)] and s.link.closed and s.closed == [s.link]

    run(main)
    assert "worker app:app #1 draining" in caplog.text
    assert "worker app:app #1 left" in caplog.text


def test_a_draining_worker_is_closed_by_the_front_when_its_last_scope_ends(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, "pagi.front")

    async def main() -> None:
        s = Setup()
        await s.ready()
        h = Recorder()
        sid = s.open(h)
        await s.worker.recv()  # OPEN
        s.worker.send(m.drain())
        await s.settle()
        assert s.link.draining and not s.link.closed  # a scope is still open
        s.worker.send(start_with_body(sid, b"ok"), m.end(sid, 0, True, ""))
        await s.settle()
        assert s.link.closed and s.closed == [s.link]
        await s.worker.recv_eof()  # the front closed it: no OPEN can cross a close
        assert ("lost",) not in h.calls

    run(main)
    assert "worker app:app #1 draining" in caplog.text
    assert "worker app:app #1 drained" in caplog.text


def test_front_initiated_drain_sends_drain_and_closes_an_idle_link(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, "pagi.front")

    async def main() -> None:
        s = Setup()
        await s.ready()
        s.link.drain("reload")
        assert s.link.draining and s.pool.pick() is None
        (msg,) = await s.worker.recv()
        assert msg == [Kind.DRAIN, 0]
        await s.worker.recv_eof()
        assert s.link.closed

    run(main)
    assert "worker app:app #1 draining (reload)" in caplog.text


def test_open_scope_on_a_dead_link_reports_worker_lost() -> None:
    async def main() -> None:
        s = Setup()
        await s.ready()
        s.worker.sock.close()
        await s.settle()
        h = Recorder()
        s.open(h)
        assert h.calls == []  # never re-entrant
        await s.settle()
        assert h.calls == [("lost",)]

    run(main)


def test_a_worker_that_does_not_read_is_dropped_as_stuck(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def main() -> None:
        s = Setup(max_link_buffer=1 << 20)
        await s.ready()
        h = Recorder()
        sid = s.open(h, BodyMode.STREAM)
        chunk = b"x" * 65536
        for _ in range(200):  # ~13 MiB, far beyond socket buffers + 1 MiB
            s.link.send_request_body(sid, chunk, True)
            await asyncio.sleep(0)
            if s.link.closed:
                break
        assert s.link.closed and h.calls == [("lost",)]

    run(main)
    assert "stuck" in caplog.text


def test_partial_writes_are_completed_in_order() -> None:
    async def main() -> None:
        s = Setup()
        await s.ready()
        h = Recorder()
        sid = s.open(h, BodyMode.STREAM)
        chunks = [bytes([i]) * 100_000 for i in range(30)]  # ~3 MB, over the socket buffer
        for chunk in chunks:
            s.link.send_request_body(sid, chunk, True)
        msgs = await s.worker.recv(31)
        assert [x[3] for x in msgs[1:]] == chunks

    run(main)


# --- pool ------------------------------------------------------------------------


class FakeLink:
    def __init__(self, name: str, capacity: int = 0) -> None:
        self.name = name
        self.capacity = capacity
        self.open_scopes = 0
        self.draining = False


def _pool(*links: FakeLink) -> WorkerPool:
    pool = WorkerPool()
    for link in links:
        pool.add(link)  # type: ignore[arg-type]
    return pool


def test_pick_prefers_the_least_loaded_and_rotates_ties() -> None:
    a, b, c = FakeLink("a"), FakeLink("b"), FakeLink("c")
    pool = _pool(a, b, c)
    assert [pool.pick().name for _ in range(6)] == ["a", "b", "c", "a", "b", "c"]  # type: ignore[union-attr]
    b.open_scopes = 3
    a.open_scopes = 1
    c.open_scopes = 1
    assert [pool.pick().name for _ in range(4)] == ["a", "c", "a", "c"]  # type: ignore[union-attr]
    a.open_scopes = 0
    assert pool.pick() is a


def test_pick_skips_draining_and_full_workers() -> None:
    a, b = FakeLink("a", capacity=2), FakeLink("b")
    pool = _pool(a, b)
    b.draining = True
    assert len(pool) == 1
    assert pool.pick() is a
    a.open_scopes = 2
    assert pool.pick() is None
    b.draining = False
    assert pool.pick() is b
    pool.remove(b)  # type: ignore[arg-type]
    assert pool.pick() is None


def test_wait_is_woken_by_a_joining_worker_or_freed_capacity() -> None:
    async def main() -> None:
        pool = WorkerPool()
        assert await pool.wait(0.05) is None
        a = FakeLink("a", capacity=1)
        waiter = asyncio.ensure_future(pool.wait(5))
        await asyncio.sleep(0.01)
        pool.add(a)  # type: ignore[arg-type]
        assert await waiter is a
        a.open_scopes = 1
        w1 = asyncio.ensure_future(pool.wait(5))
        w2 = asyncio.ensure_future(pool.wait(0.3))
        await asyncio.sleep(0.01)
        a.open_scopes = 0
        pool.capacity_changed()  # one free slot: wakes the first waiter only
        assert await w1 is a
        a.open_scopes = 1
        assert await w2 is None  # timed out, still full

    run(main)


def test_start_carrying_a_body_is_start_then_body() -> None:
    async def main() -> None:
        s = Setup(response_window=100)
        await s.ready()
        h = Recorder()
        sid = s.open(h)
        s.worker.send(start_with_body(sid, b"abc", more=True, trailers=True))
        s.worker.send(body(sid, b"d" * 97))  # the window counts the first piece too
        s.worker.send(m.event(sid, Event.HTTP_RESPONSE_TRAILERS, [[b"x-t", b"1"]]))
        s.worker.send(m.end(sid, 0, True, ""))
        await s.settle()
        assert h.calls == [
            ("start+body", 200, [[b"content-type", b"text/plain"]], True, b"abc", True),
            ("body", b"d" * 97, False),
            ("trailers", [[b"x-t", b"1"]]),
            ("end", 0, True, ""),
        ]

    run(main)
