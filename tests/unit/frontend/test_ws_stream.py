"""WSStream against a fake writer, host and link: the WebSocket scope without sockets.

Client frames are built by hand (masked, as RFC 6455 requires of clients);
what the stream writes back is decoded with wsproto's frame decoder.
"""

from __future__ import annotations

import asyncio
import logging
import os
import struct
from collections.abc import Awaitable, Callable

import pytest
from pagi.frontend.streams.ws_ending import DENIED
from pagi.frontend.streams.ws_phase import CLOSING, DONE, FAILING, HANDSHAKE, OPEN
from pagi.frontend.streams.ws_stream import WSStream
from pagi.protocol import BodyMode, reasons
from pagi.protocol.kinds import RAISED, RETURNED
from stream_doubles import FakeHost, FakeLink, FakePool, FakeWSWriter


def run(main: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(main(), 5))


def client_frame(opcode: int, payload: bytes, fin: bool = True) -> bytes:
    mask = os.urandom(4)
    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([0x80 | n])
    else:
        head += bytes([0x80 | 126]) + struct.pack("!H", n)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def make(
    link: FakeLink | None = None, **config: object
) -> tuple[WSStream, FakeWSWriter, FakeLink | None]:
    host = FakeHost(FakePool(link), ws_per_message_deflate=False, **config)
    writer = FakeWSWriter()
    stream = WSStream(host, writer, b"/chat?room=1", "1.1", host.loop.time())
    stream.start(b"/chat", b"room=1", [(b"host", b"h")], ["chat"], [])
    return stream, writer, link


def sent_frames(writer: FakeWSWriter) -> list[bytes]:
    return [call[1] for call in writer.calls if call[0] == "send"]


def test_opens_a_websocket_scope_with_ws_scheme_and_subprotocols() -> None:
    async def main() -> None:
        link = FakeLink()
        stream, _writer, _ = make(link)
        assert stream.phase == HANDSHAKE and link.handler is stream
        kind, scope_type, version, method, scheme, raw_path, query, *rest = link.sent[0]
        assert (kind, scope_type, version, method, scheme) == (
            "open",
            "websocket",
            "1.1",
            "GET",
            "ws",
        )
        assert (raw_path, query) == (b"/chat", b"room=1")
        resume = {"pagi.resume": {"attempt": 0, "state": None}}
        assert rest[-2:] == [{"subprotocols": ["chat"], "extensions": resume}, BodyMode.NONE]

    run(main)


def test_accept_then_messages_both_ways_within_the_window() -> None:
    async def main() -> None:
        link = FakeLink(request_window=5)
        stream, writer, _ = make(link)
        stream.receive(client_frame(0x1, b"early"))  # before the accept: kept
        assert not [s for s in link.sent if s[0] == "receive"]
        stream.on_ws_accept("chat", [])
        assert stream.phase == OPEN and ("accept", "chat", None) in writer.calls
        assert ("receive", "early", False) in link.sent
        stream.receive(client_frame(0x1, b"more text"))  # over the window: input pauses
        assert writer.input_paused
        stream.on_request_credit(20)
        assert ("receive", "more text", False) in link.sent and not writer.input_paused
        stream.on_ws_send(b"\x00\x01", False)
        assert sent_frames(writer)[-1] == b"\x82\x02\x00\x01"
        assert link.sent[-1] == ("grant", 2)

    run(main)


def test_credit_is_withheld_while_the_writer_is_paused() -> None:
    async def main() -> None:
        link = FakeLink()
        stream, writer, _ = make(link)
        stream.on_ws_accept(None, [])
        writer.paused = True
        stream.on_ws_send("abc", False)
        assert ("grant", 3) not in link.sent
        writer.paused = False
        stream.on_writable()
        assert link.sent[-1] == ("grant", 3)

    run(main)


def test_the_clients_close_is_answered_and_the_app_told_once() -> None:
    async def main() -> None:
        link = FakeLink()
        stream, writer, _ = make(link)
        stream.on_ws_accept(None, [])
        stream.receive(client_frame(0x8, struct.pack("!H", 1000) + b"bye"))
        assert sent_frames(writer)[-1] == b"\x88\x02\x03\xe8"
        assert writer.calls[-1] == ("close",) and stream.done
        stream.client_gone()
        assert [s for s in link.sent if s[0] == "disconnect"] == [("disconnect", 1000, "bye")]

    run(main)


