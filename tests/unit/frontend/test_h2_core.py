"""pagi's HTTP/2 engine against an h2 client and raw frames: settings, flow control, caps."""

from __future__ import annotations

import h2.config
import h2.connection
from h2.errors import ErrorCodes
from h2.settings import SettingCodes
from h2_frames import PREFACE, goaway_of, parse_frames, raw_frame
from h2_recorder import Recorder
from hyperframe.frame import RstStreamFrame, SettingsFrame, WindowUpdateFrame
from pagi.frontend.http2.core import H2Core
from pagi.frontend.http2.limits import H2Limits

REQUEST = [(":method", "GET"), (":scheme", "https"), (":path", "/"), (":authority", "x")]


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def new_core(limits: H2Limits | None = None, clock: Clock | None = None) -> H2Core:
    return H2Core(limits or H2Limits(), clock or Clock(), Recorder())


def recorder(core: H2Core) -> Recorder:
    listener = core.engine.listener
    assert isinstance(listener, Recorder)
    return listener


def pair(limits: H2Limits | None = None) -> tuple[H2Core, h2.connection.H2Connection, Clock]:
    clock = Clock()
    core = new_core(limits, clock)
    client = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    client.initiate_connection()
    client.receive_data(core.outbound())
    core.receive(client.data_to_send())
    client.receive_data(core.outbound())  # SETTINGS ACK
    return core, client, clock


def test_server_preface_advertises_the_limits() -> None:
    core = new_core(H2Limits(max_concurrent_streams=7))
    frames = parse_frames(core.outbound())
    settings = frames[0]
    assert isinstance(settings, SettingsFrame)
    assert settings.settings[SettingCodes.MAX_CONCURRENT_STREAMS] == 7
    assert settings.settings[SettingCodes.ENABLE_CONNECT_PROTOCOL] == 1
    assert settings.settings[SettingCodes.MAX_HEADER_LIST_SIZE] == 64 * 1024
    assert settings.settings[SettingCodes.ENABLE_PUSH] == 0
    update = frames[1]
    assert isinstance(update, WindowUpdateFrame) and update.stream_id == 0
    assert update.window_increment == 1024 * 1024 - 65535


