"""One HTTP/1.x client connection of the front (an :class:`asyncio.Protocol`).

Bytes from the client go through the parser (:mod:`.parser`) into a
:class:`~.request_queue.RequestQueue`; each request becomes an
:class:`~..streams.http_stream.HTTPStream`
(:func:`~.request_start.start_request`) whose response this connection
frames through its :class:`~.writer.HTTP11Writer`. Everything is a loop
callback: no task per connection or per request (one exists only while a
request waits for a worker). Timers live in :class:`~.timers.ConnectionTimers`.

Invariants:

* **One request at a time.** The next pipelined request is started only
  after the current response is completely handed to the transport, so
  responses leave in request order. Reading pauses while the queue is over
  its limits (:data:`~.request_queue.MAX_PENDING_BODY`,
  :data:`~.request_queue.MAX_PENDING_REQUESTS`) and after a parse error.
* **Request body flow control.** At most the stream's ``window`` is handed to
  it; the rest waits in the queue. A body nobody will read (the scope ended
  or was closed) is skipped to the request's end.
* **Keep-alive only when safe:** the response is complete and self-delimited,
  nobody asked to close, and the request was read to its end (a body already
  received but unread is discarded; one still arriving means close, with a
  short lingering half-close so the client reads the response, not a reset).
* **The client going away** (EOF or error) ends the current stream
  (:meth:`~..streams.http_stream.HTTPStream.client_gone`).
* ``closing`` only goes from False to True; once set nothing more is written.
* A request another protocol takes over (a WebSocket handshake today) ends
  this connection: the parser stopped after its head, and the take-over hook
  the listener's :class:`~..selector.ProtocolSelector` registered gets the
  transport, the head and the bytes that followed.

See ``docs/http1.md`` for the behaviour as a client sees it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from ..connections import FrontContext, ProxiedAddresses, addresses
from ..tls.scope_info import NO_EXTRAS, scope_extras
from . import connection_end
from .parser import ParseError, ParserLimits, RequestHead, make_parser
from .request_queue import RequestQueue
from .request_start import start_request
from .timers import ConnectionTimers
from .writer import HTTP11Writer

if TYPE_CHECKING:
    from ..selector import TakeOvers
    from ..streams.http_stream import HTTPStream

logger = logging.getLogger("pagi.front")


class HTTP11Connection(asyncio.Protocol):
    """An accepted client connection speaking HTTP/1.0 or HTTP/1.1."""

    __slots__ = (
        "_again",
        "_bytes_in",
        "_bytes_out",
        "_cur",
        "_parser",
        "_processing",
        "_proxied",
        "_read_paused",
        "_started",
        "_take_overs",
        "_transport",
        "broken",
        "client",
        "closing",
        "config",
        "ctx",
        "loop",
        "opened_at",
        "partial_head",
        "peer",
        "queue",
        "scheme",
        "scope_extras",
        "server",
        "shutting_down",
        "timers",
        "writer",
    )

    protocol = "http/1.1"

    def __init__(
        self,
        ctx: FrontContext,
        scheme: str,
        take_overs: TakeOvers,
        proxied: ProxiedAddresses | None = None,
    ) -> None:
        self.ctx = ctx
        self._proxied = proxied
        config = ctx.config
        self.config = config
        self.scheme = scheme
        self._take_overs = take_overs
        self.loop = asyncio.get_running_loop()
        self.opened_at = self.loop.time()
        self._transport: asyncio.Transport = None  # type: ignore[assignment]
        self.client: list[Any] | None = None
        self.server: list[Any] | None = None
        self.peer = "-"  # client address for log lines
        self.scope_extras: dict[str, Any] = NO_EXTRAS  # the tls extension on TLS
        self._parser = make_parser(
            config.http,
            ParserLimits(config.max_request_line, config.max_header_size, config.max_headers),
            take_overs.claims,
        )
        self.queue = RequestQueue(config.max_body_size)
        self._cur: HTTPStream | None = None  # the request being served
        self._started = 0  # requests started; the current one's seq
        self._processing = False
        self._again = False
        self.partial_head = False  # bytes of a not yet complete head have arrived
        self.broken = False  # the parser failed (or a limit was hit): feed nothing more
        self.closing = False  # close/abort under way: write nothing more
        self.shutting_down = False  # no keep-alive any more
        self._read_paused = False
        self._bytes_in = 0
        self._bytes_out = 0
        self.writer = HTTP11Writer(self)
        self.timers = ConnectionTimers(self)

    def __repr__(self) -> str:
        return f"<HTTP11Connection {self.peer} cur={self._cur!r} closing={self.closing}>"

    # --- ClientConnection -------------------------------------------------------------

    def bytes_in(self) -> int:
        return self._bytes_in

    def bytes_out(self) -> int:
        return self._bytes_out

    def current(self) -> str:
        cur = self._cur
        return "" if cur is None else f"{cur.label()} (worker {cur.worker})"

    def current_stream(self) -> HTTPStream | None:
        return self._cur

    def shutdown(self) -> None:
        """No more keep-alive: the current response is the last (an event
        stream, which would never finish, is ended at once). An idle
        connection closes when its keep-alive time runs out, not now, so a
        restart resets no request (docs/http1.md, "Shutdown")."""
        self.shutting_down = True
        cur = self._cur
        if not self.closing and cur is not None:
            cur.shutdown()

    def abort(self, reason: str) -> None:
        """Close at once (:func:`.connection_end.abort`)."""
        connection_end.abort(self, reason)

    def end_keep_alive(self) -> None:
        """The current response is the last on this connection."""
        self.shutting_down = True
        self.writer.keep_alive = False

    # --- asyncio.Protocol: transport events -----------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not subclass asyncio.Transport; they quack like it.
        self._transport = transport  # type: ignore[assignment]
        self.client, self.server, self.peer = addresses(transport, self._proxied)
        self.scope_extras = scope_extras(transport)
        self.ctx.connections.add(self)
        self.timers.go_idle()
        if self.ctx.shutting_down:  # accepted as the front began to stop: one request, then close
            self.shutdown()

    def pause_writing(self) -> None:
        self.writer.paused = True

    def resume_writing(self) -> None:
        self.writer.paused = False
        cur = self._cur
        if cur is not None:
            cur.on_writable()

    def data_received(self, data: bytes) -> None:
        if self.closing or self.broken:
            return  # lingering after our response, or an error is being answered
        self._bytes_in += len(data)
        try:
            events = self._parser.feed(data)
        except ParseError as exc:
            connection_end.request_error(self, exc)
            return
        if self._parser.upgraded and not self.broken:
            # A request another protocol takes over was parsed: feed nothing
            # more (the parser keeps what followed it) and stop reading.
            self.stop_input()
        if events:
            queue = self.queue
            seq = queue.parse_seq
            error = queue.accept(events)
            if queue.parse_seq != seq:  # a head completed
                self.partial_head = False
                self.timers.head_done()
            if error is not None:
                connection_end.request_error(self, error)
            else:
                self.process()
        elif not self.queue.in_message and not self.partial_head and data.strip():
            self.partial_head = True
            if self._cur is None:
                self.timers.head_started()

    def eof_received(self) -> bool:
        # EOF during a request: the client is gone (docs/http1.md). Returning
        # False closes the transport, which then calls connection_lost.
        if not self.closing:
            cur = self._cur
            if cur is not None:
                logger.debug("%s closed the connection during %s", self.peer, cur.label())
                cur.client_gone()
            self.closing = True
            self.timers.cancel()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.closing = True
        self.ctx.connections.discard(self)
        self.timers.cancel(linger=True)
        cur = self._cur
        self._cur = None
        if cur is not None:
            cur.client_gone()
        self.queue.clear()

    # --- what the writer and the timers use -------------------------------------------

    def write(self, data: bytes) -> None:
        transport = self._transport
        if self.closing or transport.is_closing():
            return
        self._bytes_out += len(data)
        transport.write(data)

    def transport_closing(self) -> bool:
        return self._transport.is_closing()

    def buffered(self) -> int:
        return self._transport.get_write_buffer_size()

    def idle(self) -> bool:
        """Nothing in progress and nothing queued (for the keep-alive timer)."""
        return self._cur is None and not self.queue and not self.partial_head

    def close_if_idle(self) -> bool:
        """Close the connection if it is idle between requests (descriptor
        pressure, :mod:`..connection_limits`); True if it was."""
        if self.closing or not self.idle():
            return False
        self.close()
        return True

    def request_parsed(self) -> bool:
        """The whole of the current request has been read from the socket."""
        return not self.queue.parsing(self._started)

    def awaiting_body(self) -> bool:
        """The current request's head is parsed and not one byte of its body has arrived."""
        queue = self.queue
        return queue.parsing(self._started) and queue.parse_body == 0

    def response_done(self) -> None:
        """The current response is fully handed to the transport: keep-alive or close."""
        cur = self._cur
        if cur is None or self.closing:
            return
        parsed = self.request_parsed()
        if not (self.writer.keep_alive and parsed and not self.shutting_down):
            # _cur stays set: connection_lost CLOSEs a scope still reading its body.
            self.close(linger=not parsed or bool(self.queue) or self.partial_head or self.broken)
            return
        if not cur.request_done:
            cur.skip_body(self.queue.discard_body())  # received but never read
        self._cur = None
        if self.queue:
            self.process()
        else:
            self.update_reading()
            self.timers.go_idle()

    def stop_input(self) -> None:
        """Feed the parser nothing more and stop reading (a parse error, a take-over)."""
        self.broken = True
        self.update_reading()

    def update_reading(self) -> None:
        if self.closing:
            return
        pause = self.broken or self.queue.over_limit
        if pause != self._read_paused:
            self._read_paused = pause
            if pause:
                self._transport.pause_reading()
            else:
                self._transport.resume_reading()

    def close(self, linger: bool = False) -> None:
        """Close after what was written; ``linger``: half-close and drain input first."""
        if self.closing:
            return
        self.closing = True
        self.timers.cancel()
        transport = self._transport
        if linger and transport.can_write_eof() and not transport.is_closing():
            read_paused, self._read_paused = self._read_paused, False
            connection_end.linger(transport, read_paused, self.timers)
        else:
            transport.close()

    def abort_transport(self) -> None:
        self.closing = True
        self.timers.cancel()
        self._transport.abort()

    # --- processing the queue -----------------------------------------------------

    def process(self) -> None:
        """Move queued events forward as far as the current state allows.

        Safe to call re-entrantly (a nested call just asks the running one to
        go round again).
        """
        if self._processing:
            self._again = True
            return
        self._processing = True
        try:
            while True:
                self._again = False
                self._step()
                if not self._again:
                    break
        finally:
            self._processing = False
        self.update_reading()

    def _step(self) -> None:
        queue = self.queue
        while not self.closing:
            cur = self._cur
            if cur is None:
                if not queue:
                    return
                item = queue.next_request()
                if isinstance(item, ParseError):
                    connection_end.reject(self, item)
                    return
                assert item is not None
                self._start(item)
                continue
            if cur.request_done or not queue:
                return
            if cur.link is None:
                if cur.waiting():
                    return  # still waiting for a worker
                # Nobody will read this body: skip it up to the request's end.
                cur.skip_body(queue.discard_body())
                continue
            taken = queue.take_body(cur.window)
            if taken is None:
                return
            cur.send_body(*taken)

    def _start(self, head: RequestHead) -> None:
        if self._take_overs.claims(head):
            self._hand_over(head)
            return
        self._started += 1
        self._cur = start_request(self, self.writer, self._transport, head)

    def _hand_over(self, head: RequestHead) -> None:
        """Give the socket to the protocol that claims ``head`` and retire.

        The head is the last request the parser read; responses to the
        requests before it have been written completely.
        """
        self.closing = True
        self.timers.cancel()
        self.queue.clear()
        self.ctx.connections.discard(self)
        self._take_overs.take_over(self, head, self._parser.take_rest(), self._read_paused)

    def transport(self) -> asyncio.Transport:
        return self._transport
