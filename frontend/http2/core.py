"""One server-side HTTP/2 connection without I/O: bytes in, events and bytes out.

:class:`H2Core` wraps :class:`h2.connection.H2Connection` with pagi's
settings and protections. The I/O shell feeds it what the socket read
(:meth:`H2Core.receive`) and writes what :meth:`H2Core.outbound` returns.

Invariants:

* The server preface (our SETTINGS, and the connection window raised to
  :attr:`~.limits.H2Limits.connection_window`) is the first outbound data.
* :meth:`receive` never raises for anything the client sent: a protocol
  violation (bad preface, frame size, stream state, HPACK, header validity,
  flow control...) or a crossed flood cap queues a GOAWAY with the right error
  code and sets :attr:`H2Core.error`; after that nothing more is read.
* Received DATA is *not* acknowledged here: the stream layer calls
  :meth:`consumed` as the bytes are forwarded to the worker, so the client's
  window only reopens as fast as the app reads (a slow app slows its client).
"""

from __future__ import annotations

from collections.abc import Callable

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings
import hpack
from h2.connection import ConnectionState
from h2.errors import ErrorCodes
from hyperframe.exceptions import InvalidDataError
from hyperframe.frame import Frame, GoAwayFrame, HeadersFrame, RstStreamFrame

from .hpack_decoder import IndexedFastDecoder
from .hpack_encoder import StaticEncoder
from .limits import H2Limits, WindowCounter

Event = h2.events.Event

#: The client connection preface (RFC 9113 section 3.4).
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


class _ServerConnection(h2.connection.H2Connection):
    """h2's connection, refusing a stream beyond SETTINGS_MAX_CONCURRENT_STREAMS
    with RST_STREAM REFUSED_STREAM (a stream error, RFC 9113 section 5.1.2)
    instead of h2's connection error; the header block is still decoded, so
    the HPACK state stays in step."""

    #: Our SETTINGS_MAX_CONCURRENT_STREAMS (h2's settings mapping is slow to read).
    stream_limit = 100

    @property
    def open_inbound_streams(self) -> int:
        """The open client streams, or a bound from above below the limit.

        h2 asks for the count on every new stream, to compare it with
        SETTINGS_MAX_CONCURRENT_STREAMS, and counts by walking every stream it
        holds (dropping the closed ones). While it holds fewer streams than
        the limit, that number already decides the comparison, so the walk
        (and the pruning, which keeps at most the limit of closed streams
        held) waits until it holds that many.
        """
        held = len(self.streams)
        if held < self.stream_limit:
            return held
        return self._open_streams(int(not self.config.client_side))

    def _receive_headers_frame(self, frame: HeadersFrame) -> tuple[list[Frame], list[Event]]:
        sid = frame.stream_id
        if (
            sid not in self.streams
            and sid > self.highest_inbound_stream_id
            and sid % 2 == 1
            and self.open_inbound_streams >= self.stream_limit
        ):
            h2.connection._decode_headers(self.decoder, frame.data)
            self.highest_inbound_stream_id = sid
            refuse = RstStreamFrame(sid)
            refuse.error_code = ErrorCodes.REFUSED_STREAM
            return [refuse], []
        return super()._receive_headers_frame(frame)


def error_code(exc: h2.exceptions.ProtocolError) -> int:
    """The RFC 9113 error code for a violation h2 reported.

    h2 reports HPACK decoding failures and a SETTINGS ACK with a payload as
    PROTOCOL_ERROR; RFC 7541 section 2 / RFC 9113 section 4.3 want
    COMPRESSION_ERROR, and section 6.5 FRAME_SIZE_ERROR.
    """
    cause = exc.__cause__
    if isinstance(cause, hpack.HPACKError) and not isinstance(
        cause, hpack.OversizedHeaderListError
    ):
        return ErrorCodes.COMPRESSION_ERROR
    if isinstance(cause, InvalidDataError) and "must not have payload" in str(cause):
        return ErrorCodes.FRAME_SIZE_ERROR
    return int(getattr(exc, "error_code", ErrorCodes.PROTOCOL_ERROR))


def _correct_goaway(queued: bytearray, code: int) -> None:
    """Set the error code of the GOAWAY h2 queued last (if it is last)."""
    if len(queued) >= 17 and queued[-17:-14] == b"\x00\x00\x08" and queued[-14] == 0x7:
        queued[-4:] = code.to_bytes(4, "big")