def test_app_close_starts_the_closing_handshake() -> None:
    async def main() -> None:
        link = FakeLink()
        stream, writer, _ = make(link)
        stream.on_ws_accept(None, [])
        stream.on_ws_close(1001, "going")
        assert stream.channel is not None and stream.channel.state == CLOSING
        assert sent_frames(writer)[-1][:4] == b"\x88\x07\x03\xe9"
        stream.receive(client_frame(0x8, struct.pack("!H", 1001)))
        assert stream.done and writer.calls[-1] == ("close",)
        assert link.sent[-1] == ("disconnect", 1001, "")

    run(main)


def test_a_close_before_accept_is_a_403(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        link = FakeLink()
        stream, writer, _ = make(link)
        stream.on_ws_close(1000, "")
        assert writer.calls[-2:] == [
            ("reply", 403, "the application refused the WebSocket", ()),
            ("end",),
        ]
        assert link.sent[-1] == ("disconnect", 1006, DENIED) and stream.phase == DONE

    run(main)


def test_the_apps_denial_is_its_http_response() -> None:
    async def main() -> None:
        link = FakeLink()
        stream, writer, _ = make(link)
        stream.on_response_start(401, [[b"content-type", b"text/plain"]], False)
        stream.on_response_body(b"no", False)
        assert ("respond", 401, 2, True) in writer.calls
        assert writer.calls[-2:] == [("data", b"no", True), ("end",)]
        assert link.sent[-1] == ("disconnect", 1006, DENIED) and stream.phase == DONE

    run(main)


@pytest.mark.parametrize(
    ("lost", "status"), [(False, 500), (True, 502)], ids=["end", "worker-lost"]
)
def test_a_scope_that_ends_during_the_handshake_gets_500_or_502(lost: bool, status: int) -> None:
    async def main() -> None:
        stream, writer, _ = make(FakeLink())
        if lost:
            stream.on_worker_lost()
        else:
            stream.on_end(RETURNED, False, "")
        assert writer.calls[-2][:2] == ("reply", status) and writer.calls[-1] == ("end",)
        assert stream.link is None

    run(main)


@pytest.mark.parametrize(
    ("outcome", "draining", "code"),
    [(RETURNED, False, 1000), (RAISED, False, 1011), (RAISED, True, 1012)],
)
def test_end_while_open_closes_with_the_right_code(outcome: int, draining: bool, code: int) -> None:
    async def main() -> None:
        link = FakeLink()
        stream, writer, _ = make(link)
        stream.on_ws_accept(None, [])
        link.draining = draining
        stream.on_end(outcome, True, "")
        assert stream.channel is not None and stream.channel.state == CLOSING
        reason = b"service restart" if code == 1012 else b""
        payload = struct.pack("!H", code) + reason
        assert sent_frames(writer)[-1] == b"\x88" + bytes([len(payload)]) + payload

    run(main)


def test_a_protocol_violation_fails_after_the_app_consumed_what_preceded_it() -> None:
    async def main() -> None:
        link = FakeLink(request_window=100)
        stream, writer, _ = make(link, ws_close_timeout=1.0)
        stream.on_ws_accept(None, [])
        stream.receive(client_frame(0x1, b"ok") + bytes([0x81, 0x02, 0x61, 0x62]))  # unmasked
        assert stream.channel is not None and stream.channel.state == FAILING
        assert stream.channel.failing and writer.input_paused
        assert ("receive", "ok", False) in link.sent and ("return_credit",) in link.sent
        stream.on_request_credit(2)  # the app consumed "ok"
        await asyncio.sleep(0.1)  # FAIL_GRACE
        assert stream.channel.state == CLOSING
        assert sent_frames(writer)[-1][:4] == b"\x88\x02\x03\xea"
        assert ("half_close",) in writer.calls
        assert link.sent[-1][:2] == ("disconnect", 1002)

    run(main)


def test_shutdown_closes_1001_and_tells_the_app_server_shutdown() -> None:
    async def main() -> None:
        link = FakeLink()
        stream, writer, _ = make(link)
        stream.on_ws_accept(None, [])
        stream.shutdown()
        assert sent_frames(writer)[-1][:4] == b"\x88\x02\x03\xe9"
        assert link.sent[-1] == ("disconnect", 1006, reasons.SERVER_SHUTDOWN)

    run(main)


def test_no_worker_in_time_is_a_503(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        stream, writer, _ = make(None, worker_wait_timeout=0.01)
        await asyncio.sleep(0.01)
        assert writer.calls[-2][:2] == ("reply", 503) and stream.phase == DONE

    caplog.set_level(logging.WARNING, "pagi.front")
    run(main)
    assert "503: no worker ready within 0.01s for WebSocket /chat?room=1" in caplog.text
