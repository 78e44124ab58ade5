"""One HTTP/2 client connection of the front (an :class:`asyncio.Protocol`).

The I/O shell around :class:`~.core.H2Core`: bytes from the socket go to the
core, its events to the connection's :class:`~.stream.H2Stream` objects, and
the core's outbound bytes to the socket, once per loop iteration. Invariants:

* Streams are flushed only while the transport is not paused for writing, so
  response data waits in the streams (within the link credit) rather than in
  the transport when the client reads slowly; a paused transport also pauses
  reading, so a client that floods control frames it never reads the answers
  to stalls itself.
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

import h2.events
from h2.errors import ErrorCodes
from pagi.protocol import reasons

from ..context import FrontContext
from ..endpoints import NO_EXTRAS, scope_extras, transport_endpoints
from .core import H2Core
from .limits import H2Limits
from .request import MalformedRequest, read_request
from .stream import H2Stream

logger = logging.getLogger("pagi.front")

#: How long a connection that failed is drained before it closes.
LINGER_TIMEOUT = 2.0


class HTTP2Connection(asyncio.Protocol):
    """An accepted client connection speaking HTTP/2 (after ALPN ``h2`` or the preface)."""

    def __init__(self, ctx: FrontContext, limits: H2Limits | None = None) -> None:
        self.ctx = ctx
        self.loop = asyncio.get_running_loop()
        config = ctx.config
        self.limits = limits or H2Limits(
            max_concurrent_streams=config.http2_max_concurrent_streams,
            max_header_list_size=config.max_header_size,
            stall_timeout=config.http2_stall_timeout,
        )
        self.core = H2Core(self.limits, self.loop.time)
        self.streams: dict[int, H2Stream] = {}
        self._transport: asyncio.Transport | None = None
        self.client: list[object] | None = None
        self.server: list[object] | None = None
        self.peer = "-"
        self.secure = False
        self.scope_extras: dict[str, object] = NO_EXTRAS
        self._dirty: set[H2Stream] = set()
        self._flush_all = False
        self._scheduled = False
        self._write_paused = False
        self._closing = False
        self._stalled: dict[int, float] = {}
        self._stall_timer: asyncio.TimerHandle | None = None
        self._idle_timer: asyncio.TimerHandle | None = None
        self.opened_at = self.loop.time()
        self._bytes_in = 0
        self._bytes_out = 0

    @property
    def protocol(self) -> str:
        return "h2"

    def bytes_in(self) -> int:
        """Bytes received from the client so far."""
        return self._bytes_in

    def bytes_out(self) -> int:
        """Bytes handed to the transport for the client so far."""
        return self._bytes_out

    def current(self) -> str:
        """The requests being served, e.g. ``3 streams: GET /a, POST /b, ...``."""
        streams = [s for s in self.streams.values() if not s.done]
        if not streams:
            return ""
        shown = ", ".join(
            f"{s.facts.method} {s.facts.target[:60].decode('latin-1')}" for s in streams[:3]
        )
        more = ", ..." if len(streams) > 3 else ""
        return f"{len(streams)} stream{'s' if len(streams) > 1 else ''}: {shown}{more}"

    # --- asyncio.Protocol ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]
        self.client, self.server, self.peer = transport_endpoints(transport)
        self.scope_extras = scope_extras(transport)
        self.secure = self.scope_extras is not NO_EXTRAS
        self.ctx.connections.add(self)
        self._write()
        self._arm_idle()

    def data_received(self, data: bytes) -> None:
        self._bytes_in += len(data)
        core = self.core
        for event in core.receive(data):
            self._on_event(event)
        if core.error is not None and not self._closing:
            code, why = core.error
            logger.info(
                "%s HTTP/2 connection error: %s (GOAWAY %s)", self.peer, why, ErrorCodes(code).name
            )
            self._fail_streams(reasons.PROTOCOL_ERROR)
            self._write()
            self._linger()
            return
        self._schedule()

    def eof_received(self) -> bool:
        return False

    def pause_writing(self) -> None:
        self._write_paused = True
        if self._transport is not None:
            self._transport.pause_reading()

    def resume_writing(self) -> None:
        self._write_paused = False
        if self._transport is not None and not self._closing:
            self._transport.resume_reading()
        self._flush_all = True
        self._schedule()

    def connection_lost(self, exc: Exception | None) -> None:
        self._closing = True
        self._fail_streams(reasons.CLIENT_CLOSED)
        for timer in (self._stall_timer, self._idle_timer):
            if timer is not None:
                timer.cancel()
        self.ctx.connections.discard(self)

    # --- h2 events ----------------------------------------------------------------------

    def _on_event(self, event: h2.events.Event) -> None:
        if isinstance(event, h2.events.DataReceived):
            sid = event.stream_id
            stream = self.streams.get(sid)
            length = event.flow_controlled_length or 0
            if stream is None:
                self.core.consumed(sid, length)
            else:
                stream.on_data(event.data or b"", length)
            if event.stream_ended is not None and stream is not None:
                stream.on_request_end()
        elif isinstance(event, h2.events.RequestReceived):
            self._on_request(event)
        elif isinstance(event, h2.events.StreamEnded):
            stream = self.streams.get(event.stream_id)
            if stream is not None and not stream._in_ended:
                stream.on_request_end()
        elif isinstance(event, h2.events.StreamReset):
            stream = self.streams.pop(event.stream_id, None)
            if stream is not None:
                stream.client_reset()
        elif isinstance(event, (h2.events.WindowUpdated, h2.events.RemoteSettingsChanged)):
            self._flush_all = True
        elif isinstance(event, h2.events.ConnectionTerminated):
            self._on_goaway(event)
        # Trailers of a request are dropped (the link carries none); PING, SETTINGS
        # ACK, PRIORITY and unknown frames need nothing from us.

    def _on_request(self, event: h2.events.RequestReceived) -> None:
        sid = event.stream_id
        conn = self.core.conn
        ended = event.stream_ended is not None
        if self.core.last_stream is not None and sid > self.core.last_stream:
            conn.reset_stream(sid, ErrorCodes.REFUSED_STREAM)
            return
        try:
            facts = read_request(list(event.headers or ()))  # type: ignore[arg-type]
        except MalformedRequest as exc:
            logger.info("%s HTTP/2 malformed request on stream %d: %s", self.peer, sid, exc)
            conn.reset_stream(sid, ErrorCodes.PROTOCOL_ERROR)
            return
        self._cancel_idle()
        stream = H2Stream(self, sid, facts, ended)
        self.streams[sid] = stream
        stream.start()

    def _on_goaway(self, event: h2.events.ConnectionTerminated) -> None:
        if event.error_code:
            logger.info(
                "%s HTTP/2 client sent GOAWAY %s", self.peer, ErrorCodes(event.error_code).name
            )
            self._fail_streams(reasons.CLIENT_CLOSED)
        self._closing_when_idle()

    # --- output -------------------------------------------------------------------------

    def wake(self, stream: H2Stream) -> None:
        self._dirty.add(stream)
        self._schedule()

    def _schedule(self) -> None:
        if not self._scheduled:
            self._scheduled = True
            self.loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._scheduled = False
        if self._transport is None or self._transport.is_closing():
            return
        if not self._write_paused:
            streams = list(self.streams.values()) if self._flush_all else list(self._dirty)
            self._flush_all = False
            self._dirty.clear()
            core = self.core
            now = self.loop.time()
            for stream in streams:
                if stream.done:
                    continue
                window = core.send_window(stream.sid)
                stream.flush(window)
                if stream.out.pending and core.send_window(stream.sid) <= 0:
                    self._stalled.setdefault(stream.sid, now)
                else:
                    self._stalled.pop(stream.sid, None)
            if self._stalled and self._stall_timer is None:
                self._stall_timer = self.loop.call_later(
                    self.limits.stall_timeout / 2, self._check_stalls
                )
        for sid in [sid for sid, s in self.streams.items() if s.done]:
            del self.streams[sid]
            self._stalled.pop(sid, None)
        self._write()
        if not self.streams and not self._closing:
            if self.core.last_stream is not None:
                self._linger()  # GOAWAY sent and every stream finished
            else:
                self._arm_idle()

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
            stream = self.streams.get(sid)
            if stream is None or stream.done:
                self._stalled.pop(sid, None)
            elif since <= deadline:
                logger.info(
                    "%s HTTP/2 stream %d: flow-control window closed for %g s, resetting",
                    self.peer,
                    sid,
                    self.limits.stall_timeout,
                )
                self._stalled.pop(sid, None)
                stream.reset(ErrorCodes.CANCEL, reasons.WRITE_TIMEOUT)
        if self._stalled:
            self._stall_timer = self.loop.call_later(
                self.limits.stall_timeout / 2, self._check_stalls
            )
        self._schedule()

    def _arm_idle(self) -> None:
        if self._idle_timer is None and not self._closing:
            self._idle_timer = self.loop.call_later(
                self.ctx.config.keepalive_timeout, self._idle_expired
            )

    def _cancel_idle(self) -> None:
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None

    def _idle_expired(self) -> None:
        self._idle_timer = None
        if not self.streams:
            logger.debug("%s HTTP/2 idle timeout", self.peer)
            self.shutdown()

    def _closing_when_idle(self) -> None:
        if self.core.last_stream is None:
            self.core.last_stream = self.core.conn.highest_inbound_stream_id
        self._schedule()

    def _fail_streams(self, reason: str) -> None:
        streams = list(self.streams.values())
        self.streams.clear()
        for stream in streams:
            stream.reset(-1, reason)

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

    # --- the ClientConnection side (server.py) --------------------------------------------

    def shutdown(self) -> None:
        """Graceful: GOAWAY NO_ERROR, finish the open streams, then close."""
        self.core.goaway()
        self._schedule()

    def abort(self, reason: str = reasons.SERVER_SHUTDOWN) -> None:
        self._closing = True
        self._fail_streams(reason)
        if self._transport is not None:
            self._transport.abort()
