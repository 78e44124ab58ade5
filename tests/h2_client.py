"""A small blocking HTTP/2 client for tests: the h2 library over a real socket.

``H2Client`` speaks through h2 (``request``/``events``); ``send_raw`` writes
bytes h2 would refuse to produce, and ``read_frames`` parses what the server
answers without h2's judgement, for conformance tests.
"""

from __future__ import annotations

import socket
import ssl
import time
from dataclasses import dataclass, field
from typing import Any

import h2.config
import h2.connection
import h2.events
import hpack
from h2_frames import PREFACE, raw_frame, split_frames
from hyperframe.frame import Frame, GoAwayFrame, PingFrame, RstStreamFrame, SettingsFrame

REQUEST_HEADERS = [(":method", "GET"), (":scheme", "http"), (":path", "/hello")]


def open_socket(port: int, tls: ssl.SSLContext | None, timeout: float = 10.0) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    if tls is None:
        return sock
    tls.set_alpn_protocols(["h2"])
    wrapped = tls.wrap_socket(sock, server_hostname="localhost")
    assert wrapped.selected_alpn_protocol() == "h2"
    return wrapped


@dataclass
class StreamRecord:
    """What one stream has received so far."""

    headers: dict[bytes, bytes] = field(default_factory=dict)
    body: bytearray = field(default_factory=bytearray)
    trailers: dict[bytes, bytes] = field(default_factory=dict)
    ended: bool = False


class H2Client:
    """One HTTP/2 connection; every call blocks with the socket's timeout."""

    def __init__(
        self, port: int, tls: ssl.SSLContext | None = None, prefix: bytes = b"", **settings: Any
    ) -> None:
        """``prefix``: bytes sent before the client preface (a PROXY protocol header)."""
        self.sock = open_socket(port, tls)
        if prefix:
            self.sock.sendall(prefix)
        self.authority = f"localhost:{port}"
        self.conn = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=True, header_encoding=None)
        )
        self.conn.initiate_connection()
        if settings:
            self.conn.update_settings(settings)
        self.flush()
        self.closed = False
        self.records: dict[int, StreamRecord] = {}

    def flush(self) -> None:
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def request(
        self,
        path: str = "/hello",
        method: str = "GET",
        body: bytes | None = None,
        headers: list[tuple[str, str]] | None = None,
        end: bool = True,
    ) -> int:
        sid = self.conn.get_next_available_stream_id()
        block = [
            (":method", method),
            (":scheme", "http"),
            (":path", path),
            (":authority", self.authority),
            *(headers or []),
        ]
        self.conn.send_headers(sid, block, end_stream=body is None and end)
        if body is not None:
            self.send_body(sid, body, end)
        self.flush()
        return sid

    def send_body(self, sid: int, body: bytes, end: bool = True) -> None:
        while body:
            window = min(
                self.conn.local_flow_control_window(sid), self.conn.max_outbound_frame_size
            )
            if window <= 0:
                self.events(until=lambda e: isinstance(e, h2.events.WindowUpdated))
                continue
            piece, body = body[:window], body[window:]
            self.conn.send_data(sid, piece, end_stream=end and not body)
            self.flush()
        if end and not body and self.conn.streams[sid].state_machine.state.name == "OPEN":
            self.conn.end_stream(sid)
        self.flush()

    def events(self, until: Any, timeout: float = 10.0) -> list[h2.events.Event]:
        """Read until ``until(event)`` is true for one event (or the server closes)."""
        seen: list[h2.events.Event] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                data = self.sock.recv(65536)
            except (ConnectionResetError, ssl.SSLError):
                data = b""
            if not data:
                self.closed = True
                return seen
            matched = False
            for event in self.conn.receive_data(data):
                seen.append(event)
                self._note(event)
                if isinstance(event, h2.events.DataReceived) and event.flow_controlled_length:
                    self.conn.acknowledge_received_data(
                        event.flow_controlled_length, event.stream_id
                    )
                matched = matched or bool(until(event))
            self.flush()
            if matched:
                return seen
        raise AssertionError(f"timed out; events so far: {seen}")

    def response(self, sid: int) -> tuple[dict[bytes, bytes], bytes, dict[bytes, bytes]]:
        """Headers, body and trailers of stream ``sid``, once it has ended (or was reset)."""
        record = self._record(sid)
        if not record.ended:
            self.events(lambda e: self._record(sid).ended)
        return record.headers, bytes(record.body), record.trailers

    def _record(self, sid: int) -> StreamRecord:
        record = self.records.get(sid)
        if record is None:
            record = self.records[sid] = StreamRecord()
        return record

    def _note(self, event: h2.events.Event) -> None:
        sid = getattr(event, "stream_id", None)
        if not sid:
            return
        record = self._record(sid)
        if isinstance(event, h2.events.ResponseReceived):
            record.headers.update(event.headers or [])
        elif isinstance(event, h2.events.DataReceived):
            record.body.extend(event.data or b"")
        elif isinstance(event, h2.events.TrailersReceived):
            record.trailers.update(event.headers or [])
        elif isinstance(event, (h2.events.StreamEnded, h2.events.StreamReset)):
            record.ended = True

    # --- raw bytes -------------------------------------------------------------------

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


def raw_connection(port: int, tls: ssl.SSLContext | None) -> socket.socket:
    """A socket after the client preface and an empty SETTINGS (no h2 state kept)."""
    sock = open_socket(port, tls)
    sock.sendall(PREFACE + raw_frame(0x4, 0, 0))
    return sock


def read_frames(sock: socket.socket, until: Any, timeout: float = 5.0) -> list[Frame]:
    """Frames from the server until ``until(frame)`` or the connection closes
    (answering its SETTINGS and PINGs as a client does)."""
    buffered = b""
    frames: list[Frame] = []
    deadline = time.monotonic() + timeout
    sock.settimeout(timeout)
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, ssl.SSLError, TimeoutError):
            chunk = b""
        if not chunk:
            return frames
        parsed, buffered = split_frames(buffered + chunk)
        for frame in parsed:
            frames.append(frame)
            if isinstance(frame, SettingsFrame) and "ACK" not in frame.flags:
                sock.sendall(raw_frame(0x4, 0x1, 0))
            elif isinstance(frame, PingFrame) and "ACK" not in frame.flags:
                sock.sendall(raw_frame(0x6, 0x1, 0, frame.opaque_data))
            if until(frame):
                return frames
    return frames


def first_error(sock: socket.socket, timeout: float = 5.0) -> tuple[str, int, int]:
    """``("GOAWAY"|"RST_STREAM", error code, stream id)`` of the server's first error frame.

    ``RST_STREAM NO_ERROR`` is no error: a server that has answered a request
    sends it to stop the rest of the request body (RFC 9113 section 8.1), and
    may do so before it reads a bad frame that follows the request's HEADERS.
    """

    def is_error(frame: Frame) -> bool:
        return isinstance(frame, GoAwayFrame) or (
            isinstance(frame, RstStreamFrame) and frame.error_code != 0
        )

    frames = read_frames(sock, is_error, timeout)
    for frame in frames:
        if isinstance(frame, GoAwayFrame):
            return "GOAWAY", frame.error_code, frame.last_stream_id
        if isinstance(frame, RstStreamFrame) and frame.error_code != 0:
            return "RST_STREAM", frame.error_code, frame.stream_id
    return "CLOSED", -1, 0


def header_block(headers: list[tuple[bytes | str, bytes | str]]) -> bytes:
    """An HPACK block exactly as given (no validation, no lower-casing)."""
    return hpack.Encoder().encode(headers, huffman=False)
