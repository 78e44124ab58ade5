"""One HTTP/1.1 client connection of the front (an :class:`asyncio.Protocol`).

Bytes from the client go through the parser (:mod:`.http_parser`) into a
:class:`~.request_queue.RequestQueue`; each request becomes one scope on a
worker, whose response events reach the request's
:class:`~.exchange.Exchange`. Everything is a loop callback: no task per
connection or per request (one exists only while a request waits for a worker
to become ready).

:class:`HTTP11Connection` is built in layers: :class:`~.conn_lifetime.ConnectionLifetime`
(shared state, back-pressure, timers, closing), :class:`~.exchange_host.ExchangeHost`
(how the current exchange ends: replies, keep-alive, errors), and this module,
which feeds the parser and moves queued requests to workers.

Invariants:

* **One request at a time.** The next pipelined request is OPENed only after
  the current response is completely handed to the transport, so responses
  leave in request order. Reading pauses while the queue is over its limits
  (:data:`~.request_queue.MAX_PENDING_BODY`,
  :data:`~.request_queue.MAX_PENDING_REQUESTS`) and after a parse error.
* **Request body flow control.** At most the scope's request window (HELLO
  ``window``, 0 with ``Expect: 100-continue``, plus every CREDIT) is forwarded;
  the rest waits in the queue. The last ``HTTP_REQUEST`` has ``more=False``;
  a request without a body (body mode NONE) sends none.
* **Nothing after CLOSE or END.** Once ``close_scope`` was sent or the scope
  ended, nothing more is sent for it (its unread body is discarded).
* **Keep-alive only when safe:** the response is complete and self-delimited,
  nobody asked to close, and the request was read to its end (a body already
  received but unread is discarded; one still arriving means close, with a
  short lingering half-close so the client reads the response, not a reset).
* **The client going away** (EOF or error) while a scope is live sends
  CLOSE(``client_closed``) unless that scope's response is complete and its
  body fully delivered.

See ``docs/http1.md`` for the behaviour as a client sees it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from pagi.protocol import BodyMode, reasons

from ..access_log import short_target
from ..context import FrontContext
from ..streams.exchange import Exchange
from ..streams.sse import end_at_shutdown, limit_unsent
from ..streams.sse_detect import is_sse_request
from ..websocket.connection import take_over
from ..websocket.handshake import is_websocket_upgrade
from .exchange_host import ExchangeHost
from .lifetime import LINGER_TIMEOUT
from .parser import ParseError, ParserLimits, RequestHead, make_parser
from .request_head import body_mode, scope_headers, split_target

__all__ = ["LINGER_TIMEOUT", "HTTP11Connection"]

logger = logging.getLogger("pagi.front")

_NONE = BodyMode.NONE
_EXPECT = BodyMode.EXPECT_CONTINUE
_NO_EXTRAS: dict[str, Any] = {}
_RETRY_AFTER = ((b"retry-after", b"1"),)


class HTTP11Connection(ExchangeHost):
    """An accepted client connection speaking HTTP/1.0 or HTTP/1.1.

    The attributes without a leading underscore form the small interface the
    :class:`Exchange` of the current request uses.
    """

    __slots__ = ("_again", "_parser", "_processing", "_started")

    def __init__(self, ctx: FrontContext) -> None:
        super().__init__(ctx)
        config = ctx.config
        self._parser = make_parser(
            config.http,
            ParserLimits(config.max_request_line, config.max_header_size, config.max_headers),
        )
        self._started = 0  # requests started; the current one's seq
        self._processing = False
        self._again = False

    def __repr__(self) -> str:
        return f"<HTTP11Connection {self.peer} cur={self._cur!r} closing={self.closing}>"

    # --- asyncio.Protocol ----------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        if self.closing or self._broken:
            return  # lingering after our response, or an error is being answered
        try:
            events = self._parser.feed(data)
        except ParseError as exc:
            self._request_error(exc)
            return
        if self._parser.upgraded and not self._broken:
            # A WebSocket handshake was parsed: feed nothing more (the parser
            # keeps what followed it for websocket.py) and stop reading.
            self._broken = True
            self._update_reading()
        if events:
            queue = self._queue
            seq = queue.parse_seq
            error = queue.accept(events)
            if queue.parse_seq != seq:  # a head completed
                self._partial_head = False
                if self._head_timer is not None:
                    self._head_timer.cancel()
                    self._head_timer = None
            if error is not None:
                self._request_error(error)
            else:
                self.process()
        elif not self._queue.in_message and not self._partial_head and data.strip():
            self._partial_head = True
            if self._cur is None and self._head_timer is None:
                self._head_timer = self.loop.call_later(
                    self.config.header_timeout, self._head_timeout
                )

    def eof_received(self) -> bool:
        # EOF while a response is pending means the client is gone (as uvicorn
        # and nginx read it): HTTP/1.1 clients do not half-close to end a
        # request, and waiting would leave an app that waits for
        # http.disconnect hanging. Returning False closes the transport, which
        # then calls connection_lost.
        if not self.closing:
            cur = self._cur
            if cur is not None:
                logger.debug(
                    "%s closed the connection during %s %s",
                    self.peer,
                    cur.method,
                    short_target(cur.target),
                )
                self._client_gone(cur)
            self.closing = True
            self._cancel_timers()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.closing = True
        self._ctx.connections.discard(self)
        self._cancel_timers()
        if self._linger_timer is not None:
            self._linger_timer.cancel()
            self._linger_timer = None
        cur = self._cur
        self._cur = None
        if cur is not None:
            self._client_gone(cur)
        self._queue.clear()

    # --- shutdown interface (server.py) ----------------------------------------------

    def shutdown(self) -> None:
        """No more keep-alive: close now if idle, else after the current response
        (an event stream, which would never finish, is ended at once: sse_stream.py)."""
        self.shutting_down = True
        if not self.closing and self._cur is None:
            self._close(linger=bool(self._queue) or self._partial_head)
        elif self._cur is not None:
            end_at_shutdown(self, self._cur)  # an event stream would never finish

    def abort(self, reason: str) -> None:
        """Close at once; the current scope (if any) gets CLOSE(``reason``).

        A request whose response has not started gets a last ``503`` (flushed
        for at most :data:`LINGER_TIMEOUT` seconds); anything else is reset.
        """
        cur = self._cur
        if self.closing or cur is None or cur.finished:
            if cur is not None:
                self.detach(cur, reason)
            self._abort_transport()
            return
        self.detach(cur, reason)
        if cur.head_written:
            self._log_exchange(cur, aborted=True)
            cur.finished = True
            self._abort_transport()
            return
        logger.info(
            "503 to %s for %s %s: %s before its response started",
            self.peer,
            cur.method,
            short_target(cur.target),
            reason,
        )
        cur.keep_alive = False
        self.shutting_down = True
        message = "the server is shutting down" if reason == reasons.SERVER_SHUTDOWN else reason
        self.server_reply(cur, 503, message)  # closes after the write (no keep-alive)
        self.loop.call_later(LINGER_TIMEOUT, self._transport.abort)

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
        self._update_reading()

    def _step(self) -> None:
        queue = self._queue
        while not self.closing:
            cur = self._cur
            if cur is None:
                if not queue:
                    return
                if self.shutting_down:
                    self._close(linger=True)
                    return
                item = queue.next_request()
                if isinstance(item, ParseError):
                    self._reject(item)
                    return
                assert item is not None
                self._start(item)
                continue
            if cur.request_done or not queue:
                return
            if cur.ended or cur.close_sent:
                # Nobody will read this body: skip it up to the request's end.
                cur.request_done = queue.discard_body()
                continue
            if cur.link is None:
                return  # still waiting for a worker
            taken = queue.take_body(cur.window)
            if taken is None:
                return
            body, more = taken
            if not more:
                cur.request_done = True
                if not body and cur.body_mode == _NONE:
                    continue
            cur.window -= len(body)
            cur.link.send_request_body(cur.sid, body, more)

    def _start(self, head: RequestHead) -> None:
        if is_websocket_upgrade(head):
            self._upgrade(head)
            return
        self._started += 1
        cur = Exchange(self, head, self._started, self.loop.time())
        self._cur = cur
        cur.sse = is_sse_request(head)
        if cur.sse:
            limit_unsent(self._transport)
        raw_path, query = split_target(head.target)
        cur.open_args = (raw_path, query, scope_headers(head.headers), body_mode(head))
        link = self._ctx.pool.pick()
        if link is None:
            cur.waiter = self.loop.create_task(self._wait_for_worker(cur))
            return
        self._open(cur, link)

    def _upgrade(self, head: RequestHead) -> None:
        """Hand the socket to a :class:`~.websocket.WebSocketConnection` and retire.

        The handshake is the last request the parser read; responses to the
        requests before it have been written completely.
        """
        self.closing = True
        self._cancel_timers()
        self._queue.clear()
        self._ctx.connections.discard(self)
        take_over(
            self._ctx,
            self._transport,
            head,
            self._parser.take_rest(),
            self.client,
            self.server,
            self.peer,
            self.loop.time(),
            self._read_paused,
            self.write_paused,
        )

    def _open(self, cur: Exchange, link: Any) -> None:
        assert cur.open_args is not None
        raw_path, query, headers, mode = cur.open_args
        cur.open_args = None
        cur.link = link
        cur.worker = link.name
        cur.body_mode = mode
        cur.window = 0 if mode == _EXPECT else link.request_window
        cur.sid = link.open_scope(
            cur,
            "sse" if cur.sse else "http",
            cur.http_version,
            cur.method,
            "http",
            raw_path,
            query,
            headers,
            self.client,
            self.server,
            _NO_EXTRAS,
            mode,
        )

    async def _wait_for_worker(self, cur: Exchange) -> None:
        """The slow path: no worker could take the request at once."""
        timeout = self.config.worker_wait_timeout
        try:
            link = await self._ctx.pool.wait(timeout)
            cur.waiter = None
            if cur.finished or self.closing:
                return
            if link is None:
                logger.warning(
                    "503: no worker ready within %gs for %s %s from %s",
                    timeout,
                    cur.method,
                    short_target(cur.target),
                    self.peer,
                )
                self.server_reply(cur, 503, "no worker is available", extra=_RETRY_AFTER)
                return
            self._open(cur, link)
            self.process()
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("error while waiting for a worker for %s", self.peer)
            self._abort_transport()
