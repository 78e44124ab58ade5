"""Resuming an event stream on another worker, against fakes (frontend/streams/resume.py).

The process-level tests (tests/integration/test_resume.py) cover the same
through real reloads, kills and browsers; these pin down each decision.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from pagi.frontend.streams.http_stream import DONE, SENDING, HTTPStream
from pagi.protocol import BodyMode, reasons
from stream_doubles import FakeHost, FakeHTTPWriter, FakeLink, FakePool

SSE_HEADERS = [[b"content-type", b"text/event-stream"], [b"cache-control", b"no-cache"]]


def run(main: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(main(), 5))


def streaming(
    *,
    mode: BodyMode = BodyMode.NONE,
    headers: list[tuple[bytes, bytes]] | None = None,
    **config: object,
) -> tuple[HTTPStream, FakeHTTPWriter, FakeHost, FakeLink]:
    """An sse stream whose response is streaming from worker w1."""
    link = FakeLink("w1", request_window=1000)
    host = FakeHost(FakePool(link), **config)
    writer = FakeHTTPWriter()
    stream = HTTPStream(host, writer, "GET", b"/events", "1.1", True, host.loop.time())
    stream.start(b"/events", b"", headers or [(b"host", b"h")], mode)
    if mode != BodyMode.NONE:
        stream.send_body(b"q=1", False)
    stream.on_response(200, SSE_HEADERS, False, b"id: 1\ndata: one\n\n", True)
    assert stream.phase == SENDING
    return stream, writer, host, link


def opened(link: FakeLink) -> tuple[Any, ...]:
    [opening] = [sent for sent in link.sent if sent[0] == "open"]
    return opening


def resume_ext(opening: tuple[Any, ...]) -> dict[str, Any]:
    extras: dict[str, Any] = opening[-2]
    return extras["extensions"]["pagi.resume"]


def test_the_first_scope_advertises_the_extension() -> None:
    async def main() -> None:
        _stream, _writer, _host, link = streaming(headers=[(b"last-event-id", b"7")])
        assert resume_ext(opened(link)) == {"attempt": 0, "last_event_id": "7"}

    run(main)


def test_a_drain_between_events_moves_the_stream_in_the_next_iteration() -> None:
    async def main() -> None:
        stream, writer, host, old = streaming(headers=[(b"host", b"h"), (b"last-event-id", b"0")])
        new = host.ctx.pool.link = FakeLink("w2", request_window=1000)
        stream.on_worker_draining()
        assert stream.link is old  # the other workers of a reload drain first
        await asyncio.sleep(0)
        assert old.sent[-1] == ("close", reasons.SERVER_SHUTDOWN)
        assert stream.link is new and stream.worker == "w2"
        opening = opened(new)
        assert opening[1] == "sse" and opening[-1] == BodyMode.NONE
        assert opening[7] == [[b"host", b"h"], [b"last-event-id", b"1"]]
        assert resume_ext(opening) == {"attempt": 1, "last_event_id": "1", "reason": "drain"}
        # the new scope's matching start is swallowed; its events continue the body
        stream.on_response(200, SSE_HEADERS, False, b"id: 2\ndata: two\n\n", True)
        responds = [call for call in writer.calls if call[0] == "respond"]
        assert len(responds) == 1
        assert writer.calls[-1] == ("data", b"id: 2\ndata: two\n\n", False)
        assert new.sent[-1] == ("grant", 17)

    run(main)


def test_a_drain_mid_event_moves_at_the_next_boundary() -> None:
    async def main() -> None:
        stream, _writer, host, old = streaming()
        new = host.ctx.pool.link = FakeLink("w2")
        stream.on_response_body(b"id: 2\ndata: tw", True)
        stream.on_worker_draining()
        await asyncio.sleep(0)
        assert stream.link is old and not new.sent
        stream.on_response_body(b"o\n\n", True)
        assert old.sent[-1] == ("close", reasons.SERVER_SHUTDOWN)
        assert resume_ext(opened(new))["last_event_id"] == "2"

    run(main)


def test_a_dead_worker_between_events_is_replaced() -> None:
    async def main() -> None:
        stream, writer, host, old = streaming()
        new = host.ctx.pool.link = FakeLink("w2")
        stream.on_worker_lost()
        assert ("close", reasons.SERVER_SHUTDOWN) not in old.sent
        assert resume_ext(opened(new)) == {
            "attempt": 1,
            "last_event_id": "1",
            "reason": "worker_lost",
        }
        assert ("abort",) not in writer.calls and not stream.done

    run(main)


def test_a_dead_worker_mid_event_cuts_the_stream() -> None:
    async def main() -> None:
        stream, writer, host, _old = streaming()
        new = host.ctx.pool.link = FakeLink("w2")
        stream.on_response_body(b"data: half", True)
        stream.on_worker_lost()
        assert not new.sent and writer.calls[-1] == ("abort",) and stream.phase == DONE

    run(main)


def test_a_differing_start_ends_the_stream() -> None:
    async def main() -> None:
        stream, writer, host, _old = streaming()
        new = host.ctx.pool.link = FakeLink("w2")
        stream.on_worker_draining()
        await asyncio.sleep(0)
        stream.on_response_start(503, [[b"content-type", b"text/plain"]], False)
        assert writer.calls[-1] == ("abort",) and stream.done
        assert new.sent[-1] == ("close", reasons.SERVER_ERROR)

    run(main)


def test_the_apps_refusal_keeps_the_stream_on_its_worker() -> None:
    async def main() -> None:
        stream, _writer, host, old = streaming()
        new = host.ctx.pool.link = FakeLink("w2")
        stream.on_sse_no_resume()
        stream.on_worker_draining()
        await asyncio.sleep(0)
        assert stream.link is old and not new.sent

    run(main)


def test_no_sse_resume_turns_it_off() -> None:
    async def main() -> None:
        stream, writer, host, old = streaming(sse_resume=False)
        assert "extensions" not in opened(old)[-2]
        new = host.ctx.pool.link = FakeLink("w2")
        stream.on_worker_draining()
        await asyncio.sleep(0)
        stream.on_worker_lost()
        assert not new.sent and writer.calls[-1] == ("abort",)

    run(main)


def test_the_request_body_is_replayed() -> None:
    async def main() -> None:
        stream, _writer, host, _old = streaming(mode=BodyMode.STREAM)
        new = host.ctx.pool.link = FakeLink("w2", request_window=1000)
        stream.on_worker_draining()
        await asyncio.sleep(0)
        assert opened(new)[-1] == BodyMode.STREAM
        assert new.sent[-1] == ("body", b"q=1", False)
        assert stream.window == 1000 - 3

    run(main)


def test_a_worker_found_later_takes_the_stream_and_none_cuts_it() -> None:
    async def main() -> None:
        stream, writer, host, _old = streaming(worker_wait_timeout=0.05)
        host.ctx.pool.link = None
        late = host.ctx.pool.later = FakeLink("w3")
        stream.on_worker_lost()
        assert stream.waiter is not None
        await asyncio.sleep(0.02)
        assert stream.link is late and resume_ext(opened(late))["attempt"] == 1
        host.ctx.pool.later = None
        stream.on_worker_lost()  # the re-opened scope died before its start: one failure
        await asyncio.sleep(0.02)
        assert writer.calls[-1] == ("abort",) and stream.done

    run(main)
