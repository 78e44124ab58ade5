"""pagi's sans-I/O HTTP/2 server engine: bytes in, listener calls and frames out.

:class:`H2Engine` reads the client's byte stream (:meth:`H2Engine.receive`),
enforces RFC 9113 framing, stream states, flow control and SETTINGS, decodes
header blocks (RFC 7541, :mod:`.hpack_decoder`), and calls its
:class:`~.listener.H2Listener` for what the application layer needs.
The send side (:meth:`send_headers`, :meth:`send_data`, :meth:`reset_stream`,
:meth:`consumed`) is in :class:`~.engine_output.Sender`, one object the
engine composes. Invariants:

* :meth:`receive` never raises for anything the client sent. A connection
  error queues GOAWAY (the highest client stream id, the code) and sets
  :attr:`error`; nothing is read or sent after it, and nothing queued
  while reading the bytes that ended it (the streams all end with it). A stream error queues
  RST_STREAM and tells the listener (:meth:`~.listener.H2Listener.on_reset`).
* Every header block is decoded, also on refused or ignored streams, so the
  HPACK state stays in step with the client's.
* DATA counts against the connection window whatever stream it is on; bytes
  nobody will read (padding, frames on closed streams) are given back at
  once, the rest when the listener says they were consumed.
"""

from __future__ import annotations

import hpack

from . import frames as F
from .engine_output import Sender
from .hpack_decoder import IndexedFastDecoder
from .limits import H2Limits
from .listener import CAP_EMPTY_DATA, CAP_PING, CAP_RESET, CAP_SETTINGS, H2Guard, H2Listener
from .stream_state import ENDED, RESET_BY_PEER, RESET_BY_US, ClosedStreams, H2Stream

#: The client connection preface (RFC 9113 section 3.4).
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#: CONTINUATION frames allowed in one header block (CVE-2024-27316 class floods).
MAX_CONTINUATIONS = 64

_unpack_u32 = F.unpack_u32
ConnectionViolation = F.ConnectionViolation


