"""The response side of one HTTP/2 stream: head, body and trailers within the windows.

:class:`StreamOutput` holds what the stream handed its writer and the client
may not take yet, and gives it to the engine as the stream's and the connection's
flow-control windows allow (:meth:`StreamOutput.flush`). Invariants:

* The head goes out with the first body piece, the trailers or the end (a
  response without a body is one HEADERS frame with END_STREAM), or alone
  when the stream asks for it (``head_now``: a streaming response's head, a
  WebSocket's ``:status 200``).
* Exactly one final frame (END_STREAM on DATA or on the trailers) is handed
  to the engine; after it :attr:`StreamOutput.complete` is true and nothing more is.
* Bytes are handed to the engine only within the window given to :meth:`flush`, in
  frames of at most ``frame_size``: what waits here is what the client has
  not made room for, and the stream above withholds the worker's credit for
  it meanwhile.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .heads import Headers

if TYPE_CHECKING:
    from .engine_output import Sender


class StreamOutput:
    """Pending response data of one stream."""

    __slots__ = (
        "_buf",
        "_head",
        "_trailers",
        "complete",
        "expect_trailers",
        "final",
        "head_now",
        "head_sent",
        "no_body",
        "sent",
        "sid",
    )

    def __init__(self, sid: int, no_body: bool) -> None:
        self.sid = sid
        self.no_body = no_body  # HEAD, 204, 304: body bytes are dropped
        self._head: Headers | None = None
        self.head_now = False  # send the head even without a body piece
        self.head_sent = False
        self._buf = bytearray()
        self.final = False  # the body is complete (END_STREAM after it, or the trailers)
        self.expect_trailers = False
        self._trailers: Headers | None = None
        self.complete = False  # the final frame was handed to the engine
        self.sent = 0  # body bytes handed to the engine

    @property
    def started(self) -> bool:
        return self._head is not None or self.head_sent

    @property
    def pending(self) -> int:
        """Body bytes waiting for window."""
        return len(self._buf)

    def start(self, head: Headers, trailers: bool) -> None:
        self._head = head
        self.expect_trailers = trailers

    def body(self, data: bytes, more: bool) -> None:
        if data and not self.no_body and not self.complete:
            self._buf += data
        if not more:
            self.final = True

    def trailers(self, headers: Headers) -> None:
        self._trailers = headers
        self.final = True

    def end_without_trailers(self) -> None:
        self.expect_trailers = False
        self.final = True

    def close(self) -> None:
        """Drop what is pending (the stream is being reset)."""
        self._buf.clear()
        self.complete = True

    def flush(self, conn: Sender, window: int, frame_size: int) -> int:
        """Hand the engine what ``window`` allows; returns the body bytes handed over."""
        if self.complete or (self._head is None and not self.head_sent):
            return 0
        buf = self._buf
        if not self.head_sent:
            assert self._head is not None
            done = self.final and not buf
            ends = done and not self.expect_trailers
            if not (ends or buf or self.head_now or self._trailers is not None):
                return 0  # the head waits for the first body event
            conn.send_headers(self.sid, self._head, end_stream=ends)
            self._head = None
            self.head_sent = True
            if ends:
                self.complete = True
                return 0
        handed = 0
        while buf and window > 0:
            n = min(window, len(buf), frame_size)
            last = n == len(buf) and self.final and not self.expect_trailers
            conn.send_data(self.sid, bytes(buf[:n]), end_stream=last)
            del buf[:n]
            window -= n
            handed += n
            if last:
                self.complete = True
        self.sent += handed
        if not buf and self.final and not self.complete:
            if not self.expect_trailers:
                conn.send_data(self.sid, b"", end_stream=True)
                self.complete = True
            elif self._trailers is not None:
                conn.send_headers(self.sid, self._trailers, end_stream=True)
                self.complete = True
        return handed