class H2Core:
    """The HTTP/2 state of one client connection."""

    __slots__ = (
        "_clock",
        "_empty_data",
        "_pings",
        "_resets",
        "_settings",
        "conn",
        "error",
        "last_stream",
        "limits",
    )

    def __init__(self, limits: H2Limits, clock: Callable[[], float]) -> None:
        self.limits = limits
        self._clock = clock
        config = h2.config.H2Configuration(
            client_side=False,
            header_encoding=None,
            # checked once, in our own code (request.read_request, fields.check_trailers)
            validate_inbound_headers=False,
            normalize_inbound_headers=False,
            validate_outbound_headers=False,
            normalize_outbound_headers=False,
        )
        conn = _ServerConnection(config)
        conn.encoder = StaticEncoder()  # type: ignore[assignment]
        conn.decoder = IndexedFastDecoder()
        codes = h2.settings.SettingCodes
        conn.stream_limit = limits.max_concurrent_streams
        conn.local_settings = h2.settings.Settings(
            client=False,
            initial_values={
                codes.MAX_CONCURRENT_STREAMS: limits.max_concurrent_streams,
                codes.MAX_HEADER_LIST_SIZE: limits.max_header_list_size,
                codes.INITIAL_WINDOW_SIZE: limits.stream_window,
                codes.MAX_FRAME_SIZE: limits.max_frame_size,
                codes.ENABLE_CONNECT_PROTOCOL: 1,
                codes.ENABLE_PUSH: 0,
            },
        )
        # h2 applies these on the client's SETTINGS ACK only if they *changed*;
        # they are our initial values, so apply them now.
        conn.decoder.max_header_list_size = limits.max_header_list_size
        conn.max_inbound_frame_size = limits.max_frame_size
        conn.initiate_connection()
        extra = limits.connection_window - 65535
        if extra > 0:
            conn.increment_flow_control_window(extra)
        self.conn = conn
        #: Why the connection is over from our side: ``(error code, reason)``.
        self.error: tuple[int, str] | None = None
        #: Set by :meth:`goaway`: the last stream id this connection will serve.
        self.last_stream: int | None = None
        window = limits.flood_window
        self._resets = WindowCounter(limits.max_resets, window)
        self._settings = WindowCounter(limits.max_settings, window)
        self._pings = WindowCounter(limits.max_pings, window)
        self._empty_data = WindowCounter(limits.max_empty_data, window)

    # --- input ---------------------------------------------------------------------

    def receive(self, data: bytes) -> list[Event]:
        """Events for ``data``; on a violation, the events before it (and :attr:`error`)."""
        if self.error is not None:
            return []
        try:
            events = self.conn.receive_data(data)
        except h2.exceptions.ProtocolError as exc:
            # h2 has queued the GOAWAY for most errors, not for a bad preface.
            code = error_code(exc)
            self.error = (int(code), str(exc) or type(exc).__name__)
            if self.conn.state_machine.state is not ConnectionState.CLOSED:
                self.conn.close_connection(error_code=code)
            else:
                _correct_goaway(self.conn._data_to_send, code)
            return []
        return self._screen(events)

    def _screen(self, events: list[Event]) -> list[Event]:
        """Count the events the flood caps watch; stop at the first one over its cap."""
        now = self._clock()
        for i, event in enumerate(events):
            cap: str | None = None
            if isinstance(event, h2.events.StreamReset):
                if event.remote_reset and self._resets.hit(now):
                    cap = "too many streams reset by the client (Rapid Reset)"
            elif isinstance(event, h2.events.RemoteSettingsChanged):
                if self._settings.hit(now):
                    cap = "SETTINGS flood"
            elif isinstance(event, h2.events.PingReceived):
                if self._pings.hit(now):
                    cap = "PING flood"
            elif (
                isinstance(event, h2.events.DataReceived)
                and not event.data
                and event.stream_ended is None
                and self._empty_data.hit(now)
            ):
                cap = "empty DATA frame flood"
            if cap is not None:
                self.calm_down(cap)
                return events[:i]
        return events

    def calm_down(self, reason: str) -> None:
        """End the connection with GOAWAY ENHANCE_YOUR_CALM."""
        self.fail(ErrorCodes.ENHANCE_YOUR_CALM, reason)

    def fail(self, code: int, reason: str) -> None:
        """End the connection with GOAWAY ``code`` (streams up to the last one finish)."""
        if self.error is None:
            self.error = (int(code), reason)
            self.conn.close_connection(
                error_code=code, last_stream_id=self.conn.highest_inbound_stream_id
            )

    # --- flow control ------------------------------------------------------------

    def consumed(self, stream_id: int, nbytes: int) -> None:
        """The stream layer has taken ``nbytes`` of DATA: reopen the windows."""
        if nbytes and self.error is None:
            try:
                self.conn.acknowledge_received_data(nbytes, stream_id)
            except h2.exceptions.StreamClosedError:
                pass

    def send_window(self, stream_id: int) -> int:
        """Response bytes the stream may send now (the smaller of both windows)."""
        try:
            return self.conn.local_flow_control_window(stream_id)
        except (h2.exceptions.StreamClosedError, h2.exceptions.NoSuchStreamError):
            return 0

    # --- output --------------------------------------------------------------------

    def outbound(self) -> bytes:
        """Everything queued for the client since the last call."""
        return self.conn.data_to_send()

    def goaway(self) -> int:
        """Graceful shutdown: GOAWAY NO_ERROR naming the last stream we will finish.

        The frame is written beside h2's state machine (which would refuse any
        frame after its own GOAWAY), so the streams up to that id go on
        normally; the caller refuses streams opened after it. Returns that id.
        """
        last = self.conn.highest_inbound_stream_id
        if self.error is None and self.last_stream is None:
            self.last_stream = last
            frame = GoAwayFrame(0)
            frame.last_stream_id = last
            frame.error_code = ErrorCodes.NO_ERROR
            self.conn._data_to_send += frame.serialize()
        return last
