"""pagi's HTTP/2 engine: the stream-state and flow-control rules an h2 client cannot provoke."""

from __future__ import annotations

import struct

import h2.config
import h2.connection
import h2.events
from h2.errors import ErrorCodes as E
from h2_client import header_block
from h2_frames import PREFACE, goaway_of, parse_frames, raw_frame
from h2_recorder import Recorder
from hyperframe.frame import (
    ContinuationFrame,
    HeadersFrame,
    PingFrame,
    RstStreamFrame,
    WindowUpdateFrame,
)
from pagi.frontend.http2.core import H2Core
from pagi.frontend.http2.limits import H2Limits

GET = [(":method", "GET"), (":scheme", "http"), (":path", "/"), (":authority", "x")]
POST = [(":method", "POST"), *GET[1:]]
START = PREFACE + raw_frame(0x4, 0, 0)


def new_core(limits: H2Limits | None = None) -> tuple[H2Core, Recorder]:
    listener = Recorder()
    core = H2Core(limits or H2Limits(), lambda: 0.0, listener)
    core.outbound()
    return core, listener


def headers(sid: int, fields: list[tuple[str, str]], flags: int = 0x5) -> bytes:
    return raw_frame(0x1, flags, sid, header_block(fields))  # type: ignore[arg-type]


def test_a_frame_on_a_stream_both_sides_ended_is_a_connection_error() -> None:
    core, _ = new_core()
    core.receive(START + headers(1, GET))
    core.out.send_headers(1, [(b":status", b"204")], end_stream=True)
    assert not core.engine.streams
    core.outbound()
    core.receive(raw_frame(0x0, 0x1, 1, b"late"))
    assert core.error is not None and core.error[0] == E.STREAM_CLOSED
    goaway = goaway_of(core.outbound())
    assert goaway is not None and goaway.last_stream_id == 1


def test_frames_on_a_stream_we_reset_are_ignored_but_counted() -> None:
    core, listener = new_core()
    core.receive(START + headers(1, POST, 0x4))
    core.out.reset_stream(1, E.CANCEL)
    core.outbound()
    window = core.out.recv_window
    core.receive(
        raw_frame(0x0, 0, 1, b"x" * 1000) + raw_frame(0x1, 0x5, 1, header_block([("x-t", "1")]))
    )  # type: ignore[list-item]
    assert core.error is None and listener.of("data") == [] and listener.of("trailers") == []
    assert core.out.recv_window == window - 1000  # counted against the connection window
    assert not [f for f in parse_frames(core.outbound()) if isinstance(f, RstStreamFrame)]
    core.receive(headers(3, GET))  # HPACK stayed in step
    assert 3 in listener.requests


def test_a_frame_after_the_clients_reset_is_stream_closed() -> None:
    core, listener = new_core()
    core.receive(START + headers(1, POST, 0x4) + raw_frame(0x3, 0, 1, struct.pack(">I", 8)))
    assert listener.resets == {1: E.CANCEL}
    core.outbound()
    core.receive(raw_frame(0x0, 0, 1, b"late"))
    frames = parse_frames(core.outbound())
    assert [(f.stream_id, f.error_code) for f in frames if isinstance(f, RstStreamFrame)] == [
        (1, E.STREAM_CLOSED)
    ]
    assert core.error is None


def test_content_length_must_match_the_data() -> None:
    core, listener = new_core()
    core.receive(START + headers(1, POST, 0x4))
    core.out.expect_length(1, 3)
    core.receive(raw_frame(0x0, 0, 1, b"12") + raw_frame(0x0, 0x1, 1, b"345"))
    assert listener.resets == {1: E.PROTOCOL_ERROR}
    assert bytes(listener.requests[1].body) == b"12"  # what came before the violation
    core.receive(headers(3, POST, 0x4))
    core.out.expect_length(3, 3)
    core.receive(raw_frame(0x0, 0x1, 3, b"123"))
    assert listener.requests[3].ended and 3 not in listener.resets


def test_a_window_may_go_negative_after_a_settings_change() -> None:
    core, listener = new_core()
    core.receive(START + raw_frame(0x4, 0, 0, struct.pack(">HI", 0x4, 3)) + headers(1, GET))
    core.out.send_headers(1, [(b":status", b"200")])
    core.out.send_data(1, b"abc")
    assert core.send_window(1) == 0
    core.receive(raw_frame(0x4, 0, 0, struct.pack(">HI", 0x4, 0)))
    assert core.engine.streams[1].send_window == -3 and core.send_window(1) == -3
    core.receive(raw_frame(0x8, 0, 1, struct.pack(">I", 5)))
    assert core.send_window(1) == 2
    assert ("window", 1) in listener.calls and ("window", 0) in listener.calls


def test_a_read_that_fails_answers_nothing_but_the_goaway() -> None:
    core, _ = new_core()
    core.receive(START + raw_frame(0x6, 0, 0, b"12345678") + headers(2, GET))
    frames = parse_frames(core.outbound())
    assert not [f for f in frames if isinstance(f, PingFrame)]
    goaway = goaway_of(b"".join(f.serialize() for f in frames))
    assert goaway is not None and goaway.error_code == E.PROTOCOL_ERROR
    core.receive(raw_frame(0x6, 0, 0, b"12345678"))
    assert core.outbound() == b""


def test_settings_must_follow_the_preface() -> None:
    core, listener = new_core()
    core.receive(PREFACE + headers(1, GET))
    assert core.error is not None and core.error[0] == E.PROTOCOL_ERROR
    assert listener.calls == []


def test_large_header_blocks_go_out_in_continuation_frames() -> None:
    core, _ = new_core()
    core.receive(START + headers(1, GET))
    core.outbound()  # the SETTINGS ACK
    big = [(b":status", b"200"), *[(b"x-%d" % i, b"v" * 1000) for i in range(40)]]
    core.out.send_headers(1, big, end_stream=True)
    frames = parse_frames(core.outbound())
    kinds = [type(f) for f in frames]
    assert kinds[0] is HeadersFrame and kinds.count(ContinuationFrame) >= 2
    assert all(len(f.serialize()) - 9 <= 16384 for f in frames)
    client = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    client.initiate_connection()
    client.send_headers(1, GET, end_stream=True)
    events = client.receive_data(b"".join(f.serialize() for f in frames))
    response = next(e for e in events if isinstance(e, h2.events.ResponseReceived))
    assert len(response.headers) == 41


def test_consumed_bytes_reopen_both_windows_at_half() -> None:
    core, _ = new_core(H2Limits(stream_window=1000, connection_window=100_000))
    core.receive(START + headers(1, POST, 0x4) + raw_frame(0x0, 0, 1, b"x" * 600))
    core.outbound()  # the SETTINGS ACK
    core.consumed(1, 400)
    assert not parse_frames(core.outbound())  # below half the stream window
    core.consumed(1, 200)
    updates = [f for f in parse_frames(core.outbound()) if isinstance(f, WindowUpdateFrame)]
    assert [(f.stream_id, f.window_increment) for f in updates] == [(1, 600)]
    core.receive(raw_frame(0x0, 0, 1, b"x" * 1001))  # beyond the reopened window
    frames = parse_frames(core.outbound())
    assert [(f.stream_id, f.error_code) for f in frames if isinstance(f, RstStreamFrame)] == [
        (1, E.FLOW_CONTROL_ERROR)
    ]
