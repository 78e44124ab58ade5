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
from typing import TYPE_CHECKING, Any

from pagi.protocol import reasons

from ..http1.responses import CHUNKED, LAST_CHUNK, UNTIL_CLOSE, chunk

if TYPE_CHECKING:
    from ..http1.exchange_host import ExchangeHost
    from .exchange import Exchange

#: A timer that fires this early (loop clock jitter) still counts as due.
_SLACK = 0.001

#: Most bytes an event stream's socket may hold that were not yet sent.
UNSENT_LIMIT = 16 * 1024
_NOTSENT_LOWAT: int | None = getattr(socket, "TCP_NOTSENT_LOWAT", None)


def limit_unsent(transport: Any) -> None:
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

    __slots__ = ("_handle", "_interval", "_payload", "exchange", "last_write")

    def __init__(self, exchange: Exchange) -> None:
        self.exchange = exchange
        self._interval = 0.0
        self._payload = b""
        self._handle: asyncio.TimerHandle | None = None
        #: loop time of the last byte of this response handed to the socket
        self.last_write = exchange.conn.loop.time()

    def configure(self, interval: float, comment: str) -> None:
        self.stop()
        self._interval = float(interval)
        if interval <= 0:
            return
        self._payload = b":" + comment.encode("utf-8") + b"\n\n"
        loop = self.exchange.conn.loop
        self.last_write = now = loop.time()
        self._handle = loop.call_at(now + self._interval, self._fire)

    def stop(self) -> None:
        self._interval = 0.0
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _fire(self) -> None:
        self._handle = None
        exchange = self.exchange
        conn = exchange.conn
        interval = self._interval
        if interval <= 0 or exchange.finished or conn.closing:
            return
        loop = conn.loop
        now = loop.time()
        due = self.last_write + interval
        if now < due - _SLACK:  # something was written meanwhile
            self._handle = loop.call_at(due, self._fire)
            return
        if exchange.head_written and not conn.write_paused:
            framing = exchange.framing
            if framing == CHUNKED:
                conn.write(chunk(self._payload))
            elif framing == UNTIL_CLOSE:
                conn.write(self._payload)
            else:
                return  # no body on the wire (HEAD, 204, a length): nothing to keep alive
            exchange.body_bytes += len(self._payload)
        self.last_write = now
        self._handle = loop.call_at(now + interval, self._fire)


def set_keepalive(exchange: Exchange, interval: float, comment: str) -> None:
    """Apply an ``SSE_KEEPALIVE`` from the worker to ``exchange``'s response."""
    if exchange.finished or not exchange.sse:
        return
    keepalive = exchange.keepalive
    if keepalive is None:
        if interval <= 0:
            return
        keepalive = exchange.keepalive = SSEKeepalive(exchange)
    keepalive.configure(interval, comment)


def end_at_shutdown(conn: ExchangeHost, exchange: Exchange) -> None:
    """End ``exchange``'s event stream now, cleanly, if it is one (see the module doc)."""
    if (
        not exchange.sse
        or exchange.finished
        or exchange.app_done
        or not exchange.head_written
        or conn.closing
        or not _is_event_stream(exchange.headers)
    ):
        return
    if exchange.keepalive is not None:
        exchange.keepalive.stop()
    conn.detach(exchange, reasons.SERVER_SHUTDOWN)
    exchange.app_done = True
    exchange.keep_alive = False
    if exchange.framing == CHUNKED:
        conn.write(LAST_CHUNK)
    conn.response_done(exchange)


def _is_event_stream(headers: list[list[bytes]]) -> bool:
    for name, value in headers:
        if name == b"content-type":
            return value[:17].lower() == b"text/event-stream"
    return False
