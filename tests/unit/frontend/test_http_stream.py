"""HTTPStream against a fake writer, a fake host and a fake link (no sockets).

The process-level tests cover the same paths through real HTTP/1.1; these
pin down the stream layer's own contract, which HTTP/2 reuses unchanged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import pytest
from pagi.frontend.streams.http_phase import DONE, SENDING
from pagi.frontend.streams.http_stream import HTTPStream
from pagi.frontend.streams.opening import RETRY_AFTER
from pagi.protocol import BodyMode, reasons
from pagi.protocol.kinds import RAISED, RETURNED
from stream_doubles import FakeHost, FakeHTTPWriter, FakeLink, FakePool

HEADERS = [[b"content-type", b"text/plain"]]


def run(main: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(main(), 5))


def make(
    link: FakeLink | None = None,
    *,
    later: FakeLink | None = None,
    sse: bool = False,
    mode: BodyMode = BodyMode.NONE,
    **config: object,
) -> tuple[HTTPStream, FakeHTTPWriter, FakeHost]:
    host = FakeHost(FakePool(link, later), **config)
    writer = FakeHTTPWriter()
    stream = HTTPStream(host, writer, "GET", b"/x?a=1", "1.1", sse, host.loop.time())
    stream.start(b"/x", b"a=1", [(b"host", b"h")], mode)
    return stream, writer, host


def test_opens_the_scope_at_once_with_the_hosts_facts() -> None:
    async def main() -> None:
        link = FakeLink(request_window=100)
        stream, _writer, _host = make(link, sse=True, mode=BodyMode.EXPECT_CONTINUE)
        assert link.handler is stream and stream.link is link and stream.worker == "w1"
        kind, scope_type, version, method, scheme, raw_path, query, *rest = link.sent[0]
        assert (kind, scope_type, version, method, scheme) == ("open", "sse", "1.1", "GET", "http")
        assert (raw_path, query) == (b"/x", b"a=1")
        assert rest[-1] == BodyMode.EXPECT_CONTINUE
        assert stream.window == 0  # 100-continue: nothing until the worker's first CREDIT

    run(main)


def test_no_worker_in_time_is_a_503_with_retry_after(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        stream, writer, _host = make(None, later=None, worker_wait_timeout=0.01)
        assert stream.waiter is not None
        await asyncio.sleep(0.01)
        assert writer.calls == [("reply", 503, "no worker is available", RETRY_AFTER), ("end",)]
        assert stream.done and stream.waiter is None

    caplog.set_level(logging.WARNING, "pagi.front")
    run(main)
    assert "503: no worker ready within 0.01s for GET /x?a=1 from 127.0.0.1:5000" in caplog.text


def test_a_late_worker_opens_the_scope_and_asks_for_input() -> None:
    async def main() -> None:
        link = FakeLink()
        stream, writer, _host = make(None, later=link)
        await asyncio.sleep(0.01)
        assert stream.link is link and link.sent[0][0] == "open"
        assert writer.calls == [("resume_input",)]

    run(main)


def test_head_and_first_body_in_one_batch_are_one_respond_and_data() -> None:
    async def main() -> None:
        link = FakeLink()
        stream, writer, _host = make(link)
        stream.on_response_start(200, HEADERS, False)
        stream.on_response_body(b"hello", False)
        await asyncio.sleep(0)  # the deferred head flush finds nothing to do
        assert writer.calls == [("respond", 200, None, True), ("data", b"hello", True), ("end",)]
        assert stream.done and stream.body_bytes == 5

    run(main)


def test_a_lone_head_is_flushed_at_the_end_of_the_loop_iteration() -> None:
    async def main() -> None:
        stream, writer, _host = make(FakeLink())
        stream.on_response_start(200, HEADERS, False)
        assert writer.calls == []
        await asyncio.sleep(0)
        assert writer.calls == [("respond", 200, None, False), ("flush",)]
        assert stream.phase == SENDING and not stream.done

    run(main)


def test_credit_is_withheld_while_the_writer_is_paused() -> None:
    async def main() -> None:
        link = FakeLink()
        stream, writer, _host = make(link)
        stream.on_response(200, HEADERS, False, b"abc", True)
        assert link.sent[-1] == ("grant", 3)
        writer.paused = True
        stream.on_response_body(b"defg", True)
        stream.on_response_body(b"hi", True)
        assert link.sent[-1] == ("grant", 3)
        writer.paused = False
        stream.on_writable()
        assert link.sent[-1] == ("grant", 6)

    run(main)


def test_request_window_debits_and_credits() -> None:
    async def main() -> None:
        link = FakeLink(request_window=10)
        stream, writer, _host = make(link, mode=BodyMode.EXPECT_CONTINUE)
        stream.on_request_credit(8)
        assert writer.calls == [("continue",), ("resume_input",)] and stream.window == 8
        stream.send_body(b"12345", True)
        assert stream.window == 3 and link.sent[-1] == ("body", b"12345", True)
        stream.on_request_credit(5)  # no second 100 Continue
        assert writer.calls[-1] == ("resume_input",) and ("continue",) not in writer.calls[2:]
        stream.send_body(b"", False)
        assert stream.request_done and link.sent[-1] == ("body", b"", False)

    run(main)


def test_announced_trailers_end_the_response() -> None:
    async def main() -> None:
        stream, writer, _host = make(FakeLink())
        stream.on_response(200, HEADERS, True, b"x", False)
        assert not stream.done and writer.calls[-1] == ("data", b"x", True)
        stream.on_response_trailers([[b"x-t", b"1"]])
        assert writer.calls[-2:] == [("trailers", [[b"x-t", b"1"]]), ("end",)] and stream.done

    run(main)


@pytest.mark.parametrize(
    ("end", "status", "message", "log"),
    [
        ((RAISED, False, "KeyError: 'k'"), 500, "", "500: the app raised: KeyError: 'k'"),
        ((RETURNED, False, ""), 500, "", "the app returned without sending a response"),
        (None, 502, "the worker serving this request went away", "502: worker w1 went away"),
    ],
)
def test_a_scope_that_ends_before_responding_gets_500_or_502(
    end: tuple[int, bool, str] | None,
    status: int,
    message: str,
    log: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def main() -> None:
        link = FakeLink()
        stream, writer, _host = make(link)
        if end is None:
            stream.on_worker_lost()
        else:
            stream.on_end(*end)
        assert writer.calls == [("reply", status, message, ()), ("end",)]
        assert stream.done and stream.link is None
        stream.client_gone()  # nothing more: no CLOSE for an ended scope
        assert [s for s in link.sent if s[0] == "close"] == []

    caplog.set_level(logging.ERROR, "pagi.front")
    run(main)
    assert log in caplog.text


def test_a_scope_that_ends_mid_response_is_aborted(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        stream, writer, _host = make(FakeLink())
        stream.on_response(200, HEADERS, False, b"part", True)
        stream.on_end(RAISED, True, "RuntimeError: boom")
        assert writer.calls[-1] == ("abort",) and stream.done

    caplog.set_level(logging.WARNING, "pagi.front")
    run(main)
    assert "aborting the response to GET /x?a=1" in caplog.text
    assert "raised (RuntimeError: boom) before finishing it" in caplog.text


def test_an_unusable_head_is_a_500_and_closes_the_scope() -> None:
    async def main() -> None:
        link = FakeLink()
        stream, writer, _host = make(link)
        writer.invalid = "conflicting content-length headers"
        stream.on_response(200, HEADERS, False, b"x", False)
        assert writer.calls == [("reply", 500, "", ()), ("end",)]
        assert link.sent[-1] == ("close", reasons.SERVER_ERROR)

    run(main)


def test_the_client_going_away_closes_a_live_scope_once() -> None:
    async def main() -> None:
        link = FakeLink()
        stream, _writer, _host = make(link)
        stream.on_response_start(200, HEADERS, False)
        stream.client_gone()
        stream.client_gone()
        assert [s for s in link.sent if s[0] == "close"] == [("close", reasons.CLIENT_CLOSED)]
        assert stream.done

    run(main)


def test_a_complete_exchange_needs_no_close_when_the_client_leaves() -> None:
    async def main() -> None:
        link = FakeLink()
        stream, _writer, _host = make(link)
        stream.send_body(b"", False)
        stream.on_response(200, HEADERS, False, b"ok", False)
        stream.client_gone()
        assert [s for s in link.sent if s[0] == "close"] == []

    run(main)


def test_abort_answers_503_before_the_response_and_resets_after_it() -> None:
    async def main() -> None:
        link = FakeLink()
        stream, writer, _host = make(link)
        assert stream.abort(reasons.SERVER_SHUTDOWN) is True
        assert writer.calls[0] == ("reply", 503, "the server is shutting down", RETRY_AFTER)
        assert link.sent[-1] == ("close", reasons.SERVER_SHUTDOWN)
        started, _writer2, _host2 = make(FakeLink())
        started.on_response(200, HEADERS, False, b"x", True)
        assert started.abort("x-reason") is False and started.done

    run(main)


def test_shutdown_ends_a_started_event_stream_only() -> None:
    async def main() -> None:
        link = FakeLink()
        stream, writer, _host = make(link, sse=True)
        events = [[b"content-type", b"text/event-stream; charset=utf-8"]]
        stream.on_response(200, events, False, b"data: 1\n\n", True)
        stream.shutdown()
        # no end marker: the app never ended the stream (PAGI Www 0.6)
        assert writer.calls[-1] == ("cut",) and stream.done
        assert ("trailers", None) not in writer.calls
        assert link.sent[-1] == ("close", reasons.SERVER_SHUTDOWN)
        plain, plain_writer, _host2 = make(FakeLink())
        plain.on_response(200, HEADERS, False, b"x", True)
        plain.shutdown()
        assert not plain.done and plain_writer.calls[-1] == ("data", b"x", False)

    run(main)


def test_phase_only_moves_forward() -> None:
    async def main() -> None:
        stream, writer, _host = make(FakeLink())
        stream.on_response(200, HEADERS, False, b"x", False)
        assert stream.phase == DONE
        calls = list(writer.calls)
        stream.on_response_body(b"late", False)
        stream.on_end(RETURNED, True, "")
        stream.on_sse_keepalive(1.0, "")
        assert writer.calls == calls and stream.phase == DONE and SENDING < DONE

    run(main)
