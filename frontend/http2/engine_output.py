"""The send side of the HTTP/2 engine: frames out, windows both ways.

:class:`Sender` writes every frame the server sends into one buffer
(:meth:`Sender.data_to_send` empties it) and keeps the flow-control state:
the client's windows for our DATA (``send_window``, per stream in
:class:`~.stream_state.H2Stream`), and ours for the client's
(``recv_window``), given back by :meth:`Sender.consumed`. Invariants:

* Nothing is written after a connection error (the GOAWAY is last).
* Frames on a stream that is not open for sending are dropped, never raise:
  a stream the client reset in the same read as the response has no one to
  answer (the writer above learns it from the reset).
* DATA is written only within both send windows (callers ask
  :meth:`Sender.send_window` first); header blocks are split into HEADERS and
  CONTINUATION frames of at most the client's SETTINGS_MAX_FRAME_SIZE.
* A stream leaves the table (:meth:`Sender.forget`) when both sides ended it
  or it is reset; its id is remembered with how it closed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from . import frames as F
from .hpack_encoder import StaticEncoder
from .limits import H2Limits
from .stream_state import ENDED, RESET_BY_US, H2Stream, window_increment

if TYPE_CHECKING:
    from .engine import H2Engine


class Sender:
    """Outbound frames and the windows of one connection."""

    def __init__(self, engine: H2Engine, limits: H2Limits) -> None:
        self._engine = engine
        self._streams = engine.streams
        self._buf = bytearray()
        self.encoder = StaticEncoder()
        #: What the client allows us: per connection, and the new streams' initial window.
        self.send_window = F.DEFAULT_WINDOW
        self.initial_window = F.DEFAULT_WINDOW
        self.max_outbound_frame_size = F.MIN_FRAME_SIZE
        #: What we allow the client on the connection, and bytes consumed since the last update.
        self.recv_max = max(limits.connection_window, F.DEFAULT_WINDOW)
        self.recv_window = self.recv_max
        self._recv_processed = 0
        self._stream_max = limits.stream_window
        self._buf += F.settings_frame(
            [
                (F.MAX_CONCURRENT_STREAMS, limits.max_concurrent_streams),
                (F.MAX_HEADER_LIST_SIZE, limits.max_header_list_size),
                (F.INITIAL_WINDOW_SIZE, limits.stream_window),
                (F.MAX_FRAME_SIZE, limits.max_frame_size),
                (F.ENABLE_CONNECT_PROTOCOL, 1),
                (F.ENABLE_PUSH, 0),
            ]
        )
        if self.recv_max > F.DEFAULT_WINDOW:
            self._buf += F.window_update(0, self.recv_max - F.DEFAULT_WINDOW)

    def write(self, frame: bytes) -> None:
        if self._engine.error is None:
            self._buf += frame

    def mark(self) -> int:
        return len(self._buf)

    def truncate(self, mark: int) -> None:
        """Drop what was written since :meth:`mark` returned ``mark``."""
        del self._buf[mark:]

    def data_to_send(self) -> bytes:
        """Everything written since the last call."""
        if not self._buf:
            return b""
        data = bytes(self._buf)
        self._buf.clear()
        return data

    # --- streams --------------------------------------------------------------------------

    def can_send(self, sid: int) -> bool:
        """Whether stream ``sid`` may still send (in the table, not ended by us)."""
        return self._sendable(sid) is not None

    def _sendable(self, sid: int) -> H2Stream | None:
        stream = self._streams.get(sid)
        if stream is None or not stream.local_open or self._engine.error is not None:
            return None
        return stream

    def send_headers(
        self, sid: int, headers: Iterable[tuple[bytes, bytes]], end_stream: bool = False
    ) -> None:
        """A header block (response head, 1xx, or trailers with ``end_stream``)."""
        stream = self._sendable(sid)
        if stream is None:
            return
        block = self.encoder.encode(headers)
        flags = F.END_STREAM if end_stream else 0
        size = self.max_outbound_frame_size
        buf = self._buf
        if len(block) <= size:
            buf += F.frame_head(F.HEADERS, flags | F.END_HEADERS, sid, len(block))
            buf += block
        else:
            buf += F.frame_head(F.HEADERS, flags, sid, size)
            buf += block[:size]
            for at in range(size, len(block), size):
                piece = block[at : at + size]
                last = F.END_HEADERS if at + size >= len(block) else 0
                buf += F.frame_head(F.CONTINUATION, last, sid, len(piece))
                buf += piece
        if end_stream:
            self._end_local(stream)

    def send_data(self, sid: int, data: bytes, end_stream: bool = False) -> None:
        """One DATA frame; ``data`` fits the windows and the frame size (callers check)."""
        stream = self._sendable(sid)
        if stream is None:
            return
        n = len(data)
        self.send_window -= n
        stream.send_window -= n
        buf = self._buf
        buf += F.frame_head(F.DATA, F.END_STREAM if end_stream else 0, sid, n)
        buf += data
        if end_stream:
            self._end_local(stream)

    def _end_local(self, stream: H2Stream) -> None:
        stream.local_open = False
        if not stream.remote_open:
            self.forget(stream, ENDED)

    def window(self, sid: int) -> int:
        """Response bytes stream ``sid`` may send now (the smaller of both windows)."""
        stream = self._sendable(sid)
        if stream is None:
            return 0
        return min(self.send_window, stream.send_window)

    def reset_stream(self, sid: int, code: int) -> None:
        """RST_STREAM ``code`` on a stream still in the table (else nothing)."""
        stream = self._streams.get(sid)
        if stream is not None:
            self.write(F.rst_stream(sid, code))
            self.forget(stream, RESET_BY_US)

    def stream_error(self, sid: int, code: int) -> None:
        """RST_STREAM for a stream error; the listener hears of a stream it knew."""
        self.write(F.rst_stream(sid, code))
        stream = self._streams.get(sid)
        if stream is not None:
            self.forget(stream, RESET_BY_US)
            self._engine.listener.on_reset(sid, code)
        elif sid <= self._engine.highest_inbound_stream_id:
            self._engine.closed.add(sid, RESET_BY_US)

    def expect_length(self, sid: int, length: int) -> None:
        """The request's content-length: the DATA must add up to it (RFC 9113 section 8.1.1)."""
        stream = self._streams.get(sid)
        if stream is not None:
            stream.expected_length = length

    def forget(self, stream: H2Stream, reason: int) -> None:
        sid = stream.sid
        del self._streams[sid]
        self._engine.closed.add(sid, reason)

    def set_initial_window(self, value: int) -> None:
        """The client's SETTINGS_INITIAL_WINDOW_SIZE: every stream's window moves by the change."""
        delta = value - self.initial_window
        self.initial_window = value
        if delta:
            for stream in self._streams.values():
                stream.send_window += delta
                if stream.send_window > F.MAX_WINDOW:
                    raise F.ConnectionViolation(F.FLOW_CONTROL_ERROR, "a stream window over 2^31-1")

    # --- the client's windows ----------------------------------------------------------

    def consumed(self, sid: int, nbytes: int) -> None:
        """``nbytes`` of stream ``sid``'s DATA were taken: give the windows back."""
        if self._engine.error is not None or nbytes <= 0:
            return
        self._recv_processed += nbytes
        increment = window_increment(self.recv_window, self.recv_max, self._recv_processed)
        if increment:
            self._recv_processed = 0
            self.recv_window += increment
            self._buf += F.window_update(0, increment)
        stream = self._streams.get(sid)
        if stream is not None and stream.remote_open:
            stream.recv_processed += nbytes
            increment = window_increment(
                stream.recv_window, self._stream_max, stream.recv_processed
            )
            if increment:
                stream.recv_processed = 0
                stream.recv_window += increment
                self._buf += F.window_update(sid, increment)
