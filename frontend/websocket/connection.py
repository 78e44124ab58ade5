"""One WebSocket client connection of the front, from the upgrade request on.

Hand-off: when the request the HTTP/1.1 connection is about to serve is a
WebSocket handshake (:func:`.ws_handshake.is_websocket_upgrade`; the parser
stopped after it and kept the bytes that followed), the
:class:`~.http11.HTTP11Connection` retires and calls :func:`take_over`, which
makes a :class:`WebSocketConnection` the transport's protocol
(``transport.set_protocol``). From then on this object is the asyncio
protocol of the socket *and* the handler of the websocket scope on the worker
link (:class:`~.link_ws_scope.WSScopeHandler`), and it is what
``ctx.connections`` holds, so graceful shutdown finds it.

It is built in layers: :class:`~.ws_lifetime.WSLifetime` (state, I/O,
keepalive, closing, logging, and the phases), :class:`~.ws_answers.WSAnswers`
(HTTP answers instead of the 101), :class:`~.ws_frames.WSClientFrames` (the
client's frames, protocol failures), and this module: starting (validation,
a worker, OPEN), the socket's events, the worker's events.

Invariants:

* The 101 is written only on WS_ACCEPT; any answer before it (front errors,
  403 for WS_CLOSE, the app's own response) closes the connection after it.
* Client messages reach the worker as WS_RECEIVE pieces within the request
  window (:class:`~.ws_inbound.InboundFlow`). Client bytes are decoded only
  as far as the window allows, the rest waits undecoded (one socket read at
  most: reading is paused while the window is used up). WS_SEND data is
  credited back once written, or when the socket drains below its low-water
  mark if it was above the high one.
* No data frame follows our close frame; after the 101 nothing but WebSocket
  frames is written.
* The worker hears that the connection is over exactly once, with
  ``WS_DISCONNECT(code, reason)`` (the client's close code, 1005 if its frame
  had none; 1002/1007/1008/1009 for a violation; 1006 with a reason for a
  drop), unless the scope already ended (END, or the worker was lost).
* A connection failed for a protocol violation stops reading at once, waits
  (at most --ws-close-timeout) until the app has consumed every complete
  message that preceded the violation, then :data:`~.ws_frames.FAIL_GRACE`
  more for its replies, then sends the close frame (1002/1007/1009) and
  half-closes. Queue overflow (1008) fails at once: that app is not consuming.

See ``docs/websocket.md`` for the behaviour as a client and an app see it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from pagi.protocol import BodyMode, Outcome, reasons

from ..access_log import short_target
from ..context import FrontContext
from ..http1.parser import RequestHead
from ..http1.request_head import scope_headers, split_target
from ..http1.responses import UnsafeResponse
from .answers import DENIED
from .codec import WSCodec
from .deflate import negotiate
from .frames import WSClientFrames
from .handshake import HandshakeError, accept_head, check_handshake
from .inbound import InboundFlow
from .lifetime import (
    CLOSING,
    DENYING,
    DONE,
    FAILING,
    HANDSHAKE,
    OPEN,
    PRE_ACCEPT_LIMIT,
    WAITING,
)

if TYPE_CHECKING:
    from ..link.worker_link import WorkerLink

logger = logging.getLogger("pagi.front")

_RETRY_AFTER = ((b"retry-after", b"1"),)


def take_over(
    ctx: FrontContext,
    transport: asyncio.Transport,
    head: RequestHead,
    buffered: bytes,
    client: list[Any] | None,
    server: list[Any] | None,
    peer: str,
    started_at: float,
    read_paused: bool,
    write_paused: bool,
) -> WebSocketConnection:
    """Make a :class:`WebSocketConnection` the protocol of ``transport`` and start it.

    ``buffered``: client bytes that followed the request head;
    ``read_paused`` / ``write_paused``: the transport's flow state as the
    caller leaves it (reading is resumed as this connection needs). The
    caller has already removed itself from ``ctx.connections``.
    """
    ws = WebSocketConnection(ctx, transport, head, buffered, client, server, peer, started_at)
    ws._read_paused = read_paused
    ws._write_paused = write_paused
    transport.set_protocol(ws)
    ws.start()
    return ws


class WebSocketConnection(WSClientFrames):
    """The socket's protocol after a WebSocket upgrade request; the scope's handler."""

    __slots__ = ()

    # --- start: validate, find a worker, open the scope ---------------------------

    def start(self) -> None:
        self._ctx.connections.add(self)
        head = self._head
        assert head is not None
        try:
            self._handshake = check_handshake(head)
        except HandshakeError as exc:
            logger.info("%s bad request: %d %s", self.peer, exc.status, exc.reason)
            self._reply(exc.status, exc.reason, exc.headers)
            return
        if self._ctx.shutting_down:
            self._reply(503, "the server is shutting down")
            return
        if self.config.ws_per_message_deflate and self._handshake.extensions:
            self._deflate = negotiate(self._handshake.extensions, self.config.ws_max_size)
        self._update_reading()
        link = self._ctx.pool.pick()
        if link is None:
            self._waiter = self.loop.create_task(self._wait_for_worker())
        else:
            self._open(link)

    async def _wait_for_worker(self) -> None:
        timeout = self.config.worker_wait_timeout
        try:
            link = await self._ctx.pool.wait(timeout)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("error while waiting for a worker for %s", self.peer)
            self._abort()
            return
        self._waiter = None
        if self._phase != WAITING:
            return
        if link is None:
            logger.warning(
                "503: no worker ready within %gs for WebSocket %s from %s",
                timeout,
                short_target(self._target),
                self.peer,
            )
            self._reply(503, "no worker is available", _RETRY_AFTER)
            return
        self._open(link)

    def _open(self, link: WorkerLink) -> None:
        handshake = self._handshake
        assert handshake is not None
        head = self._head
        assert head is not None
        self._head = None  # the header list is the scope's now; keep only the target
        raw_path, query = split_target(self._target)
        self._link = link
        self.worker = link.name
        self._phase = HANDSHAKE
        self._scope_live = True
        self._flow = InboundFlow(self._forward, link.request_window, self.config.ws_max_queue)
        self._timer = self.loop.call_later(
            self.config.ws_handshake_timeout, self._handshake_expired
        )
        self._sid = link.open_scope(
            self,
            "websocket",
            "1.1",
            "GET",
            "ws",
            raw_path,
            query,
            scope_headers(head.headers),
            self.client,
            self.server,
            {"subprotocols": handshake.subprotocols},
            BodyMode.NONE,
        )

    def _forward(self, data: str | bytes, more: bool) -> None:
        link = self._link
        if link is not None and self._scope_live:
            link.send_ws_receive(self._sid, data, more)

    # --- asyncio.Protocol ------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        phase = self._phase
        if phase == OPEN:
            self._receive(data)
        elif phase == CLOSING:
            self._input += data
            self._await_close_reply()
        elif phase in (WAITING, HANDSHAKE):
            self._input += data
            if len(self._input) > PRE_ACCEPT_LIMIT:
                self._update_reading()
        # DENYING, FAILING, DONE: the input is discarded

    def eof_received(self) -> bool:
        if self._phase == CLOSING and self._fail is not None:
            self._finish()  # the client read our close frame and went away: a clean end
        else:
            self._client_gone()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._client_gone()
        self._ctx.connections.discard(self)
        if self._waiter is not None:
            self._waiter.cancel()
            self._waiter = None
        if self._accepted_at:
            self._log_end()

    def _client_gone(self) -> None:
        """The socket ended (EOF, error, reset) before the WebSocket ended."""
        phase = self._phase
        if phase == DONE:
            return
        logger.debug("%s went away without a closing handshake", self.peer)
        if self._fail is None:
            self._close_code = 1006
        self._disconnect(1006, reasons.CLIENT_CLOSED)
        if phase in (WAITING, HANDSHAKE):
            self._log(499)
        self._finish()

    # --- shutdown interface (server.py) ---------------------------------------------

    def shutdown(self) -> None:
        """Close 1001 to the client now; the app hears 1006 ``server_shutdown``.

        A handshake still waiting for a worker gets 503; one the app is
        deciding on is closed right after its 101 (or answered as the app
        denies it).
        """
        self.shutting_down = True
        phase = self._phase
        if phase == WAITING:
            self._reply(503, "the server is shutting down")
        elif phase == OPEN:
            self._disconnect(1006, reasons.SERVER_SHUTDOWN)
            self._start_closing(1001, "")

    def abort(self, reason: str) -> None:
        """Reset the connection at once; the app hears 1006 ``reason``."""
        self._disconnect(1006, reason, defer=False)
        self._abort()

    # --- events from the worker (WSScopeHandler) ------------------------------------

    def on_ws_accept(self, subprotocol: str | None, headers: list[list[bytes]]) -> None:
        if self._phase != HANDSHAKE:
            return
        self._cancel_timer()
        handshake = self._handshake
        assert handshake is not None
        deflate = self._deflate
        try:
            head = accept_head(
                handshake.key,
                subprotocol,
                deflate[0] if deflate else None,
                headers,
                server_header=self.config.server_header,
            )
        except UnsafeResponse as exc:  # the worker sent what could split the head
            self._refuse_response(exc)
            return
        self._write(head)
        self._phase = OPEN
        self._accepted_at = self.loop.time()
        self._codec = WSCodec(self.config.ws_max_size, deflate[1] if deflate else None)
        self._log(101)
        config = self.config
        wanted = self._keepalive_wanted
        if wanted is None and config.ws_ping_interval > 0:
            wanted = (config.ws_ping_interval, config.ws_ping_timeout or config.ws_ping_interval)
        if wanted is not None:
            self._configure_keepalive(*wanted)
        if self.shutting_down:
            self._disconnect(1006, reasons.SERVER_SHUTDOWN)
            self._start_closing(1001, "")
            return
        self._drain_input()  # what the client sent before the 101, if anything

    def on_ws_send(self, data: str | bytes, more: bool) -> None:
        phase = self._phase
        n = len(data)
        if phase in (OPEN, FAILING):
            codec = self._codec
            assert codec is not None
            self._write(codec.message(data, more))
            self._body_bytes += n
        if not n or not self._scope_live:
            return
        if self._write_paused:
            self._ungranted += n
        else:
            link = self._link
            assert link is not None
            link.grant(self._sid, n)

    def on_ws_close(self, code: int, reason: str) -> None:
        phase = self._phase
        if phase == HANDSHAKE:
            self._cancel_timer()
            logger.info(
                "403 to %s for WebSocket %s: the app closed before accepting",
                self.peer,
                short_target(self._target),
            )
            self._disconnect(1006, DENIED)
            self._reply(403, "the application refused the WebSocket", worker=self.worker)
        elif phase == OPEN:
            self._start_closing(code, reason)
        elif phase == FAILING:
            self._fail_now()

    def on_ws_keepalive(self, interval: float, timeout: float | None) -> None:
        if timeout is None:
            timeout = self.config.ws_ping_timeout or interval
        self._keepalive_wanted = (interval, timeout)
        if self._phase == OPEN:
            self._configure_keepalive(interval, timeout)

    def on_request_credit(self, nbytes: int) -> None:
        flow = self._flow
        if flow is None:
            return
        flow.credit(nbytes)
        pending = self._disconnect_pending
        if pending is not None and not flow.has_pending:
            self._disconnect_pending = None
            self._disconnect(*pending)
        if self._phase == FAILING:
            self._check_fail()
        elif self._phase == OPEN and not flow.blocked:
            if self._input:
                self._drain_input()
            elif self._read_paused:
                self._update_reading()

    def on_end(self, outcome: int, response_started: bool, detail: str) -> None:
        self._scope_live = False
        phase = self._phase
        if phase == HANDSHAKE:
            self._cancel_timer()
            if outcome == Outcome.RAISED:
                what = f"the app raised: {detail}" if detail else "the app raised"
            else:
                what = "the app returned without accepting or denying"
            logger.error(
                "500: %s (worker %s, WebSocket %s from %s)",
                what,
                self.worker,
                short_target(self._target),
                self.peer,
            )
            self._reply(500, "", worker=self.worker)
        elif phase == DENYING and self._deny_framing != -2:
            logger.warning(
                "aborting the denial of WebSocket %s from %s: the app ended mid-response",
                short_target(self._target),
                self.peer,
            )
            self._abort()
        elif phase == OPEN:
            if outcome != Outcome.RAISED:
                code = 1000
            else:  # 1012: cut short by a restarting (draining) worker
                link = self._link
                code = 1012 if link is not None and link.draining else 1011
            self._start_closing(code, "")
        elif phase == FAILING:
            self._fail_now()

    def on_worker_lost(self) -> None:
        self._scope_live = False
        phase = self._phase
        if phase == HANDSHAKE:
            self._cancel_timer()
            logger.error(
                "502: worker %s went away during the WebSocket handshake %s from %s",
                self.worker,
                short_target(self._target),
                self.peer,
            )
            self._reply(502, "the worker serving this request went away", worker=self.worker)
        elif phase == DENYING and self._deny_framing != -2:
            self._abort()
        elif phase == OPEN:
            link = self._link
            draining = link is not None and link.draining
            logger.warning(
                "closing WebSocket %s from %s: worker %s went away",
                short_target(self._target),
                self.peer,
                self.worker,
            )
            self._start_closing(1012 if draining else 1011, "")
        elif phase == FAILING:
            self._fail_now()
