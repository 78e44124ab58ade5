"""The state, socket I/O, timers and closing of a WebSocket connection.

:class:`WSLifetime` is the base of :class:`~.websocket.WebSocketConnection`
(with :class:`~.ws_answers.WSAnswers` in between): it holds the state every
layer shares and decides how the connection reads, writes, pings, closes and
logs. The phases (``_phase`` only moves forward)::

    WAITING    validated; waiting for a worker (pool.wait)
    HANDSHAKE  scope OPENed; the app decides (--ws-handshake-timeout)
    DENYING    the app answers with an HTTP response (websocket.http.response)
    OPEN       101 sent; messages flow both ways
    FAILING    the client broke the protocol; what preceded it is being
               delivered and answered before the close frame goes out
    CLOSING    our close frame is out; waiting for the client's (--ws-close-timeout)
    DONE       the socket is closing or closed

Invariants:

* At most one timer is armed (``_timer``: handshake, failure grace, close or
  linger), plus the keepalive's own; every transition to DONE cancels both.
* Reading is paused exactly when :meth:`_update_reading` last said so: while
  OPEN, when the worker's window is used up or undecoded input waits; before
  the 101, when more than :data:`PRE_ACCEPT_LIMIT` bytes came early; while
  FAILING. After our close frame the input is read to find the client's.
* ``WS_DISCONNECT`` goes to the worker at most once (:meth:`_disconnect`),
  never while message pieces still wait for window (it is deferred until
  they are forwarded), and never after the scope ended.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from pagi.protocol import reasons

from ..access_log import access_enabled, access_logger, format_access_line, log_access
from ..context import FrontContext
from ..http1.parser import RequestHead
from .codec import CLOSE, FAIL, WSCodec
from .deflate import BoundedDeflate
from .handshake import Handshake
from .inbound import InboundFlow
from .keepalive import Keepalive

if TYPE_CHECKING:
    from ..link.worker_link import WorkerLink

logger = logging.getLogger("pagi.front")

#: Client bytes accepted before the 101 (a client should wait for it); above
#: this the socket is not read until the app answers.
PRE_ACCEPT_LIMIT = 64 * 1024
#: How long the input is drained after an HTTP answer before closing.
LINGER_TIMEOUT = 2.0

WAITING, HANDSHAKE, DENYING, OPEN, FAILING, CLOSING, DONE = range(7)


class WSLifetime(asyncio.Protocol):
    """Shared state, I/O, keepalive, closing and logging of one WebSocket connection."""

    __slots__ = (
        "_accepted_at",
        "_body_bytes",
        "_close_code",
        "_codec",
        "_ctx",
        "_deflate",
        "_deny_framing",
        "_deny_headers",
        "_deny_length",
        "_deny_status",
        "_disconnect_pending",
        "_fail",
        "_flow",
        "_handshake",
        "_head",
        "_input",
        "_keepalive",
        "_keepalive_wanted",
        "_link",
        "_phase",
        "_read_paused",
        "_scope_live",
        "_sid",
        "_started_at",
        "_target",
        "_timer",
        "_transport",
        "_ungranted",
        "_waiter",
        "_write_paused",
        "client",
        "config",
        "loop",
        "peer",
        "server",
        "shutting_down",
        "worker",
    )

    def __init__(
        self,
        ctx: FrontContext,
        transport: asyncio.Transport,
        head: RequestHead,
        buffered: bytes,
        client: list[Any] | None,
        server: list[Any] | None,
        peer: str,
        started_at: float,
    ) -> None:
        self._ctx = ctx
        self.config = ctx.config
        self.loop = asyncio.get_running_loop()
        self._transport = transport
        self._head: RequestHead | None = head  # dropped once the scope is opened
        self._target = head.target
        self._input = bytearray(buffered)  # client bytes not decoded yet (early, or no window)
        self.client = client
        self.server = server
        self.peer = peer
        self._started_at = started_at
        self._accepted_at = 0.0
        self._phase = WAITING
        self.worker = "-"
        self._link: WorkerLink | None = None
        self._sid = 0
        self._scope_live = False  # OPEN sent; no END, no worker loss, no WS_DISCONNECT yet
        self._disconnect_pending: tuple[int, str] | None = None
        self._waiter: asyncio.Task[None] | None = None
        self._handshake: Handshake | None = None
        self._deflate: tuple[bytes, BoundedDeflate] | None = None
        self._codec: WSCodec | None = None
        self._flow: InboundFlow | None = None
        self._keepalive: Keepalive | None = None
        self._keepalive_wanted: tuple[float, float] | None = None
        self._read_paused = False  # as the transport is now (take_over sets it)
        self._write_paused = False
        self._ungranted = 0
        self._timer: asyncio.TimerHandle | None = None
        self._fail: tuple[int, str] | None = None
        self._close_code = 1006  # the code that ended the connection (access log)
        self._body_bytes = 0  # denial body / message bytes written (access log)
        self._deny_status = 0
        self._deny_headers: list[list[bytes]] = []
        self._deny_framing = -1  # set once the denial head is written
        self._deny_length: int | None = None
        self.shutting_down = False

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.peer} phase={self._phase} sid={self._sid}>"

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        ungranted = self._ungranted
        if ungranted:
            self._ungranted = 0
            link = self._link
            if link is not None and self._scope_live:
                link.grant(self._sid, ungranted)

    # --- closing ------------------------------------------------------------------------

    def _start_closing(self, code: int, reason: str) -> None:
        """Send our close frame and wait for the client's (at most --ws-close-timeout)."""
        if self._phase >= CLOSING:
            return
        codec = self._codec
        assert codec is not None
        if self._fail is None:
            self._close_code = code
        self._phase = CLOSING
        if self._keepalive is not None:
            self._keepalive.stop()
        self._write(codec.close(code, reason))
        self._cancel_timer()
        self._timer = self.loop.call_later(self.config.ws_close_timeout, self._close_expired)
        if self._fail is None:
            self._await_close_reply()  # bytes left undecoded while the window was full
        self._update_reading()

    def _await_close_reply(self) -> None:
        """While CLOSING: look for the client's close frame in what it sent
        (its data frames are dropped; a violation just ends the connection)."""
        codec = self._codec
        if codec is None or not self._input:
            return
        data = bytes(self._input)
        self._input.clear()
        for event in codec.receive(data):
            if event[0] == CLOSE:
                self._client_close_reply(event[1], event[2])
                return
            if event[0] == FAIL:
                self._finish()
                return

    def _close_expired(self) -> None:
        self._timer = None
        if self._phase == CLOSING:
            logger.debug("%s did not answer our close frame in time", self.peer)
            self._disconnect(1006, reasons.CLIENT_TIMEOUT)
            self._abort()

    def _disconnect(self, code: int, reason: str, *, defer: bool = True) -> None:
        """Tell the worker the connection is over (once; after queued pieces)."""
        if not self._scope_live:
            return
        flow = self._flow
        if defer and flow is not None and flow.has_pending:
            if self._disconnect_pending is None:
                self._disconnect_pending = (code, reason)
            return
        self._scope_live = False
        self._disconnect_pending = None
        link = self._link
        if link is not None:
            link.ws_disconnect(self._sid, code, reason)

    def _client_close_reply(self, code: int, reason: str) -> None:
        """The client's close frame answering ours: the handshake is complete."""
        if self._fail is None:
            self._close_code = code
            self._disconnect(code, reason)
        self._finish()

    def _linger(self) -> None:
        """After an HTTP answer: half-close, drain the input, close (bounded)."""
        self._phase = DONE
        self._cancel_timer()
        if self._keepalive is not None:
            self._keepalive.stop()
        transport = self._transport
        if transport.is_closing():
            return
        if not transport.can_write_eof():
            transport.close()
            return
        try:
            transport.write_eof()
        except (OSError, RuntimeError):
            transport.close()
            return
        if self._read_paused:
            self._read_paused = False
            transport.resume_reading()
        self._timer = self.loop.call_later(LINGER_TIMEOUT, transport.close)

    def _finish(self) -> None:
        """Close the socket after what was written (the server closes TCP first)."""
        self._phase = DONE
        self._cancel_timer()
        if self._keepalive is not None:
            self._keepalive.stop()
        self._transport.close()

    def _abort(self) -> None:
        self._phase = DONE
        self._cancel_timer()
        if self._keepalive is not None:
            self._keepalive.stop()
        self._transport.abort()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    # --- keepalive ------------------------------------------------------------------

    def _configure_keepalive(self, interval: float, timeout: float) -> None:
        keepalive = self._keepalive
        if keepalive is None:
            if interval <= 0:
                return
            keepalive = self._keepalive = Keepalive(
                self.loop, self._send_ping, self._keepalive_timeout, self._is_reading
            )
        keepalive.configure(interval, timeout)

    def _send_ping(self, payload: bytes) -> None:
        codec = self._codec
        if codec is not None and self._phase == OPEN:
            self._write(codec.ping(payload))

    def _is_reading(self) -> bool:
        return not self._read_paused

    def _keepalive_timeout(self) -> None:
        if self._phase != OPEN:
            return
        logger.info("%s WebSocket keepalive timeout: no pong", self.peer)
        self._close_code = 1006
        self._disconnect(1006, reasons.KEEPALIVE_TIMEOUT, defer=False)
        self._abort()

    # --- I/O helpers --------------------------------------------------------------

    def _write(self, data: bytes | bytearray) -> None:
        transport = self._transport
        if not transport.is_closing():
            transport.write(data)

    def _update_reading(self) -> None:
        phase = self._phase
        if phase == OPEN:
            flow = self._flow
            pause = bool(self._input) or (flow is not None and flow.blocked)
        elif phase in (WAITING, HANDSHAKE):
            pause = len(self._input) > PRE_ACCEPT_LIMIT
        else:
            pause = phase == FAILING
        if pause == self._read_paused:
            return
        transport = self._transport
        if transport.is_closing():
            return
        self._read_paused = pause
        if pause:
            transport.pause_reading()
        else:
            transport.resume_reading()

    # --- access log ---------------------------------------------------------------

    def _log(self, status: int) -> None:
        log_access(
            self.peer,
            "GET",
            self._target,
            "1.1",
            status,
            0 if status == 101 else self._body_bytes,
            self.loop.time() - self._started_at,
            self.worker,
        )

    def _log_end(self) -> None:
        if access_enabled():
            line = format_access_line(
                self.peer,
                "GET",
                self._target,
                "1.1",
                101,
                self._body_bytes,
                self.loop.time() - self._started_at,
                self.worker,
            )
            access_logger.info("%s close=%d", line, self._close_code)