class H2Engine:
    """The HTTP/2 state of one server connection."""

    def __init__(self, limits: H2Limits, listener: H2Listener, guard: H2Guard) -> None:
        self.limits = limits
        self.listener = listener
        self.guard = guard
        self.streams: dict[int, H2Stream] = {}
        self.closed = ClosedStreams()
        self.highest_inbound_stream_id = 0
        #: Why the connection ended from our side: ``(code, reason)``.
        self.error: tuple[int, str] | None = None
        self.peer_goaway = False
        self.decoder = IndexedFastDecoder()
        self.decoder.max_header_list_size = limits.max_header_list_size
        self.out = Sender(self, limits)
        self._pending = b""
        self._preface = False
        self._settings_seen = False
        # an open header block (HEADERS without END_HEADERS): its stream, flags, pieces
        self._cont_sid = 0
        self._cont_end = False
        self._cont_self_dependent = False
        self._cont_block = bytearray()
        self._cont_count = 0

    # --- input -------------------------------------------------------------------------

    def receive(self, data: bytes) -> None:
        """Act on ``data`` (any split of the client's byte stream)."""
        if self.error is not None:
            return
        buf = self._pending + data if self._pending else data
        mark = self.out.mark()
        try:
            pos = 0 if self._preface else self._read_preface(buf)
            if pos < 0:
                self._pending = buf
                return
            self._pending = b""
            pos = self._read_frames(buf, pos)
            if self.error is None and pos < len(buf):
                self._pending = buf[pos:]
        except ConnectionViolation as exc:
            self.out.truncate(mark)  # answers to this read: every stream ends now
            self.fail(exc.code, exc.reason)

    def _read_preface(self, buf: bytes) -> int:
        if len(buf) < len(PREFACE):
            if PREFACE.startswith(buf):
                return -1
        elif buf.startswith(PREFACE):
            self._preface = True
            return len(PREFACE)
        raise ConnectionViolation(F.PROTOCOL_ERROR, "invalid connection preface")

    def _read_frames(self, buf: bytes, pos: int) -> int:
        end = len(buf)
        max_size = self.limits.max_frame_size
        while end - pos >= 9 and self.error is None:
            length = (buf[pos] << 16) | (buf[pos + 1] << 8) | buf[pos + 2]
            if length > max_size:
                raise ConnectionViolation(F.FRAME_SIZE_ERROR, f"a frame of {length} bytes")
            start = pos + 9
            if end - start < length:
                break
            kind = buf[pos + 3]
            flags = buf[pos + 4]
            sid = _unpack_u32(buf, pos + 5)[0] & 0x7FFFFFFF
            payload = buf[start : start + length]
            pos = start + length
            if not self._settings_seen:
                if kind != F.SETTINGS or flags & F.ACK:
                    raise ConnectionViolation(F.PROTOCOL_ERROR, "no SETTINGS after the preface")
                self._settings_seen = True
            if self._cont_sid:
                self._continuation(kind, flags, sid, payload)
            elif kind == F.HEADERS:
                self._headers(flags, sid, payload)
            elif kind == F.DATA:
                self._data(flags, sid, payload)
            elif kind == F.WINDOW_UPDATE:
                self._window_update(sid, payload)
            elif kind == F.RST_STREAM:
                self._rst_stream(sid, payload)
            elif kind == F.SETTINGS:
                self._settings(flags, sid, payload)
            elif kind == F.PING:
                self._ping(flags, sid, payload)
            elif kind == F.PRIORITY:
                self._priority(sid, payload)
            elif kind == F.GOAWAY:
                self._goaway(sid, payload)
            elif kind == F.CONTINUATION:
                raise ConnectionViolation(F.PROTOCOL_ERROR, "CONTINUATION without a header block")
            elif kind == F.PUSH_PROMISE:
                raise ConnectionViolation(F.PROTOCOL_ERROR, "PUSH_PROMISE from a client")
            # unknown frame types are ignored (section 5.5)
        return pos

    def _closed_frame(self, sid: int, what: str) -> bool:
        """A frame (not PRIORITY) on a stream not in the table: True to ignore it."""
        if sid > self.highest_inbound_stream_id or not sid & 1:
            raise ConnectionViolation(F.PROTOCOL_ERROR, f"{what} on idle stream {sid}")
        reason = self.closed.reason(sid)
        if reason == RESET_BY_US:
            return True
        if reason == RESET_BY_PEER:
            self.out.stream_error(sid, F.STREAM_CLOSED)
            return True
        raise ConnectionViolation(F.STREAM_CLOSED, f"{what} on closed stream {sid}")

    # --- header blocks --------------------------------------------------------------------

    def _headers(self, flags: int, sid: int, payload: bytes) -> None:
        if sid == 0 or not sid & 1:
            raise ConnectionViolation(F.PROTOCOL_ERROR, f"HEADERS on stream {sid}")
        start = (1 if flags & F.PADDED else 0) + (5 if flags & F.PRIORITY_FLAG else 0)
        end = len(payload)
        if end < start:
            raise ConnectionViolation(F.FRAME_SIZE_ERROR, "HEADERS too short for its fields")
        if flags & F.PADDED:
            end -= payload[0]
            if end < start:
                raise ConnectionViolation(F.PROTOCOL_ERROR, "HEADERS padding over the frame")
        self_dependent = False
        if flags & F.PRIORITY_FLAG:
            self_dependent = (_unpack_u32(payload, start - 5)[0] & 0x7FFFFFFF) == sid
        block = payload[start:end]
        ended = bool(flags & F.END_STREAM)
        if flags & F.END_HEADERS:
            self._header_block(sid, ended, self_dependent, block)
        else:
            self._cont_sid = sid
            self._cont_end = ended
            self._cont_self_dependent = self_dependent
            self._cont_block = bytearray(block)
            self._cont_count = 0

    def _continuation(self, kind: int, flags: int, sid: int, payload: bytes) -> None:
        if kind != F.CONTINUATION or sid != self._cont_sid:
            raise ConnectionViolation(F.PROTOCOL_ERROR, "a frame inside a header block")
        self._cont_count += 1
        if self._cont_count > MAX_CONTINUATIONS:
            raise ConnectionViolation(F.PROTOCOL_ERROR, "CONTINUATION flood")
        block = self._cont_block
        block += payload
        if len(block) > self.limits.max_header_list_size:
            raise ConnectionViolation(F.ENHANCE_YOUR_CALM, "header block over the header list size")
        if flags & F.END_HEADERS:
            self._cont_sid = 0
            self._cont_block = bytearray()
            self._header_block(sid, self._cont_end, self._cont_self_dependent, bytes(block))

    def _decode(self, block: bytes) -> list[tuple[bytes, bytes]]:
        try:
            return self.decoder.decode(block)
        except hpack.OversizedHeaderListError:
            raise ConnectionViolation(F.ENHANCE_YOUR_CALM, "header list over the limit") from None
        except (hpack.HPACKError, IndexError, ValueError) as exc:
            raise ConnectionViolation(F.COMPRESSION_ERROR, f"HPACK: {exc}") from None

    def _header_block(self, sid: int, ended: bool, self_dependent: bool, block: bytes) -> None:
        fields = self._decode(block)
        stream = self.streams.get(sid)
        if stream is None:
            if sid <= self.highest_inbound_stream_id:
                reason = self.closed.reason(sid)
                if reason < 0:
                    raise ConnectionViolation(F.PROTOCOL_ERROR, f"stream id {sid} too low")
                self._closed_frame(sid, "HEADERS")
                return
            self.highest_inbound_stream_id = sid
            if self_dependent:
                self.out.stream_error(sid, F.PROTOCOL_ERROR)
            elif len(self.streams) >= self.limits.max_concurrent_streams:
                self.out.stream_error(sid, F.REFUSED_STREAM)
            else:
                self.streams[sid] = H2Stream(
                    sid, self.out.initial_window, self.limits.stream_window, not ended
                )
                self.listener.on_request(sid, fields, ended)
            return
        if self_dependent:
            self.out.stream_error(sid, F.PROTOCOL_ERROR)
        elif not stream.remote_open:
            self.out.stream_error(sid, F.STREAM_CLOSED)
        elif not ended:
            self.out.stream_error(sid, F.PROTOCOL_ERROR)  # trailers must end the stream
        elif stream.expected_length >= 0 and stream.received != stream.expected_length:
            self.out.stream_error(sid, F.PROTOCOL_ERROR)
        else:
            stream.remote_open = False
            if not stream.local_open:
                self.out.forget(stream, ENDED)
            self.listener.on_trailers(sid, fields)

    # --- DATA ---------------------------------------------------------------------------

    def _data(self, flags: int, sid: int, payload: bytes) -> None:
        if sid == 0:
            raise ConnectionViolation(F.PROTOCOL_ERROR, "DATA on stream 0")
        length = len(payload)
        data = payload
        if flags & F.PADDED:
            if not length or payload[0] >= length:
                raise ConnectionViolation(F.PROTOCOL_ERROR, "DATA padding longer than the frame")
            data = payload[1 : length - payload[0]]
        out = self.out
        out.recv_window -= length
        if out.recv_window < 0:
            raise ConnectionViolation(F.FLOW_CONTROL_ERROR, "DATA beyond the connection window")
        stream = self.streams.get(sid)
        if stream is None:
            if self._closed_frame(sid, "DATA"):
                out.consumed(sid, length)
            return
        if not stream.remote_open:
            out.consumed(sid, length)
            out.stream_error(sid, F.STREAM_CLOSED)
            return
        stream.recv_window -= length
        if stream.recv_window < 0:
            out.consumed(sid, length)
            out.stream_error(sid, F.FLOW_CONTROL_ERROR)
            return
        ended = bool(flags & F.END_STREAM)
        stream.received += len(data)
        expected = stream.expected_length
        if expected >= 0 and (
            stream.received > expected or (ended and stream.received != expected)
        ):
            out.consumed(sid, length)
            out.stream_error(sid, F.PROTOCOL_ERROR)
            return
        if length > len(data):
            out.consumed(sid, length - len(data))  # padding
        if not length and not ended:
            self._cap(CAP_EMPTY_DATA)
        if ended:
            stream.remote_open = False
            if not stream.local_open:
                out.forget(stream, ENDED)
        self.listener.on_data(sid, data, ended)

    # --- control frames -------------------------------------------------------------------

    def _cap(self, kind: int) -> None:
        reason = self.guard.over_cap(kind)
        if reason is not None:
            raise ConnectionViolation(F.ENHANCE_YOUR_CALM, reason)

    def _window_update(self, sid: int, payload: bytes) -> None:
        if len(payload) != 4:
            raise ConnectionViolation(F.FRAME_SIZE_ERROR, "WINDOW_UPDATE not of 4 bytes")
        increment = _unpack_u32(payload)[0] & 0x7FFFFFFF
        out = self.out
        if sid == 0:
            if not increment:
                raise ConnectionViolation(F.PROTOCOL_ERROR, "WINDOW_UPDATE of 0")
            out.send_window += increment
            if out.send_window > F.MAX_WINDOW:
                raise ConnectionViolation(F.FLOW_CONTROL_ERROR, "connection window over 2^31-1")
            self.listener.on_window(0)
            return
        stream = self.streams.get(sid)
        if stream is None:
            if sid > self.highest_inbound_stream_id or not sid & 1:
                raise ConnectionViolation(F.PROTOCOL_ERROR, f"WINDOW_UPDATE on idle stream {sid}")
            return  # a closed stream: the client may not have known yet
        if not increment:
            out.stream_error(sid, F.PROTOCOL_ERROR)
            return
        stream.send_window += increment
        if stream.send_window > F.MAX_WINDOW:
            out.stream_error(sid, F.FLOW_CONTROL_ERROR)
            return
        self.listener.on_window(sid)

    def _rst_stream(self, sid: int, payload: bytes) -> None:
        if len(payload) != 4:
            raise ConnectionViolation(F.FRAME_SIZE_ERROR, "RST_STREAM not of 4 bytes")
        if sid == 0:
            raise ConnectionViolation(F.PROTOCOL_ERROR, "RST_STREAM on stream 0")
        stream = self.streams.get(sid)
        if stream is None:
            if sid > self.highest_inbound_stream_id or not sid & 1:
                raise ConnectionViolation(F.PROTOCOL_ERROR, f"RST_STREAM on idle stream {sid}")
            return
        self._cap(CAP_RESET)
        self.out.forget(stream, RESET_BY_PEER)
        self.listener.on_reset(sid, _unpack_u32(payload)[0])

    def _settings(self, flags: int, sid: int, payload: bytes) -> None:
        if sid:
            raise ConnectionViolation(F.PROTOCOL_ERROR, "SETTINGS on a stream")
        if flags & F.ACK:
            if payload:
                raise ConnectionViolation(F.FRAME_SIZE_ERROR, "SETTINGS ACK with a payload")
            return
        if len(payload) % 6:
            raise ConnectionViolation(F.FRAME_SIZE_ERROR, "SETTINGS length not a multiple of 6")
        self._cap(CAP_SETTINGS)
        out = self.out
        for at in range(0, len(payload), 6):
            key, value = F.unpack_setting(payload, at)
            if key == F.INITIAL_WINDOW_SIZE:
                if value > F.MAX_WINDOW:
                    raise ConnectionViolation(F.FLOW_CONTROL_ERROR, "initial window over 2^31-1")
                out.set_initial_window(value)
            elif key == F.MAX_FRAME_SIZE:
                if not F.MIN_FRAME_SIZE <= value <= F.MAX_FRAME_SIZE_LIMIT:
                    raise ConnectionViolation(F.PROTOCOL_ERROR, f"MAX_FRAME_SIZE {value}")
                out.max_outbound_frame_size = value
            elif key == F.HEADER_TABLE_SIZE:
                out.encoder.header_table_size = value
            elif key in (F.ENABLE_PUSH, F.ENABLE_CONNECT_PROTOCOL) and value > 1:
                raise ConnectionViolation(F.PROTOCOL_ERROR, f"SETTINGS {key} of {value}")
        out.write(F.SETTINGS_ACK)
        self.listener.on_window(0)

    def _ping(self, flags: int, sid: int, payload: bytes) -> None:
        if sid:
            raise ConnectionViolation(F.PROTOCOL_ERROR, "PING on a stream")
        if len(payload) != 8:
            raise ConnectionViolation(F.FRAME_SIZE_ERROR, "PING not of 8 bytes")
        if not flags & F.ACK:
            self._cap(CAP_PING)
            self.out.write(F.ping_ack(payload))

    def _priority(self, sid: int, payload: bytes) -> None:
        if sid == 0:
            raise ConnectionViolation(F.PROTOCOL_ERROR, "PRIORITY on stream 0")
        if len(payload) != 5:
            self.out.stream_error(sid, F.FRAME_SIZE_ERROR)
        elif (_unpack_u32(payload)[0] & 0x7FFFFFFF) == sid:
            self.out.stream_error(sid, F.PROTOCOL_ERROR)
        # priorities are otherwise ignored (RFC 9113 section 5.3.2)

    def _goaway(self, sid: int, payload: bytes) -> None:
        if sid:
            raise ConnectionViolation(F.PROTOCOL_ERROR, "GOAWAY on a stream")
        if len(payload) < 8:
            raise ConnectionViolation(F.FRAME_SIZE_ERROR, "GOAWAY shorter than 8 bytes")
        self.peer_goaway = True
        last = _unpack_u32(payload)[0] & 0x7FFFFFFF
        self.listener.on_goaway(_unpack_u32(payload, 4)[0], last)

    # --- ending ---------------------------------------------------------------------------

    def fail(self, code: int, reason: str) -> None:
        """Connection error: GOAWAY ``code``; nothing is read or sent after it."""
        if self.error is None:
            self.out.write(F.goaway(self.highest_inbound_stream_id, code))
            self.error = (code, reason)
