"""How the current request of a client connection ends.

:class:`ExchangeHost` sits between :class:`~.conn_lifetime.ConnectionLifetime`
and :class:`~.http11.HTTP11Connection`. It is the interface the current
:class:`~.exchange.Exchange` calls (``request_parsed``, ``awaiting_body``,
``server_reply``, ``detach``, ``abort_exchange``, ``response_done``) and the
paths that end an exchange early: a malformed request, a broken body, the
client going away.

Invariants:

* An exchange is logged once, when it becomes ``finished``: the early-ending
  paths here check ``finished`` first, and callers use ``server_reply`` and
  ``response_done`` only on an unfinished one. A response whose status line
  never reached the client is logged as ``499``.
* ``detach`` sends CLOSE at most once per scope and never after END; it
  always releases the exchange's waiter task and open file.
* Keep-alive only when safe: the response is complete and self-delimited,
  nobody asked to close, and the request was read to its end (a body already
  received but unread is discarded; one still arriving means close, lingering).
* After a parse error nothing more is fed to the parser (``_broken``); the
  error is answered in request order, or fails the current exchange if it
  lies inside that request's body.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from pagi.protocol import reasons

from ..access_log import log_access
from .lifetime import ConnectionLifetime
from .parser import ParseError
from .responses import NO_BODY, server_response

if TYPE_CHECKING:
    from ..streams.exchange import Exchange

logger = logging.getLogger("pagi.front")


class ExchangeHost(ConnectionLifetime):
    """The connection as its current :class:`~.exchange.Exchange` sees it."""

    __slots__ = ()

    def process(self) -> None:
        """Move queued requests forward (provided by :class:`~.http11.HTTP11Connection`)."""
        raise NotImplementedError

    # --- the interface of the current Exchange -------------------------------------

    def request_parsed(self, cur: Exchange) -> bool:
        """The whole of ``cur``'s request has been read from the socket."""
        return not self._queue.parsing(cur.seq)

    def awaiting_body(self, cur: Exchange) -> bool:
        """``cur``'s head is parsed and not one byte of its body has arrived yet."""
        queue = self._queue
        return queue.parsing(cur.seq) and queue.parse_body == 0

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
