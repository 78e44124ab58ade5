"""One HTTP/1.1 client connection of the front (an :class:`asyncio.Protocol`).

Bytes from the client go through the parser (:mod:`.http_parser`) into a
:class:`~.request_queue.RequestQueue`; each request becomes one scope on a
worker, whose response events reach the request's
:class:`~.exchange.Exchange`. Everything is a loop callback: no task per
connection or per request (one exists only while a request waits for a worker
to become ready).

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
import socket
from typing import Any

from pagi.protocol import BodyMode, reasons

from .access_log import client_label, log_access, short_target
from .context import FrontContext
from .exchange import Exchange
from .http_parser import ParseError, ParserLimits, RequestHead, make_parser
from .request_head import body_mode, scope_headers, split_target
from .request_queue import RequestQueue
from .responses import NO_BODY, server_response

logger = logging.getLogger("pagi.front")

#: When we close while the client may still be sending, we half-close and keep
#: reading (discarding) this long, so the client reads our response instead of
#: getting a reset that can destroy it.
LINGER_TIMEOUT = 2.0

_NONE = BodyMode.NONE
_EXPECT = BodyMode.EXPECT_CONTINUE
_NO_EXTRAS: dict[str, Any] = {}


class HTTP11Connection(asyncio.Protocol):
    """An accepted client connection speaking HTTP/1.0 or HTTP/1.1.

    The attributes without a leading underscore form the small interface the
    :class:`Exchange` of the current request uses.
    """

    __slots__ = (
        "_again",
        "_broken",
        "_ctx",
        "_cur",
        "_head_timer",
        "_idle_since",
        "_idle_timer",
        "_linger_timer",
        "_parser",
        "_partial_head",
        "_processing",
        "_queue",
        "_read_paused",
        "_started",
        "_transport",
        "client",
        "closing",
        "config",
        "loop",
        "peer",
        "server",
        "shutting_down",
        "write_paused",
    )

    def __init__(self, ctx: FrontContext) -> None:
        self._ctx = ctx
        config = ctx.config
        self.config = config
        self.loop = asyncio.get_running_loop()
        self._parser = make_parser(
            config.http,
            ParserLimits(config.max_request_line, config.max_header_size, config.max_headers),
        )
        self._transport: asyncio.Transport = None  # type: ignore[assignment]
        self.client: list[Any] | None = None
        self.server: list[Any] | None = None
        self.peer = "-"  # client address for log lines
        self._queue = RequestQueue(config.max_body_size)
        self._cur: Exchange | None = None
        self._started = 0  # requests started; the current one's seq
        self._partial_head = False  # bytes of a not yet complete head have arrived
        self._broken = False  # the parser failed (or a limit was hit): feed nothing more
        self.closing = False  # close/abort under way: write nothing more
        self.shutting_down = False  # no keep-alive any more
        self._read_paused = False
        self.write_paused = False
        self._processing = False
        self._again = False
        self._idle_since = 0.0
        self._idle_timer: asyncio.TimerHandle | None = None
        self._head_timer: asyncio.TimerHandle | None = None
        self._linger_timer: asyncio.TimerHandle | None = None

    def __repr__(self) -> str:
        return f"<HTTP11Connection {self.peer} cur={self._cur!r} closing={self.closing}>"

    # --- asyncio.Protocol ----------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not subclass asyncio.Transport; they quack like it.
        self._transport = transport  # type: ignore[assignment]
        sock = transport.get_extra_info("socket")
        if getattr(sock, "family", None) == socket.AF_UNIX:
            sockname = transport.get_extra_info("sockname")
            if isinstance(sockname, bytes):
                sockname = sockname.decode("utf-8", "surrogateescape")
            self.client = None
            self.server = [sockname or "", None]
            self.peer = "unix"
        else:
            peer = transport.get_extra_info("peername")
            here = transport.get_extra_info("sockname")
            self.client = [peer[0], peer[1]] if peer else None
            self.server = [here[0], here[1]] if here else None
            self.peer = client_label(self.client)
        self._ctx.connections.add(self)
        self._go_idle()

    def data_received(self, data: bytes) -> None:
        if self.closing or self._broken:
            return  # lingering after our response, or an error is being answered
        try:
            events = self._parser.feed(data)
        except ParseError as exc:
            self._request_error(exc)
            return
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

    def pause_writing(self) -> None:
        self.write_paused = True

    def resume_writing(self) -> None:
        self.write_paused = False
        cur = self._cur
        if cur is not None:
            cur.on_writable()

    # --- shutdown interface (server.py) ----------------------------------------------

    def shutdown(self) -> None:
        """No more keep-alive: close now if idle, else after the current response."""
        self.shutting_down = True
        if not self.closing and self._cur is None:
            self._close(linger=bool(self._queue) or self._partial_head)

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
        self._started += 1
        cur = Exchange(self, head, self._started, self.loop.time())
        self._cur = cur
        raw_path, query = split_target(head.target)
        cur.open_args = (raw_path, query, scope_headers(head.headers), body_mode(head))
        link = self._ctx.pool.pick()
        if link is None:
            cur.waiter = self.loop.create_task(self._wait_for_worker(cur))
            return
        self._open(cur, link)

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
            "http",
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

    def _update_reading(self) -> None:
        if self.closing:
            return
        pause = self._broken or self._queue.over_limit
        if pause != self._read_paused:
            self._read_paused = pause
            if pause:
                self._transport.pause_reading()
            else:
                self._transport.resume_reading()

    # --- errors in the request stream ---------------------------------------------

    def _request_error(self, exc: ParseError) -> None:
        """The parser failed or a limit was hit: take no more input; answer in turn."""
        self._broken = True
        self._update_reading()
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        queue = self._queue
        cur = self._cur
        if cur is not None and queue.parsing(cur.seq):
            # The error is inside the body of the request being served.
            queue.clear()
            self._fail_exchange(cur, exc)
            return
        queue.drop_partial()
        queue.push_error(exc)
        self.process()

    def _reject(self, exc: ParseError) -> None:
        """Answer a malformed request (the app never sees it) and close."""
        logger.info("%s bad request: %d %s", self.peer, exc.status, exc.reason)
        self.write(server_response(exc.status, exc.reason, server_header=self.config.server_header))
        self._close(linger=True)

    def _fail_exchange(self, cur: Exchange, exc: ParseError) -> None:
        """The current request's body turned out malformed or too large."""
        reason = reasons.BODY_TOO_LARGE if exc.status == 413 else reasons.PROTOCOL_ERROR
        logger.info("%s bad request: %d %s", self.peer, exc.status, exc.reason)
        self.detach(cur, reason)
        if cur.finished:
            self._close(linger=True)
            return
        if cur.head_written:
            self.abort_exchange(cur)
            return
        cur.status = exc.status
        cur.worker = "-"
        cur.head_written = True
        cur.app_done = True
        cur.finished = True
        self.write(
            server_response(
                exc.status,
                exc.reason,
                http11=cur.http11,
                is_head=cur.is_head,
                server_header=self.config.server_header,
            )
        )
        self._log_exchange(cur)
        self._close(linger=True)

    def _client_gone(self, cur: Exchange) -> None:
        """The client connection ended: abandon ``cur``; CLOSE its scope if that matters."""
        if not cur.finished:
            self._log_exchange(cur, aborted=True)
            cur.finished = True
        # A scope whose response is complete and whose body was all delivered
        # needs no CLOSE; any other live scope does (the app may be waiting).
        done = cur.app_done and cur.request_done
        self.detach(cur, None if done else reasons.CLIENT_CLOSED)

    # --- the interface of the current Exchange -------------------------------------

    def request_parsed(self, cur: Exchange) -> bool:
        """The whole of ``cur``'s request has been read from the socket."""
        return not self._queue.parsing(cur.seq)

    def awaiting_body(self, cur: Exchange) -> bool:
        """``cur``'s head is parsed and not one byte of its body has arrived yet."""
        queue = self._queue
        return queue.parsing(cur.seq) and queue.parse_body == 0

    def is_write_paused(self) -> bool:
        """Back-pressure for file pumping: also true once the socket is going away."""
        return self.write_paused or self.closing or self._transport.is_closing()

    def write(self, data: bytes) -> None:
        transport = self._transport
        if self.closing or transport.is_closing():
            return
        transport.write(data)

    def server_reply(
        self,
        cur: Exchange,
        status: int,
        message: str,
        *,
        extra: tuple[tuple[bytes, bytes], ...] = (),
        worker: str = "-",
    ) -> None:
        """Answer ``cur`` with a response of the front's own (nothing written yet)."""
        keep = cur.keep_alive and not self.shutting_down and self.request_parsed(cur)
        data = server_response(
            status,
            message,
            keep_alive=keep,
            http11=cur.http11,
            is_head=cur.is_head,
            extra_headers=extra,
            server_header=self.config.server_header,
        )
        cur.status = status
        cur.worker = worker
        cur.head_written = True
        cur.app_done = True
        cur.keep_alive = keep
        cur.framing = NO_BODY
        cur.body_bytes = 0 if cur.is_head else len(data) - data.index(b"\r\n\r\n") - 4
        self.write(data)
        self.response_done(cur)

    def detach(self, cur: Exchange, reason: str | None) -> None:
        """Release ``cur``'s resources; CLOSE its scope with ``reason`` if still live."""
        if cur.waiter is not None:
            cur.waiter.cancel()
            cur.waiter = None
        if cur.file is not None:
            cur.file.close()
            cur.file = None
        if reason is not None and cur.link is not None and not cur.ended and not cur.close_sent:
            cur.close_sent = True
            cur.link.close_scope(cur.sid, reason)

    def abort_exchange(self, cur: Exchange) -> None:
        """The response cannot be completed: log it and reset the connection."""
        if not cur.finished:
            self._log_exchange(cur, aborted=True)
            cur.finished = True
        self.detach(cur, reasons.SERVER_ERROR)
        self._abort_transport()

    def response_done(self, cur: Exchange) -> None:
        """``cur``'s response is fully handed to the transport: keep-alive or close."""
        cur.finished = True
        self._log_exchange(cur)
        if self._cur is not cur or self.closing:
            return
        parsed = self.request_parsed(cur)
        if not (cur.keep_alive and parsed and not self.shutting_down):
            # _cur stays set: connection_lost CLOSEs a scope still reading its body.
            self._close(linger=not parsed or bool(self._queue) or self._partial_head)
            return
        if not cur.request_done:
            cur.request_done = self._queue.discard_body()  # received but never read
        self._cur = None
        if self._queue:
            self.process()
        else:
            self._update_reading()
            self._go_idle()

    def _log_exchange(self, cur: Exchange, aborted: bool = False) -> None:
        # 499 (nginx's convention): the client got no status line at all.
        status = cur.status if cur.head_written and cur.status is not None else 499
        log_access(
            self.peer,
            cur.method,
            cur.target,
            cur.http_version,
            status,
            cur.body_bytes,
            self.loop.time() - cur.started_at,
            cur.worker,
        )

    # --- timers and closing ---------------------------------------------------------

    def _go_idle(self) -> None:
        """Between requests: arm the keep-alive timer (or, mid-head, the head timer)."""
        if self.closing:
            return
        if self._partial_head:
            if self._head_timer is None:
                self._head_timer = self.loop.call_later(
                    self.config.header_timeout, self._head_timeout
                )
            return
        self._idle_since = self.loop.time()
        if self._idle_timer is None:
            self._idle_timer = self.loop.call_at(
                self._idle_since + self.config.keepalive_timeout, self._idle_check
            )

    def _idle_check(self) -> None:
        # One timer per connection, re-armed lazily: going idle only stamps
        # _idle_since, so a busy keep-alive connection creates no timers.
        self._idle_timer = None
        if (
            self.closing
            or self._cur is not None
            or self._queue
            or self._partial_head
            or self._head_timer is not None
        ):
            return
        deadline = self._idle_since + self.config.keepalive_timeout
        if self.loop.time() < deadline - 0.001:
            self._idle_timer = self.loop.call_at(deadline, self._idle_check)
            return
        logger.debug("%s keep-alive timeout", self.peer)
        self._close()

    def _head_timeout(self) -> None:
        self._head_timer = None
        if self.closing or self._cur is not None:
            return
        timeout = self.config.header_timeout
        logger.info("%s bad request: 408 request head not complete within %gs", self.peer, timeout)
        self.write(
            server_response(
                408,
                f"request head not received within {timeout:g}s",
                server_header=self.config.server_header,
            )
        )
        self._close(linger=True)

    def _cancel_timers(self) -> None:
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _close(self, linger: bool = False) -> None:
        """Close after what was written; ``linger``: half-close and drain input first."""
        if self.closing:
            return
        self.closing = True
        self._cancel_timers()
        transport = self._transport
        if linger and transport.can_write_eof() and not transport.is_closing():
            try:
                transport.write_eof()
            except (OSError, RuntimeError):
                transport.close()
                return
            if self._read_paused:
                self._read_paused = False
                transport.resume_reading()
            self._linger_timer = self.loop.call_later(LINGER_TIMEOUT, transport.close)
        else:
            transport.close()

    def _abort_transport(self) -> None:
        self.closing = True
        self._cancel_timers()
        self._transport.abort()


_RETRY_AFTER = ((b"retry-after", b"1"),)