def test_bad_preface_is_goaway_protocol_error() -> None:
    core = new_core()
    core.outbound()
    core.receive(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
    assert core.error is not None and core.error[0] == ErrorCodes.PROTOCOL_ERROR
    goaway = goaway_of(core.outbound())
    assert goaway is not None and goaway.error_code == ErrorCodes.PROTOCOL_ERROR
    core.receive(PREFACE + raw_frame(0x4, 0, 0))  # nothing more is read
    assert recorder(core).calls == [] and core.outbound() == b""


def test_request_and_withheld_window() -> None:
    core, client, _ = pair()
    client.send_headers(1, [(":method", "POST"), *REQUEST[1:]])
    client.send_data(1, b"x" * 1000)
    core.receive(client.data_to_send())
    request = recorder(core).requests[1]
    assert dict(request.fields)[b":method"] == b"POST"
    assert bytes(request.body) == b"x" * 1000 and not request.ended
    assert not [f for f in parse_frames(core.outbound()) if isinstance(f, WindowUpdateFrame)]
    # The stream layer forwards the bytes: the windows open again.
    core.consumed(1, 40 * 1024)
    updates = [f for f in parse_frames(core.outbound()) if isinstance(f, WindowUpdateFrame)]
    assert 1 in {f.stream_id for f in updates}


def test_too_many_streams_is_refused() -> None:
    core = new_core(H2Limits(max_concurrent_streams=2))
    core.outbound()
    client = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    client.initiate_connection()  # never told the server's limit
    for sid in (1, 3, 5):
        client.send_headers(sid, REQUEST)
    client.send_headers(7, [*REQUEST, ("x-after", "hpack still in step")])
    core.receive(client.data_to_send())
    assert core.error is None
    assert list(recorder(core).requests) == [1, 3]
    frames = parse_frames(core.outbound())
    refused = [f.stream_id for f in frames if isinstance(f, RstStreamFrame)]
    assert refused == [5, 7]
    assert all(
        f.error_code == ErrorCodes.REFUSED_STREAM for f in frames if isinstance(f, RstStreamFrame)
    )
    # A stream closes: the next one is accepted, its headers decoded correctly.
    client.send_headers(9, [*REQUEST, ("x-late", "1")])
    core.out.reset_stream(1, ErrorCodes.CANCEL)
    core.receive(client.data_to_send())
    assert (b"x-late", b"1") in recorder(core).requests[9].fields


def test_rapid_reset_gets_enhance_your_calm() -> None:
    core, client, clock = pair(H2Limits(max_resets=10))
    sid = 1
    for _ in range(10):
        client.send_headers(sid, REQUEST)
        client.reset_stream(sid)
        sid += 2
    core.receive(client.data_to_send())
    assert core.error is None
    clock.now += 11  # a new window: the count restarts
    for _ in range(11):
        client.send_headers(sid, REQUEST)
        client.reset_stream(sid)
        sid += 2
    core.receive(client.data_to_send())
    assert core.error is not None and core.error[0] == ErrorCodes.ENHANCE_YOUR_CALM
    assert len(recorder(core).of("reset")) == 20  # the 21st crossed the cap
    goaway = goaway_of(core.outbound())
    assert goaway is not None and goaway.error_code == ErrorCodes.ENHANCE_YOUR_CALM
    assert goaway.last_stream_id == sid - 2


def test_settings_ping_and_empty_data_floods() -> None:
    core, client, _ = pair(H2Limits(max_settings=5))
    for _ in range(6):
        client.update_settings({SettingCodes.HEADER_TABLE_SIZE: 4096})
    core.receive(client.data_to_send())
    assert core.error == (ErrorCodes.ENHANCE_YOUR_CALM, "SETTINGS flood")

    core, client, _ = pair(H2Limits(max_pings=5))
    for i in range(6):
        client.ping(bytes([i]) * 8)
    core.receive(client.data_to_send())
    assert core.error == (ErrorCodes.ENHANCE_YOUR_CALM, "PING flood")

    core, client, _ = pair(H2Limits(max_empty_data=5))
    client.send_headers(1, [(":method", "POST"), *REQUEST[1:]])
    data = client.data_to_send() + raw_frame(0x0, 0, 1) * 6
    core.receive(data)
    assert core.error == (ErrorCodes.ENHANCE_YOUR_CALM, "empty DATA frame flood")


def test_continuation_flood_is_protocol_error() -> None:
    core, client, _ = pair()
    client.send_headers(1, REQUEST, end_stream=True)
    block = client.data_to_send()
    headers_payload = block[9:]
    data = raw_frame(0x1, 0x1, 3, headers_payload[:1])  # HEADERS, END_STREAM, no END_HEADERS
    data += raw_frame(0x9, 0, 3, b"") * 70  # CONTINUATION without end
    core.receive(data)
    assert core.error is not None and core.error[0] == ErrorCodes.PROTOCOL_ERROR


def test_oversized_header_list() -> None:
    core, client, _ = pair(H2Limits(max_header_list_size=1024))
    client.send_headers(1, [*REQUEST, ("x-big", "y" * 2000)])
    core.receive(client.data_to_send())
    assert core.error is not None and core.error[0] == ErrorCodes.ENHANCE_YOUR_CALM


def test_graceful_goaway_lets_open_streams_finish() -> None:
    core, client, _ = pair()
    client.send_headers(1, [(":method", "POST"), *REQUEST[1:]])
    core.receive(client.data_to_send())
    assert core.goaway() == 1
    goaway = goaway_of(core.outbound())
    assert goaway is not None and goaway.error_code == ErrorCodes.NO_ERROR
    assert goaway.last_stream_id == 1
    client.send_data(1, b"rest", end_stream=True)
    core.receive(client.data_to_send())
    assert recorder(core).requests[1].ended
    core.out.send_headers(1, [(b":status", b"200")], end_stream=True)
    assert parse_frames(core.outbound())
    assert core.error is None


def test_reset_by_server_frames() -> None:
    core, client, _ = pair()
    client.send_headers(1, REQUEST, end_stream=True)
    core.receive(client.data_to_send())
    core.out.reset_stream(1, ErrorCodes.CANCEL)
    frames = parse_frames(core.outbound())
    assert any(isinstance(f, RstStreamFrame) and f.error_code == ErrorCodes.CANCEL for f in frames)


def test_closed_streams_leave_the_table_and_free_their_slot() -> None:
    """Streams ended both ways are forgotten; the limit counts the open ones only."""
    core = new_core(H2Limits(max_concurrent_streams=5))
    core.outbound()
    client = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    client.initiate_connection()  # never told the server's limit (reads nothing)
    for n in range(40):
        sid = 2 * n + 1
        client.send_headers(sid, REQUEST, end_stream=True)
        core.receive(client.data_to_send())
        assert sid in recorder(core).requests
        core.out.send_headers(sid, [(b":status", b"204")], end_stream=True)
        core.outbound()
        assert not core.engine.streams
    assert core.error is None
    for sid in range(81, 93, 2):  # six new streams, none closed: the sixth is refused
        client.send_headers(sid, REQUEST, end_stream=True)
    core.receive(client.data_to_send())
    assert [s for s in recorder(core).requests if s > 80] == [81, 83, 85, 87, 89]
    assert core.error is None
    frames = parse_frames(core.outbound())
    assert [f.stream_id for f in frames if isinstance(f, RstStreamFrame)] == [91]
