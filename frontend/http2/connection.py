"""One HTTP/2 client connection of the front (an :class:`asyncio.Protocol`).

The I/O shell around :class:`~.core.H2Core`: bytes from the socket go to the
core, which calls this connection (its :class:`~.listener.H2Listener`) for
each request, DATA frame and reset; those go to the streams (one
:class:`~..streams.http_stream.HTTPStream` or
:class:`~..streams.ws_stream.WSStream` per request, each over its
:class:`~.writer.H2Writer`, made by :mod:`.opening`), and the core's outbound
bytes to the socket, once per loop iteration. It is the streams'
:class:`~..streams.interfaces.StreamHost` and a
:class:`~..connections.ClientConnection`. Invariants:

* Writers hand the engine response data only while the transport is not
  paused for writing, so it waits in the streams (where the worker's credit is withheld)
  rather than in the transport when the client reads slowly; a paused
  transport also pauses reading, so a client that floods control frames it
  never reads the answers to stalls itself.
* A stream whose response waits on a zero flow-control window for
  :attr:`~.limits.H2Limits.stall_timeout` is reset (``CANCEL``), its scope told
  ``write_timeout``.
* A protocol error or a crossed flood cap sends GOAWAY (from the core), ends
  every scope with ``protocol_error`` and closes the connection once the
  client has closed or :data:`LINGER_TIMEOUT` has passed (input is dropped
  meanwhile).
* Graceful shutdown (:meth:`shutdown`) sends GOAWAY NO_ERROR with the last
  stream id, refuses later streams (``REFUSED_STREAM``), finishes the others,
  then closes. A connection without streams for ``--keepalive-timeout`` does
  the same.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from pagi.protocol import reasons

from ..connections import FrontContext, ProxiedAddresses, addresses
from ..tls.scope_info import NO_EXTRAS, scope_extras
from . import frames as F
from .core import H2Core
from .fields import MalformedRequest, check_trailers
from .limits import H2Limits
from .listener import Fields
from .opening import open_stream, refuse
from .writer import H2Writer

logger = logging.getLogger("pagi.front")

#: How long a connection that failed is drained before it closes.
LINGER_TIMEOUT = 2.0


class HTTP2Connection(asyncio.Protocol):
    """An accepted client connection speaking HTTP/2 (after ALPN ``h2`` or the preface)."""

    protocol = "h2"

    def __init__(
        self,
        ctx: FrontContext,
        scheme: str,
        limits: H2Limits | None = None,
        proxied: ProxiedAddresses | None = None,
    ) -> None:
        self._proxied = proxied
        self.ctx = ctx
        self.scheme = scheme
        self.loop = asyncio.get_running_loop()
        config = self.config = ctx.config
        self.limits = limits or H2Limits(
            max_concurrent_streams=config.http2_max_concurrent_streams,
            max_header_list_size=config.max_header_size,
            stall_timeout=config.http2_stall_timeout,
        )
        self.core = H2Core(self.limits, self.loop.time, self)
        self.writers: dict[int, H2Writer] = {}
        self._transport: asyncio.Transport | None = None
        self.client: list[Any] | None = None
        self.server: list[Any] | None = None
        self.peer = "-"
        self.scope_extras: dict[str, Any] = NO_EXTRAS
        self.opened_at = self.loop.time()
        self._bytes_in = 0
        self._bytes_out = 0
        self._scheduled = False
        self._retry: set[H2Writer] = set()  # writers with output waiting for window
        self.write_paused = False
        self._closing = False
        self._stalled: dict[int, float] = {}
        self._stall_timer: asyncio.TimerHandle | None = None
        self._idle_timer: asyncio.TimerHandle | None = None

    @property
    def closing(self) -> bool:
        return self._closing

    # --- ClientConnection -----------------------------------------------------------

    def bytes_in(self) -> int:
        return self._bytes_in

    def bytes_out(self) -> int:
        return self._bytes_out

    def current(self) -> str:
        """``N streams: GET /a, POST /b, ...`` (``""`` when idle)."""
        labels = [w.label() for w in self.writers.values() if not w.finished]
        if not labels:
            return ""
        more = ", ..." if len(labels) > 3 else ""
        plural = "s" if len(labels) > 1 else ""
        return f"{len(labels)} stream{plural}: {', '.join(labels[:3])}{more}"

    def shutdown(self) -> None:
        """Graceful: GOAWAY NO_ERROR, end event streams, finish the others, then close."""
        self.core.goaway()
        for writer in list(self.writers.values()):
            stream = writer.stream
            if stream is not None:
                stream.shutdown()
        self._schedule()

    def abort(self, reason: str) -> None:
        """Close now; live scopes are told ``reason``."""
        self._closing = True
        for writer in list(self.writers.values()):
            stream = writer.stream
            if stream is not None:
                stream.abort(reason)
        self.writers.clear()
        if self._transport is not None:
            self._transport.abort()

    # --- asyncio.Protocol ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]
        self.client, self.server, self.peer = addresses(transport, self._proxied)
        self.scope_extras = scope_extras(transport)
        self.ctx.connections.add(self)
        if self.ctx.shutting_down:  # accepted as the front began to stop
            self.core.goaway()
        self._write()
        self._arm_idle()

    def data_received(self, data: bytes) -> None:
        self._bytes_in += len(data)
        core = self.core
        core.receive(data)
        # streams opened by the read that ended the connection (a flood cap
        # crossed after a new request, say) end below with every other one
        if core.error is not None and not self._closing:
            code, why = core.error
            logger.info(
                "%s HTTP/2 connection error: %s (GOAWAY %s)", self.peer, why, F.error_name(code)
            )
            self._end_streams()
            self._write()
            self._linger()
            return
        self._schedule()

    def eof_received(self) -> bool:
        return False

    def pause_writing(self) -> None:
        self.write_paused = True
        for writer in self.writers.values():
            writer.paused = True
        if self._transport is not None:
            self._transport.pause_reading()

    def resume_writing(self) -> None:
        self.write_paused = False
        if self._transport is not None and not self._closing:
            self._transport.resume_reading()
        self._retry.update(self.writers.values())
        self._schedule()

    def connection_lost(self, exc: Exception | None) -> None:
        self._closing = True
        self._end_streams()
        for timer in (self._stall_timer, self._idle_timer):
            if timer is not None:
                timer.cancel()
        self.ctx.connections.discard(self)

    # --- H2Listener: the engine's calls ---------------------------------------------------

    def on_request(self, sid: int, fields: Fields, ended: bool) -> None:
        self._cancel_idle()
        writer = open_stream(self, sid, fields, ended)
        if writer is not None:
            self.writers[sid] = writer

    def on_data(self, sid: int, data: bytes, ended: bool) -> None:
        writer = self.writers.get(sid)
        if writer is None:
            self.core.consumed(sid, len(data))
            return
        if data:
            received = writer.receive(data)
            if received > self.config.max_body_size and writer.http is not None:
                self._too_large(writer)
        if ended and not writer.input_ended:
            self._input_end(writer)

    def on_trailers(self, sid: int, fields: Fields) -> None:
        """Request trailers are checked, then dropped (the link carries none)."""
        try:
            check_trailers(fields)
        except MalformedRequest as exc:
            logger.info("%s HTTP/2 malformed trailers on stream %d: %s", self.peer, sid, exc)
            writer = self.writers.pop(sid, None)
            if writer is None:
                refuse(self.core, sid, F.PROTOCOL_ERROR)
                return
            writer.reset(F.PROTOCOL_ERROR)
            if writer.stream is not None:
                writer.stream.client_gone()
            return
        writer = self.writers.get(sid)
        if writer is not None and not writer.input_ended:
            self._input_end(writer)

    def on_reset(self, sid: int, code: int) -> None:
        writer = self.writers.pop(sid, None)
        if writer is not None:
            writer.reset_sent = True  # the stream is closed: nothing more goes out
            writer.drop_input()
            if writer.stream is not None:
                writer.stream.client_gone()

    def on_window(self, sid: int) -> None:
        if sid:
            writer = self.writers.get(sid)
            if writer is not None and writer.out.pending:
                self._retry.add(writer)
        else:
            self._retry.update(w for w in self.writers.values() if w.out.pending)

    def on_goaway(self, code: int, last_stream: int) -> None:
        if code:
            logger.info("%s HTTP/2 client sent GOAWAY %s", self.peer, F.error_name(code))
            self._end_streams()
        if self.core.last_stream is None:
            self.core.last_stream = self.core.highest_stream

    def _input_end(self, writer: H2Writer) -> None:
        ws = writer.ws
        writer.input_end()
        if ws is not None:
            ws.client_eof()

    def _too_large(self, writer: H2Writer) -> None:
        stream = writer.http
        assert stream is not None
        limit = self.config.max_body_size
        logger.info("%s request body over %d bytes: 413 (HTTP/2)", self.peer, limit)
        writer.drop_input()
        if not stream.fail_request(413, f"request body larger than {limit} bytes"):
            writer.reset(F.CANCEL)

    # --- output -------------------------------------------------------------------------

    def flushed(self, writer: H2Writer) -> None:
        """A writer handed the engine something (or finished): write soon, retry what waits."""
        if writer.out.pending:
            self._retry.add(writer)
        self._schedule()

    def _schedule(self) -> None:
        if not self._scheduled:
            self._scheduled = True
            self.loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._scheduled = False
        if self._transport is None or self._transport.is_closing():
            return
        if not self.write_paused and self._retry:
            retry = list(self._retry)
            self._retry.clear()
            now = self.loop.time()
            for writer in retry:
                if writer.finished:
                    continue
                was_paused = writer.paused
                writer.push()
                if writer.out.pending:
                    self._stalled.setdefault(writer.sid, now)
                else:
                    self._stalled.pop(writer.sid, None)
                if was_paused and not writer.paused and writer.stream is not None:
                    writer.stream.on_writable()
            if self._stalled and self._stall_timer is None:
                self._stall_timer = self.loop.call_later(
                    self.limits.stall_timeout / 2, self._check_stalls
                )
        for sid in [sid for sid, w in self.writers.items() if w.finished]:
            self._forget(self.writers.pop(sid))
        self._write()
        if not self.writers and not self._closing:
            if self.core.last_stream is not None:
                self._linger()  # GOAWAY sent and every stream finished
            else:
                self._arm_idle()

    def _forget(self, writer: H2Writer) -> None:
        """A stream whose last frame went out: end the request side too."""
        self._stalled.pop(writer.sid, None)
        if not writer.input_ended and not writer.reset_sent:
            # RFC 9113 section 8.1: a complete response ends the request too.
            writer.reset(F.NO_ERROR)
            stream = writer.stream
            if stream is not None:
                stream.client_gone()

    def _write(self) -> None:
        data = self.core.outbound()
        if data and self._transport is not None and not self._transport.is_closing():
            self._bytes_out += len(data)
            self._transport.write(data)

    # --- stalls, idleness, closing -------------------------------------------------------

    def _check_stalls(self) -> None:
        self._stall_timer = None
        deadline = self.loop.time() - self.limits.stall_timeout
        for sid, since in list(self._stalled.items()):
            writer = self.writers.get(sid)
            if writer is None or writer.finished or not writer.out.pending:
                self._stalled.pop(sid, None)
            elif since <= deadline:
                logger.info(
                    "%s HTTP/2 stream %d: flow-control window closed for %g s, resetting",
                    self.peer,
                    sid,
                    self.limits.stall_timeout,
                )
                self._stalled.pop(sid, None)
                writer.reset(F.CANCEL)
                if writer.http is not None:
                    writer.http.abort(reasons.WRITE_TIMEOUT)
                elif writer.ws is not None:
                    writer.ws.abort(reasons.WRITE_TIMEOUT)
        if self._stalled:
            self._stall_timer = self.loop.call_later(
                self.limits.stall_timeout / 2, self._check_stalls
            )
        self._schedule()

    def _arm_idle(self) -> None:
        if self._idle_timer is None and not self._closing:
            self._idle_timer = self.loop.call_later(
                self.config.keepalive_timeout, self._idle_expired
            )

    def _cancel_idle(self) -> None:
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None

    def _idle_expired(self) -> None:
        self._idle_timer = None
        if not self.writers:
            logger.debug("%s HTTP/2 idle timeout", self.peer)
            self.shutdown()

    def _end_streams(self) -> None:
        """The connection is over: every stream's client is gone."""
        writers = list(self.writers.values())
        self.writers.clear()
        for writer in writers:
            writer.reset_sent = True
            stream = writer.stream
            if writer.ws is not None:
                writer.ws.client_lost()
            elif stream is not None:
                stream.client_gone()

    def _linger(self) -> None:
        """Close after the GOAWAY, reading (and dropping) what the client still sends
        for up to :data:`LINGER_TIMEOUT`, so closing with unread input does not reset
        the connection before the client has read the GOAWAY."""
        self._closing = True
        self._cancel_idle()
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        if transport.can_write_eof():
            try:
                transport.write_eof()
            except (OSError, RuntimeError):
                transport.close()
                return
        self.loop.call_later(LINGER_TIMEOUT, transport.close)
