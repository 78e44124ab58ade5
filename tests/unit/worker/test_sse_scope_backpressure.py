"""The sse scope writes whole events, in order, under the link's flow control (in-process)."""

from __future__ import annotations

import asyncio

import pytest
from pagi.worker.http_events import UnexpectedEvent
from sse_scope_doubles import make, sse_send
from worker_doubles import run

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
