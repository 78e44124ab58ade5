"""Moving an open WebSocket to another worker, against fakes (frontend/streams/ws_move.py).

tests/integration/test_ws_move.py does the same through real reloads; these
pin down the order of the steps.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Awaitable, Callable
from typing import Any

from pagi.frontend.streams.ws_move import HANDING, IDLE, OPENING
from pagi.frontend.streams.ws_phase import OPEN
from pagi.frontend.streams.ws_stream import WSStream
from stream_doubles import FakeHost, FakeLink, FakePool, FakeWSWriter


def run(main: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(main(), 5))


def client_text(text: bytes) -> bytes:
    """A masked client text frame (mask of zeros: the payload as is)."""
    return b"\x81" + bytes([0x80 | len(text)]) + b"\0\0\0\0" + text


def movable(**config: Any) -> tuple[WSStream, FakeWSWriter, FakeHost, FakeLink]:
    old = FakeLink("w1", request_window=100)
    host = FakeHost(FakePool(old), ws_per_message_deflate=False, **config)
    writer = FakeWSWriter()
    stream = WSStream(host, writer, b"/chat", "1.1", host.loop.time())
    stream.start(b"/chat", b"", [(b"host", b"h")], [], [])
    stream.on_ws_accept(None, [])
    stream.on_ws_resumable()
    stream.on_ws_resume_state(b"n=3")
    return stream, writer, host, old


def received(link: FakeLink) -> list[Any]:
    return [sent[1] for sent in link.sent if sent[0] == "receive"]


def test_a_move_holds_the_client_hands_over_and_reopens_with_the_state() -> None:
    async def main() -> None:
        stream, _writer, host, old = movable()
        stream.receive(client_text(b"a"))
        assert received(old) == ["a"]
        new = host.ctx.pool.link = FakeLink("w2", request_window=100)
        stream.on_worker_draining()
        assert stream.move is not None and stream.move.phase == HANDING
        assert old.sent[-1] == ("move",)
        stream.receive(client_text(b"b"))  # held
        stream.on_request_credit(1)  # the old scope's credit: ignored
        assert received(old) == ["a"] and not new.sent
        stream.on_ws_send("reply to a", False)  # the old app's sends still go out
        stream.on_end(0, True, "")
        opening = new.sent[0]
        assert opening[0] == "open"
        ext = opening[-2]["extensions"]["pagi.resume"]
        assert ext == {"attempt": 1, "state": b"n=3", "reason": "drain"}
        assert stream.move.phase == OPENING and not received(new)
        stream.on_ws_accept(None, [])  # swallowed
        assert stream.move.phase == IDLE and received(new) == ["b"]
        assert stream.channel is not None and stream.channel.state == OPEN

    run(main)


def test_a_move_waits_for_the_end_of_a_message_half_forwarded() -> None:
    async def main() -> None:
        stream, _writer, _host, old = movable()
        stream.receive(b"\x01\x81\0\0\0\0x")  # the first fragment of a text message
        stream.on_worker_draining()
        assert stream.move is not None and stream.move.phase == IDLE
        stream.receive(b"\x80\x81\0\0\0\0y")  # its last fragment
        await asyncio.sleep(0.05)
        assert stream.move.phase == HANDING and old.sent[-1] == ("move",)

    run(main)


def test_a_new_app_that_does_not_accept_in_time_closes_1011() -> None:
    async def main() -> None:
        stream, writer, host, _old = movable(ws_handshake_timeout=0.02)
        new = host.ctx.pool.link = FakeLink("w2")
        stream.on_worker_draining()
        stream.on_end(0, True, "")
        await asyncio.sleep(0.05)
        close = [frame for frame in writer.calls if frame[0] == "send"][-1][1]
        assert close[:4] == b"\x88\x02" + struct.pack("!H", 1011)
        assert new.sent[-1][0] == "disconnect"

    run(main)


def test_no_worker_for_the_move_closes_1012() -> None:
    async def main() -> None:
        stream, writer, host, _old = movable(worker_wait_timeout=0.02)
        host.ctx.pool.link = None
        stream.on_worker_draining()
        stream.on_end(0, True, "")
        await asyncio.sleep(0.05)
        close = [frame for frame in writer.calls if frame[0] == "send"][-1][1]
        assert close[2:4] == struct.pack("!H", 1012)

    run(main)
