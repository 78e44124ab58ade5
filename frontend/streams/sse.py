"""What the front does for an event stream on its own: idle comments and the end at shutdown.

The worker formats every SSE event into bytes, so to the front an SSE response
is an ordinary streamed response. Two things are the front's own:

* **Keepalive** (``SSE_KEEPALIVE [interval, comment]`` from the worker): while
  the response is streaming, whenever ``interval`` seconds have passed without
  a byte of this response being written, the front writes ``:COMMENT\\n\\n``
  (an SSE comment line and a blank line; one chunk on HTTP/1.1) by itself, so
  an idle stream costs the worker nothing. ``interval`` 0 stops it; a new
  ``SSE_KEEPALIVE`` replaces the previous one (and counts idleness from then).
  One timer per stream, re-armed lazily: writes only stamp ``last_write``. No
  comment is written while the client socket is backed up (the stream is not
  idle then, the client is slow), nor for a response without a body (HEAD).
  The timer stops when the response finishes for any reason; a timer that
  fires after that does nothing, so it can never write into a later response
  on the same connection.
* **Small buffers**: on a connection that asked for an event stream, the
  kernel is told to queue at most :data:`UNSENT_LIMIT` bytes not yet sent to
  the client (``TCP_NOTSENT_LOWAT``; Linux, TCP only) and the transport's
  write buffer pauses above the same amount; both stay so for the rest of the
  connection. Without this a slow reader's backlog would first fill the
  socket's send buffer (which grows to megabytes) and 64 KiB of transport
  buffer before the front withheld any response credit; with it the app's
  ``pagi.transport`` watermarks fire after a few tens of KiB of backlog, so a
  live feed can conflate for that client while its data is still fresh.
* **Shutdown**: when the front shuts down, an SSE request whose response
  is a started ``text/event-stream`` is ended at once instead of holding the
  shutdown for ``--graceful-timeout``: the scope gets ``CLOSE(server_shutdown)``
  (the app sees ``sse.disconnect``), the chunked terminator is written so the
  client sees a complete response (``EventSource`` reconnects after its retry
  delay, to whichever server is there then), and the connection closes.
"""

from __future__ import annotations

import asyncio
import socket
from typing import TYPE_CHECKING

from .http_phase import SENDING

if TYPE_CHECKING:
    from .http_stream import HTTPStream

#: A timer that fires this early (loop clock jitter) still counts as due.
_SLACK = 0.001

#: Most bytes an event stream's socket may hold that were not yet sent.
UNSENT_LIMIT = 16 * 1024
_NOTSENT_LOWAT: int | None = getattr(socket, "TCP_NOTSENT_LOWAT", None)


def limit_unsent(transport: asyncio.WriteTransport) -> None:
    """Keep the connection's unsent backlog small (see the module doc)."""
    transport.set_write_buffer_limits(high=UNSENT_LIMIT)
    if _NOTSENT_LOWAT is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is None or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return
    try:
        sock.setsockopt(socket.IPPROTO_TCP, _NOTSENT_LOWAT, UNSENT_LIMIT)
    except OSError:
        pass  # an old kernel: the watermarks just fire later


class SSEKeepalive:
    """The idle-comment timer of one streaming response (see the module doc)."""

    __slots__ = ("_handle", "_interval", "_payload", "last_write", "stream")

    def __init__(self, stream: HTTPStream) -> None:
        self.stream = stream
        self._interval = 0.0
        self._payload = b""
        self._handle: asyncio.TimerHandle | None = None
        #: loop time of the last byte of this response handed to the socket
        self.last_write = stream.conn.loop.time()

    def configure(self, interval: float, comment: str) -> None:
        self.stop()
        self._interval = float(interval)
        if interval <= 0:
            return
        self._payload = b":" + comment.encode("utf-8") + b"\n\n"
        loop = self.stream.conn.loop
        self.last_write = now = loop.time()
        self._handle = loop.call_at(now + self._interval, self._fire)

    def touch(self) -> None:
        """Bytes of the response were just written: the stream is not idle."""
        self.last_write = self.stream.conn.loop.time()

    def stop(self) -> None:
        self._interval = 0.0
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _write_comment(self) -> bool:
        """Add the comment to the streaming body unless the client is backed
        up. False: the body has no room for bytes the app did not send."""
        stream = self.stream
        writer = stream.writer
        if stream.phase >= SENDING and not writer.blocked():  # the head is out
            if not writer.open_ended():
                return False
            stream.write_body(self._payload)
        return True

    def _fire(self) -> None:
        self._handle = None
        stream = self.stream
        interval = self._interval
        if interval <= 0 or stream.done:
            return
        loop = stream.conn.loop
        now = loop.time()
        due = self.last_write + interval
        if now < due - _SLACK:  # something was written meanwhile
            self._handle = loop.call_at(due, self._fire)
            return
        if not self._write_comment():
            return  # no body on the wire (HEAD, 204, a length): nothing to keep alive
        self.last_write = now
        self._handle = loop.call_at(now + interval, self._fire)


def is_event_stream(headers: list[list[bytes]]) -> bool:
    """The response's content-type is ``text/event-stream``."""
    for name, value in headers:
        if name == b"content-type":
            return value[:17].lower() == b"text/event-stream"
    return False
