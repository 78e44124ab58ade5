"""WorkerLink's scopes over a real UNIX socket pair, in one process.

The "worker" end is driven by hand with the protocol codec (and ``sendmsg``
with SCM_RIGHTS for files; link_doubles.py), so every rule of the front's
link can be provoked exactly: order and window violations, fds, CLOSE, DRAIN,
EOF, the stuck-writer limit. The handshake: test_front_link_handshake.py;
the pool: test_link_pool.py.
"""

from __future__ import annotations

import asyncio
import logging
import os
import tempfile
from typing import Any

import pytest
from link_doubles import HELLO_INFO, Recorder, Setup, body, run, start, start_with_body
from pagi.protocol import (
    BodyMode,
    Event,
    Kind,
)
from pagi.protocol import messages as m

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
