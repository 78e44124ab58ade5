"""One ``websocket`` scope, from the validated handshake to the closed connection.

A :class:`WSStream` is the link's handler of its scope
(:class:`~..link.handlers.WSScopeHandler`) and owns what does not depend on
the HTTP version: opening (:func:`~.opening.open_scope`, every OPEN built by
its :class:`~.ws_request.WSRequest`), the app's accept or denial, the
worker's credit, END and loss, shutdown and the access log. After the accept
its :class:`~.ws_channel.WSChannel` speaks RFC 6455 with the client and
:class:`~.ws_input.WSInput` decodes the client's frames within the window.
Bytes go through the :class:`~.interfaces.WSWriter` (HTTP/1.1: the socket
after ``101``; HTTP/2: an extended-CONNECT stream, RFC 8441). The abnormal
ends are decided in :mod:`.ws_ending`, the access line is built by
:func:`~.access_record.log_ws` and a move to another worker is run by
:class:`~.ws_move.WSMove`, all through the methods here; this class keeps the
per-event path and the state. ``phase`` (:mod:`.ws_phase`) is written only
here and only moves forward.

Invariants:

* The handshake's success is written only on WS_ACCEPT; any answer before it
  (front errors, 403 for WS_CLOSE, the app's own response) ends the stream.
* ``link`` is set while the scope is live on the worker (OPEN until END, the
  worker's loss or our WS_DISCONNECT); the worker hears that the connection
  is over exactly once, with ``WS_DISCONNECT(code, reason)``, never while
  message pieces still wait for window (it is deferred until they are
  forwarded), and never after the scope ended.
* The handshake timer runs only during HANDSHAKE.
* WS_SEND data is credited back once written, or when the writer stops being
  ``paused`` if it was.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from ..access_log import short_target as _short
from ..websocket.codec import WSCodec
from ..websocket.keepalive import PingPolicy
from . import ws_ending
from .access_record import log_ws
from .opening import RETRY_AFTER, open_scope
from .ws_channel import WSChannel
from .ws_denial import WSDenial
from .ws_input import WSInput
from .ws_move import WSMove
from .ws_phase import CLOSING, DENYING, DONE, HANDSHAKE, OPEN, WAITING
from .ws_request import WSRequest

if TYPE_CHECKING:
    from ..link.handle import Headers as RequestHeaders
    from ..link.handle import LinkHandle
    from .interfaces import ExtraHeaders, Headers, StreamHost, WSWriter


class WSStream:
    """One WebSocket; the scope handler of its ``websocket`` scope."""

    __slots__ = (
        "_disconnect_pending",
        "_timer",
        "accepted_at",
        "body_bytes",
        "channel",
        "conn",
        "denial",
        "http_version",
        "input",
        "link",
        "move",
        "phase",
        "pings",
        "request",
        "shutting_down",
        "sid",
        "started_at",
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
        self.request: WSRequest | None = None  # the handshake, from start() on
        self.input = WSInput(self)
        self.shutting_down = False
        self.ungranted = 0
        self.channel: WSChannel | None = None  # from the accept on
        self.move: WSMove | None = None  # the app let the connection move (WS_RESUMABLE)
        self.body_bytes = 0  # denial body / message bytes written (access log)
        self.denial: WSDenial | None = None  # the app's HTTP response refusing the handshake
        self._disconnect_pending: tuple[int, str] | None = None
        config = conn.ctx.config
        self.pings = PingPolicy(config.ws_ping_interval, config.ws_ping_timeout)
        self._timer: asyncio.TimerHandle | None = None

    def __repr__(self) -> str:
        return f"<WSStream sid={self.sid} phase={self.phase}>"

    @property
    def done(self) -> bool:
        channel = self.channel
        return self.phase == DONE or (channel is not None and channel.state == DONE)

    # --- opening ---------------------------------------------------------------

    def start(
        self,
        raw_path: bytes,
        query: bytes,
        headers: RequestHeaders,
        subprotocols: list[str],
        offers: list[bytes],
    ) -> None:
        """A valid handshake: negotiate deflate, open the scope (now or once a worker is ready)."""
        if self.conn.ctx.shutting_down:
            self.reply(503, "the server is shutting down", RETRY_AFTER)
            return
        target = (raw_path, query, self.http_version)
        self.request = WSRequest(self.conn.ctx.config, target, headers, subprotocols, offers)
        self.input.update_reading()
        open_scope(self)

    def waiting(self) -> bool:
        return self.phase == WAITING

    def label(self) -> str:
        return f"WebSocket {_short(self.target)}"

    def open(self, link: LinkHandle) -> None:
        conn = self.conn
        config = conn.ctx.config
        self.phase = HANDSHAKE
        self.input.start(link.request_window, config.ws_max_queue)
        self._timer = conn.loop.call_later(config.ws_handshake_timeout, self._handshake_expired)
        self._open_on(link, {"attempt": 0, "state": None}, [])

    def reopen(self, link: LinkHandle, ext: dict[str, Any], groups: list[str]) -> None:
        """OPEN the scope again on ``link`` for the connection under way (:class:`WSMove`)."""
        self.ungranted = 0  # owed to the old scope
        self._open_on(link, ext, groups)

    def _open_on(self, link: LinkHandle, ext: dict[str, Any], groups: list[str]) -> None:
        request = self.request
        assert request is not None  # from start() on
        self.link = link
        self.worker = link.name
        self.sid = link.open_websocket(self, request.open_fields(self.conn, ext, groups))

    def wait(self, task: asyncio.Task[None] | None) -> None:
        """``task`` waits for a worker for this stream (None: the wait is over)."""
        self.waiter = task

    def opened_late(self) -> None:
        pass

    def abort_wait(self) -> None:
        self.reset()

    # --- events from the worker ----------------------------------------------------

    def on_ws_accept(self, subprotocol: str | None, headers: Headers) -> None:
        if self.phase != HANDSHAKE:
            if self.move is not None:
                self.move.accepted()  # a moved scope's accept: swallowed
            return
        self.cancel_timer()
        assert self.request is not None  # OPENed
        deflate = self.request.deflate
        refused = self.writer.accept(subprotocol, deflate[0] if deflate else None, headers)
        if refused is not None:
            ws_ending.head_refused(self, refused)
            return
        self.phase = OPEN
        self.accepted_at = self.conn.loop.time()
        config = self.conn.ctx.config
        codec = WSCodec(config.ws_max_size, deflate[1] if deflate else None)
        channel = self.channel = WSChannel(self, codec)
        self.input.accepted(channel)
        self.pings.opened(channel.new_keepalive)
        if self.shutting_down:
            channel.shutdown()
            return
        self.input.drain()  # what the client sent before the accept, if anything

    def on_ws_send(self, data: str | bytes, more: bool) -> None:
        n = len(data)
        channel = self.channel
        if channel is not None and channel.send_message(data, more):
            self.body_bytes += n
        if n:
            self.written(n)

    def on_ws_close(self, code: int, reason: str) -> None:
        if self.phase == HANDSHAKE:
            ws_ending.closed_before_accept(self)
        elif self.channel is not None:
            self.channel.app_close(code, reason)

    def on_ws_keepalive(self, interval: float, timeout: float | None) -> None:
        self.pings.app_wants(interval, timeout)

    def on_ws_resumable(self) -> None:
        if self.channel is not None and self.move is None:
            self.move = WSMove(self)

    def on_ws_resume_state(self, state: bytes) -> None:
        if self.move is not None:
            self.move.keep_state(state)

    def on_worker_draining(self) -> None:
        if self.move is not None:
            self.move.worker_draining()

    def on_request_credit(self, nbytes: int) -> None:
        flow = self.input.flow
        if flow is None or (self.move is not None and self.move.holding):
            return  # a moving scope's credit is the old worker's
        flow.credit(nbytes)
        pending = self._disconnect_pending
        if pending is not None and not flow.has_pending:
            self._disconnect_pending = None
            self.disconnect(*pending)
        if self.channel is not None:
            self.channel.credited()

    def on_response_start(self, status: int, headers: Headers, trailers: bool) -> None:
        """The app denies the handshake with an HTTP response (websocket.http.response)."""
        if self.phase != HANDSHAKE:
            return
        self.cancel_timer()
        self.phase = DENYING
        self.denial = WSDenial(self, status, headers)

    def on_response_body(self, body: bytes, more: bool) -> None:
        if self.phase == DENYING and self.denial is not None:
            self.denial.body(body, more)

    def write_body(self, data: bytes, last: bool) -> None:
        """A piece of an HTTP answer's body (the app's denial)."""
        self.body_bytes += self.writer.data(data, last)

    def on_end(self, outcome: int, response_started: bool, detail: str) -> None:
        link, self.link = self.link, None
        if self.move is None or not self.move.handed_over():
            ws_ending.scope_ended(self, link, outcome, detail)

    def on_worker_lost(self) -> None:
        link, self.link = self.link, None
        ws_ending.worker_lost(self, link)

    def on_writable(self) -> None:
        ungranted = self.ungranted
        if ungranted:
            self.ungranted = 0
            link = self.link
            if link is not None:
                link.grant(self.sid, ungranted)

    def written(self, n: int) -> None:
        """``n`` units of the worker's output were written: credit them (later if paused)."""
        link = self.link
        if link is not None:
            if self.writer.paused:
                self.ungranted += n
            else:
                link.grant(self.sid, n)

    # --- events from the client connection ---------------------------------------------

    def receive(self, data: bytes) -> None:
        """Bytes from the client (frames after the accept; early bytes before it)."""
        self.input.take(data)

    def client_eof(self) -> None:
        channel = self.channel
        if channel is not None and channel.state == CLOSING and channel.failing:
            channel.finish()  # the client read our close frame and went away: a clean end
        else:
            self.client_gone()

    def client_lost(self) -> None:
        self.client_gone()
        if self.waiter is not None:
            self.waiter.cancel()
            self.waiter = None

    def channel_ended(self, close_code: int | None) -> None:
        """The accepted WebSocket is over: its one access-log line, with the close code."""
        log_ws(self, 101, close_code)

    def client_gone(self) -> None:
        ws_ending.client_gone(self)

    def shutdown(self) -> None:
        """Close 1001 to the client now; the app hears 1006 ``server_shutdown``.

        A handshake still waiting for a worker gets 503; one the app is
        deciding on is closed right after its accept (or answered as the app
        denies it).
        """
        self.shutting_down = True
        if self.phase == WAITING:
            self.reply(503, "the server is shutting down", RETRY_AFTER)
        elif self.channel is not None:
            self.channel.shutdown()

    def on_abort(self, detail: str) -> None:
        ws_ending.app_aborted(self, detail)

    def abort(self, reason: str) -> None:
        """Reset the connection at once; the app hears 1006 ``reason``."""
        self.disconnect(1006, reason, defer=False)
        self.reset()

    # --- the front's own answers ----------------------------------------------------

    def reply(self, status: int, message: str, extra: ExtraHeaders) -> None:
        """Answer the handshake with a response of the front's own, then close."""
        self.body_bytes = self.writer.reply(status, message, extra)
        log_ws(self, status, None)
        self.end_http()

    def _handshake_expired(self) -> None:
        self._timer = None
        if self.phase == HANDSHAKE:
            ws_ending.handshake_expired(self)

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

    def reset(self) -> None:
        """Reset the connection now (the channel's abort once accepted)."""
        if self.channel is not None:
            self.channel.abort()
            return
        self._enter_done()
        self.writer.abort()

    def end_http(self) -> None:
        """After an HTTP answer: the writer drains the input and closes (bounded)."""
        self._enter_done()
        self.writer.end()

    def close_now(self) -> None:
        """The client is gone before the accept: the access line (499 if
        nothing was answered) and close."""
        if self.phase <= HANDSHAKE:
            log_ws(self, 499, None)
        self._enter_done()
        self.writer.close()

    def _enter_done(self) -> None:
        self.phase = DONE
        self.cancel_timer()

    def cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
