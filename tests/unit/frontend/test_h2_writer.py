"""H2Writer against a real H2Core and an h2 client, with a fake connection and streams."""

from __future__ import annotations

from typing import Any

import h2.config
import h2.connection
import h2.events
from h2.errors import ErrorCodes
from h2_recorder import Recorder
from pagi.frontend.config import FrontConfig
from pagi.frontend.http2.core import H2Core
from pagi.frontend.http2.limits import H2Limits
from pagi.frontend.http2.writer import H2Writer

REQUEST = [(":method", "POST"), (":scheme", "http"), (":path", "/"), (":authority", "x")]


class FakeHost:
    """The HTTP/2 connection as a writer sees it."""

    def __init__(self) -> None:
        self.core = H2Core(H2Limits(), lambda: 0.0, Recorder())
        self.config = FrontConfig()
        self.closing = False
        self.write_paused = False
        self.flushes = 0

    def flushed(self, writer: H2Writer) -> None:
        self.flushes += 1


class FakeHTTP:
    """An HTTP stream's request side."""

    def __init__(self, window: int) -> None:
        self.window = window
        self.request_done = False
        self.pieces: list[tuple[bytes, bool]] = []

    def waiting(self) -> bool:
        return False

    def send_body(self, body: bytes, more: bool) -> None:
        self.pieces.append((body, more))
        self.window -= len(body)
        self.request_done = not more


def setup(window: int = 65535) -> tuple[FakeHost, h2.connection.H2Connection, H2Writer]:
    host = FakeHost()
    client = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    client.initiate_connection()
    if window != 65535:
        client.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: window})
    client.receive_data(host.core.outbound())
    host.core.receive(client.data_to_send())
    client.send_headers(1, REQUEST)
    host.core.receive(client.data_to_send())
    client.receive_data(host.core.outbound())  # the SETTINGS ACK
    writer = H2Writer(host, 1, is_head=False, input_ended=False)  # type: ignore[arg-type]
    return host, client, writer


def events(host: FakeHost, client: h2.connection.H2Connection) -> list[Any]:
    return client.receive_data(host.core.outbound())


def test_head_and_body_leave_together_and_end_the_stream() -> None:
    host, client, writer = setup()
    assert writer.respond(200, [[b"content-type", b"text/plain"]], False, None, False) is None
    assert events(host, client) == []  # the head waits for the body
    assert writer.data(b"hello", True) == 5
    got = events(host, client)
    response = next(e for e in got if isinstance(e, h2.events.ResponseReceived))
    assert (b":status", b"200") in response.headers
    assert any(isinstance(e, h2.events.StreamEnded) for e in got)
    assert not writer.paused
    writer.end()
    assert writer.finished


def test_paused_while_the_window_is_shut() -> None:
    host, client, writer = setup(window=10)
    writer.respond(200, [], False, None, False)
    writer.data(b"x" * 25, False)
    assert writer.paused and writer.buffered() == 15
    got = events(host, client)
    assert sum(len(e.data) for e in got if isinstance(e, h2.events.DataReceived)) == 10
    client.increment_flow_control_window(100, stream_id=1)
    host.core.receive(client.data_to_send())
    writer.push()
    assert not writer.paused and writer.buffered() == 0


def test_trailers_and_front_reply() -> None:
    host, client, writer = setup()
    writer.respond(200, [[b"trailer", b"x-sum"]], True, None, False)
    writer.data(b"abc", True)
    writer.trailers([[b"x-sum", b"1"], [b"connection", b"close"]])
    got = events(host, client)
    trailers = next(e for e in got if isinstance(e, h2.events.TrailersReceived))
    assert trailers.headers == [(b"x-sum", b"1")]  # connection-specific fields dropped
    host2, client2, writer2 = setup()
    assert writer2.reply(503, "busy", ((b"retry-after", b"1"),)) == len(
        b"503 Service Unavailable: busy\n"
    )
    got = events(host2, client2)
    response = next(e for e in got if isinstance(e, h2.events.ResponseReceived))
    assert (b"retry-after", b"1") in response.headers


def test_request_body_within_the_stream_window_only() -> None:
    _host, _client, writer = setup()
    stream = FakeHTTP(window=4)
    writer.http = stream  # type: ignore[assignment]
    writer.receive(b"0123456789")
    assert stream.pieces == [(b"0123", True)]
    stream.window = 100
    writer.input_end()
    assert stream.pieces[-1] == (b"456789", False)
    assert stream.request_done


def test_websocket_accept_and_half_close() -> None:
    host, client, writer = setup()
    writer.accept("chat", b"permessage-deflate", [[b"x-app", b"1"], [b"upgrade", b"no"]])
    got = events(host, client)
    response = next(e for e in got if isinstance(e, h2.events.ResponseReceived))
    headers = dict(response.headers)
    assert headers[b":status"] == b"200"
    assert headers[b"sec-websocket-protocol"] == b"chat"
    assert headers[b"sec-websocket-extensions"] == b"permessage-deflate"
    assert headers[b"x-app"] == b"1" and b"upgrade" not in headers
    writer.send(b"\x81\x02hi")
    assert writer.half_close()
    got = events(host, client)
    assert b"".join(e.data for e in got if isinstance(e, h2.events.DataReceived)) == b"\x81\x02hi"
    assert any(isinstance(e, h2.events.StreamEnded) for e in got)


def test_abort_resets_the_stream() -> None:
    host, client, writer = setup()
    writer.respond(200, [], False, None, False)
    writer.data(b"partial", False)
    writer.abort()
    got = events(host, client)
    reset = next(e for e in got if isinstance(e, h2.events.StreamReset))
    assert reset.error_code == ErrorCodes.INTERNAL_ERROR
    assert writer.finished and writer.blocked()
