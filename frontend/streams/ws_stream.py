"""One ``websocket`` scope, from the validated handshake to the closed connection.

A :class:`WSStream` is the link's handler of its scope
(:class:`~..link.handlers.WSScopeHandler`) and owns everything about it that
does not depend on the HTTP version: opening (:func:`~.opening.open_scope`),
the app's accept / denial / close, RFC 6455 frames both ways (the codec and
the client's input within the request window are in
:class:`~.ws_input.WSInput`), the closing handshake, keepalive pings, failure
for a protocol violation, shutdown, and the access log. Bytes go through its
:class:`~.interfaces.WSWriter` (HTTP/1.1: the socket after ``101``; HTTP/2:
an extended-CONNECT stream, RFC 8441).

The phase (``phase``, written only here, only moves forward)::

    WAITING    validated; waiting for a worker
    HANDSHAKE  scope OPENed; the app decides (--ws-handshake-timeout)
    DENYING    the app answers with an HTTP response (websocket.http.response)
    OPEN       accepted; messages flow both ways
    FAILING    the client broke the protocol; what preceded it is being
               delivered and answered before the close frame goes out
    CLOSING    our close frame is out; waiting for the client's (--ws-close-timeout)
    DONE       the connection is closing or closed

Invariants:

* The handshake's success is written only on WS_ACCEPT; any answer before it
  (front errors, 403 for WS_CLOSE, the app's own response) ends the stream.
* ``link`` is set while the scope is live on the worker (OPEN until END, the
  worker's loss or our WS_DISCONNECT); the worker hears that the connection
  is over exactly once, with ``WS_DISCONNECT(code, reason)``, never while
  message pieces still wait for window (it is deferred until they are
  forwarded), and never after the scope ended.
* At most one timer is armed (``_timer``: handshake, failure grace or close),
  plus the keepalive's own; entering DONE cancels both.
* WS_SEND data is credited back once written, or when the writer stops being
  ``paused`` if it was.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from pagi.protocol import reasons
from pagi.protocol.kinds import RAISED

from ..access_log import log_access
from ..access_log import short_target as _short
from ..websocket.codec import WSCodec
from ..websocket.deflate import BoundedDeflate, negotiate
from ..websocket.keepalive import Keepalive, PingPolicy
from .opening import open_scope
from .outcome import ENDED_STATUS, LOST_STATUS, WORKER_LOST, log_failure, unanswered
from .ws_input import WSInput
from .ws_phase import CLOSING, DENYING, DONE, FAILING, HANDSHAKE, OPEN, WAITING

if TYPE_CHECKING:
    from ..link.handle import LinkHandle
    from .interfaces import ExtraHeaders, Headers, StreamHost, WSWriter

logger = logging.getLogger("pagi.front")


#: The reasons the app hears when the front ends a handshake it did not accept.
DENIED = "x-denied"
HANDSHAKE_TIMEOUT = "x-handshake-timeout"
#: After a violation, how long the app gets to answer the messages that
#: preceded it (once it has consumed them) before the close frame goes out.
FAIL_GRACE = 0.05


class WSStream:
    """One WebSocket; the scope handler of its ``websocket`` scope."""

    __slots__ = (
        "_deny",
        "_deny_status",
        "_disconnect_pending",
        "_fail",
        "_pending",
        "_pings",
        "_timer",
        "accepted_at",
        "body_bytes",
        "close_code",
        "conn",
        "deflate",
        "http_version",
        "input",
        "link",
        "phase",
        "shutting_down",
        "sid",
        "started_at",
        "subprotocols",
        "target",
        "ungranted",
        "waiter",
        "worker",
        "writer",
    )

    def __init__(
        self, conn: StreamHost, writer: WSWriter, target: bytes, http_version: str, now: float
    ) -> None:
        self.conn = conn
        self.writer = writer
        self.target = target
        self.http_version = http_version
        self.started_at = now
        self.accepted_at = 0.0
        self.phase = WAITING
        self.worker = "-"
        self.link: LinkHandle | None = None
        self.sid = 0
        self.waiter: asyncio.Task[None] | None = None
        self.subprotocols: list[str] = []
        self.deflate: tuple[bytes, BoundedDeflate] | None = None
        self.input = WSInput(self)
        self.shutting_down = False
        self.ungranted = 0
        self.close_code = 1006  # the code that ended the connection (access log)
        self.body_bytes = 0  # denial body / message bytes written (access log)
        self._pending: tuple[bytes, bytes, Any] | None = None
        self._deny: tuple[int, Headers] | None = None  # a denial head not yet written
        self._deny_status = 0
        self._disconnect_pending: tuple[int, str] | None = None
        self._fail: tuple[int, str] | None = None
        config = conn.ctx.config
        self._pings = PingPolicy(
            self._new_keepalive, config.ws_ping_interval, config.ws_ping_timeout
        )
        self._timer: asyncio.TimerHandle | None = None

    def __repr__(self) -> str:
        return f"<WSStream sid={self.sid} phase={self.phase}>"

    @property
    def failing(self) -> bool:
        return self._fail is not None

    # --- opening ---------------------------------------------------------------

    def start(
        self, raw_path: bytes, query: bytes, headers: Any, subprotocols: list[str], offers: Any
    ) -> None:
        """A valid handshake: negotiate deflate, open the scope (now or once a worker is ready)."""
        if self.conn.ctx.shutting_down:
            self.reply(503, "the server is shutting down", ())
            return
        config = self.conn.ctx.config
        if config.ws_per_message_deflate and offers:
            self.deflate = negotiate(offers, config.ws_max_size)
        self.subprotocols = subprotocols
        self._pending = (raw_path, query, headers)
        self.update_reading()
        open_scope(self)

    def waiting(self) -> bool:
        return self.phase == WAITING

    def label(self) -> str:
        return f"WebSocket {_short(self.target)}"

    def open(self, link: LinkHandle) -> None:
        pending = self._pending
        assert pending is not None
        self._pending = None
        raw_path, query, headers = pending
        conn = self.conn
        config = conn.ctx.config
        self.link = link
        self.worker = link.name
        self.phase = HANDSHAKE
        self.input.start(link.request_window, config.ws_max_queue)
        self._timer = conn.loop.call_later(config.ws_handshake_timeout, self._handshake_expired)
        self.sid = link.open_websocket(
            self,
            self.http_version,
            "wss" if conn.scheme == "https" else "ws",
            raw_path,
            query,
            headers,
            conn.client,
            conn.server,
            {"subprotocols": self.subprotocols},
        )

    def opened_late(self) -> None:
        pass

    def abort_wait(self) -> None:
        self.abort_now()

    # --- events from the worker ----------------------------------------------------

    def on_ws_accept(self, subprotocol: str | None, headers: Headers) -> None:
        if self.phase != HANDSHAKE:
            return
        self._cancel_timer()
        deflate = self.deflate
        self.writer.accept(subprotocol, deflate[0] if deflate else None, headers)
        self.phase = OPEN
        self.accepted_at = self.conn.loop.time()
        config = self.conn.ctx.config
        self.input.codec = WSCodec(config.ws_max_size, deflate[1] if deflate else None)
        self._log(101)
        self._pings.opened()
        if self.shutting_down:
            self.disconnect(1006, reasons.SERVER_SHUTDOWN)
            self.start_closing(1001, "")
            return
        self.input.drain()  # what the client sent before the accept, if anything

    def on_ws_send(self, data: str | bytes, more: bool) -> None:
        n = len(data)
        if self.phase == OPEN or self.phase == FAILING:
            codec = self.input.codec
            assert codec is not None
            self.writer.send(codec.message(data, more))
            self.body_bytes += n
        link = self.link
        if not n or link is None:
            return
        if self.writer.paused:
            self.ungranted += n
        else:
            link.grant(self.sid, n)

    def on_ws_close(self, code: int, reason: str) -> None:
        phase = self.phase
        if phase == HANDSHAKE:
            self._cancel_timer()
            logger.info(
                "403 to %s for %s: the app closed before accepting", self.conn.peer, self.label()
            )
            self.disconnect(1006, DENIED)
            self.reply(403, "the application refused the WebSocket", ())
        elif phase == OPEN:
            self.start_closing(code, reason)
        elif phase == FAILING:
            self.fail_now()

    def on_ws_keepalive(self, interval: float, timeout: float | None) -> None:
        self._pings.app_wants(interval, timeout)

    def on_request_credit(self, nbytes: int) -> None:
        flow = self.input.flow
        if flow is None:
            return
        flow.credit(nbytes)
        pending = self._disconnect_pending
        if pending is not None and not flow.has_pending:
            self._disconnect_pending = None
            self.disconnect(*pending)
        if self.phase == FAILING:
            self.check_fail()
        elif self.phase == OPEN and not flow.blocked:
            self.input.resume()

    def on_response_start(self, status: int, headers: Headers, trailers: bool) -> None:
        """The app denies the handshake with an HTTP response (websocket.http.response)."""
        if self.phase != HANDSHAKE:
            return
        self._cancel_timer()
        self.phase = DENYING
        self._deny = (status, headers)
        self.conn.loop.call_soon(self._flush_denial_head)

    def on_response_body(self, body: bytes, more: bool) -> None:
        if self.phase != DENYING:
            return
        if self._deny is not None and not self._denial_head(None if more else len(body), not more):
            return
        writer = self.writer
        self.body_bytes += writer.data(body, not more)
        if not more:
            self._log(self._deny_status)
            self.disconnect(1006, DENIED)
            self._end_http()
            return
        link = self.link
        if body and link is not None:
            if writer.paused:
                self.ungranted += len(body)
            else:
                link.grant(self.sid, len(body))

    def on_end(self, outcome: int, response_started: bool, detail: str) -> None:
        link, self.link = self.link, None
        draining = link is not None and link.draining
        if self.phase == HANDSHAKE:
            self._unanswered(ENDED_STATUS, unanswered(outcome, detail, "accepting or denying"))
        elif self.phase == OPEN:
            # 1012: cut short by a restarting (draining) worker
            code = 1000 if outcome != RAISED else 1012 if draining else 1011
            self.start_closing(code, "")
        else:
            self._ended_elsewhere("the app ended mid-response")

    def on_worker_lost(self) -> None:
        link, self.link = self.link, None
        if self.phase == HANDSHAKE:
            self._unanswered(LOST_STATUS, f"worker {self.worker} went away during the handshake")
        elif self.phase == OPEN:
            logger.warning(
                "closing %s from %s: worker %s went away", self.label(), self.conn.peer, self.worker
            )
            self.start_closing(1012 if link is not None and link.draining else 1011, "")
        else:
            self._ended_elsewhere("its worker went away")

    def on_writable(self) -> None:
        ungranted = self.ungranted
        if ungranted:
            self.ungranted = 0
            link = self.link
            if link is not None:
                link.grant(self.sid, ungranted)

    # --- events from the client connection ---------------------------------------------

    def receive(self, data: bytes) -> None:
        """Bytes from the client (frames after the accept; early bytes before it)."""
        self.input.take(data)

    def client_eof(self) -> None:
        if self.phase == CLOSING and self._fail is not None:
            self.finish()  # the client read our close frame and went away: a clean end
        else:
            self.client_gone()

    def client_lost(self) -> None:
        self.client_gone()
        if self.waiter is not None:
            self.waiter.cancel()
            self.waiter = None
        if self.accepted_at:
            self._log(101, self.close_code)

    def client_gone(self) -> None:
        """The connection ended (EOF, error, reset) before the WebSocket ended."""
        phase = self.phase
        if phase == DONE:
            return
        logger.debug("%s went away without a closing handshake", self.conn.peer)
        if self._fail is None:
            self.close_code = 1006
        self.disconnect(1006, reasons.CLIENT_CLOSED)
        if phase in (WAITING, HANDSHAKE):
            self._log(499)
        self.finish()

    def shutdown(self) -> None:
        """Close 1001 to the client now; the app hears 1006 ``server_shutdown``.

        A handshake still waiting for a worker gets 503; one the app is
        deciding on is closed right after its accept (or answered as the app
        denies it).
        """
        self.shutting_down = True
        if self.phase == WAITING:
            self.reply(503, "the server is shutting down", ())
        elif self.phase == OPEN:
            self.disconnect(1006, reasons.SERVER_SHUTDOWN)
            self.start_closing(1001, "")

    def abort(self, reason: str) -> None:
        """Reset the connection at once; the app hears 1006 ``reason``."""
        self.disconnect(1006, reason, defer=False)
        self.abort_now()

    # --- the front's own answers ----------------------------------------------------

    def reply(self, status: int, message: str, extra: ExtraHeaders) -> None:
        """Answer the handshake with a response of the front's own, then close."""
        self.body_bytes = self.writer.reply(status, message, extra)
        self._log(status)
        self._end_http()

    def _unanswered(self, status: int, why: str) -> None:
        """The scope ended before the app accepted or denied: ``status`` instead."""
        self._cancel_timer()
        log_failure(status, why, self.worker, self.label(), self.conn.peer)
        self.reply(status, "" if status == ENDED_STATUS else WORKER_LOST, ())

    def _ended_elsewhere(self, why: str) -> None:
        if self.phase == DENYING:
            logger.warning(
                "aborting the denial of %s from %s: %s", self.label(), self.conn.peer, why
            )
            self.abort_now()
        elif self.phase == FAILING:
            self.fail_now()

    def _handshake_expired(self) -> None:
        self._timer = None
        if self.phase != HANDSHAKE:
            return
        timeout = self.conn.ctx.config.ws_handshake_timeout
        logger.warning(
            "504: the app did not accept or deny %s from %s within %gs (worker %s)",
            self.label(),
            self.conn.peer,
            timeout,
            self.worker,
        )
        self.disconnect(1006, HANDSHAKE_TIMEOUT)
        self.reply(504, "the application did not answer the WebSocket handshake in time", ())

    def _flush_denial_head(self) -> None:
        if self.phase == DENYING and self._deny is not None and self._denial_head(None, False):
            self.writer.flush()

    def _denial_head(self, length: int | None, final: bool) -> bool:
        assert self._deny is not None
        status, headers = self._deny
        self._deny = None
        self._deny_status = status
        why = self.writer.respond(status, headers, False, length, final)
        if why is None:
            return True
        log_failure(500, why, self.worker, self.label(), self.conn.peer)
        self.disconnect(1006, reasons.SERVER_ERROR)
        self.reply(500, "", ())
        return False

    # --- closing --------------------------------------------------------------------

    def disconnect(self, code: int, reason: str, *, defer: bool = True) -> None:
        """Tell the worker the connection is over (once; after queued pieces)."""
        link = self.link
        if link is None:
            return
        if defer and self.input.has_pending():
            if self._disconnect_pending is None:
                self._disconnect_pending = (code, reason)
            return
        self.link = None
        self._disconnect_pending = None
        link.ws_disconnect(self.sid, code, reason)

    def start_closing(self, code: int, reason: str) -> None:
        """Send our close frame and wait for the client's (at most --ws-close-timeout)."""
        if self.phase >= CLOSING:
            return
        codec = self.input.codec
        assert codec is not None
        if self._fail is None:
            self.close_code = code
        self.phase = CLOSING
        self._pings.stop()
        self.writer.send(codec.close(code, reason))
        self._cancel_timer()
        config = self.conn.ctx.config
        self._timer = self.conn.loop.call_later(config.ws_close_timeout, self._close_expired)
        if self._fail is None:
            self.input.await_close_reply()  # bytes left undecoded while the window was full
        self.update_reading()

    def client_closed(self, code: int, reason: str) -> None:
        """The client started the closing handshake: answer it and close."""
        self.close_code = code
        codec = self.input.codec
        assert codec is not None
        self.writer.send(codec.close(code))
        self.disconnect(code, reason)
        self.finish()

    def close_reply(self, code: int, reason: str) -> None:
        """The client's close frame answering ours: the handshake is complete."""
        if self._fail is None:
            self.close_code = code
            self.disconnect(code, reason)
        self.finish()

    def _close_expired(self) -> None:
        self._timer = None
        if self.phase == CLOSING:
            logger.debug("%s did not answer our close frame in time", self.conn.peer)
            self.disconnect(1006, reasons.CLIENT_TIMEOUT)
            self.abort_now()

    def protocol_failure(self, code: int, reason: str) -> None:
        """The client broke the protocol (``code`` 1002/1007/1008/1009)."""
        if self._fail is not None:
            return
        logger.info("%s WebSocket failed: %d %s", self.conn.peer, code, reason)
        self._fail = (code, reason)
        self.close_code = code
        self.phase = FAILING
        self._pings.stop()
        flow = self.input.flow
        assert flow is not None
        flow.drop_partial()
        self.update_reading()
        link = self.link
        if code == 1008 or link is None:
            self.fail_now()
            return
        self._cancel_timer()
        config = self.conn.ctx.config
        self._timer = self.conn.loop.call_later(config.ws_close_timeout, self.fail_now)
        if not flow.all_consumed:
            # The worker returns credit in batches; we need it per message now.
            link.ws_return_credit(self.sid)
        self.check_fail()

    def check_fail(self) -> None:
        """While FAILING: once the app consumed what preceded the violation, allow
        it :data:`FAIL_GRACE` to answer, then fail."""
        flow = self.input.flow
        if self.phase == FAILING and flow is not None and flow.all_consumed:
            self._cancel_timer()
            self._timer = self.conn.loop.call_later(FAIL_GRACE, self.fail_now)

    def fail_now(self) -> None:
        self._timer = None
        if self.phase != FAILING or self._fail is None:
            return
        code, reason = self._fail
        self.disconnect(code, reason)
        self.start_closing(code, "")
        # Half-close: the client reads our close frame, answers, and closes;
        # nothing it sends now is read (the codec is out of step after a
        # framing error), so its close frame is not awaited.
        if not self.writer.half_close():
            self.abort_now()

    def finish(self) -> None:
        """Close the connection after what was written."""
        self._enter_done()
        self.writer.close()

    def abort_now(self) -> None:
        self._enter_done()
        self.writer.abort()

    def _end_http(self) -> None:
        """After an HTTP answer: the writer drains the input and closes (bounded)."""
        self._enter_done()
        self.writer.end()

    def _enter_done(self) -> None:
        self.phase = DONE
        self._cancel_timer()
        self._pings.stop()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    # --- keepalive and reading ----------------------------------------------------

    def _new_keepalive(self) -> Keepalive:
        return Keepalive(self.conn.loop, self._send_ping, self._keepalive_timeout, self._is_reading)

    def _send_ping(self, payload: bytes) -> None:
        codec = self.input.codec
        if codec is not None and self.phase == OPEN:
            self.writer.send(codec.ping(payload))

    def _is_reading(self) -> bool:
        return not self.writer.input_paused

    def pong(self) -> None:
        self._pings.pong()

    def _keepalive_timeout(self) -> None:
        if self.phase != OPEN:
            return
        logger.info("%s WebSocket keepalive timeout: no pong", self.conn.peer)
        self.close_code = 1006
        self.disconnect(1006, reasons.KEEPALIVE_TIMEOUT, defer=False)
        self.abort_now()

    def update_reading(self) -> None:
        """Pause the client's input exactly when this phase calls for it."""
        phase = self.phase
        if phase == OPEN:
            pause = self.input.backed_up()
        elif phase <= HANDSHAKE:
            pause = self.input.early_overflow()
        else:
            pause = phase == FAILING
        if pause != self.writer.input_paused:
            if pause:
                self.writer.pause_input()
            else:
                self.writer.resume_input()

    # --- access log ---------------------------------------------------------------

    def _log(self, status: int, close_code: int | None = None) -> None:
        body = 0 if status == 101 and close_code is None else self.body_bytes
        duration = self.conn.loop.time() - self.started_at
        args = (self.conn.peer, "GET", self.target, self.http_version, status, body, duration)
        log_access(*args, self.worker, close_code)
