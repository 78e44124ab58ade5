"""The transport and lifetime of one HTTP/1.x client connection.

:class:`ConnectionLifetime` is the base of :class:`~.http11.HTTP11Connection`:
it holds the state every layer of the connection shares, and decides when the
connection reads, how long it may sit idle or half-way through a request head,
and how it closes. It knows nothing of workers.

Invariants:

* ``closing`` only goes from False to True; once set, nothing more is written
  and neither the idle nor the head timer is armed (:meth:`_close` and
  :meth:`_abort_transport` set it and cancel both).
* Reading is paused exactly while the parser failed (``_broken``) or the
  request queue is over its limits, as of the last :meth:`_update_reading`;
  a lingering close resumes it so the client's remaining input is drained.
* At most one idle timer and one head timer are armed. The idle timer is
  re-armed lazily: going idle only stamps ``_idle_since``, so a busy
  keep-alive connection creates no timer per request.
* The head timer is armed only while no request is being served and bytes of
  an incomplete head have arrived (``_partial_head``); if it fires with that
  still so, the client gets a ``408`` and the connection closes.
* A lingering close half-closes and then closes the transport after at most
  :data:`LINGER_TIMEOUT` seconds, so the client reads the response instead of
  a reset.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import TYPE_CHECKING, Any

from ..access_log import client_label
from ..context import FrontContext
from .request_queue import RequestQueue
from .responses import server_response

if TYPE_CHECKING:
    from ..streams.exchange import Exchange

logger = logging.getLogger("pagi.front")

#: When we close while the client may still be sending, we half-close and keep
#: reading (discarding) this long, so the client reads our response instead of
#: getting a reset that can destroy it.
LINGER_TIMEOUT = 2.0


class ConnectionLifetime(asyncio.Protocol):
    """Shared state, back-pressure, timers and closing of a client connection."""

    __slots__ = (
        "_broken",
        "_ctx",
        "_cur",
        "_head_timer",
        "_idle_since",
        "_idle_timer",
        "_linger_timer",
        "_partial_head",
        "_queue",
        "_read_paused",
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
        self._transport: asyncio.Transport = None  # type: ignore[assignment]
        self.client: list[Any] | None = None
        self.server: list[Any] | None = None
        self.peer = "-"  # client address for log lines
        self._queue = RequestQueue(config.max_body_size)
        self._cur: Exchange | None = None  # the request being served
        self._partial_head = False  # bytes of a not yet complete head have arrived
        self._broken = False  # the parser failed (or a limit was hit): feed nothing more
        self.closing = False  # close/abort under way: write nothing more
        self.shutting_down = False  # no keep-alive any more
        self._read_paused = False
        self.write_paused = False
        self._idle_since = 0.0
        self._idle_timer: asyncio.TimerHandle | None = None
        self._head_timer: asyncio.TimerHandle | None = None
        self._linger_timer: asyncio.TimerHandle | None = None

    # --- asyncio.Protocol: transport events -----------------------------------------

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

    def pause_writing(self) -> None:
        self.write_paused = True

    def resume_writing(self) -> None:
        self.write_paused = False
        cur = self._cur
        if cur is not None:
            cur.on_writable()

    # --- writing and reading ----------------------------------------------------------

    def is_write_paused(self) -> bool:
        """Back-pressure for file pumping: also true once the socket is going away."""
        return self.write_paused or self.closing or self._transport.is_closing()

    def write(self, data: bytes) -> None:
        transport = self._transport
        if self.closing or transport.is_closing():
            return
        transport.write(data)

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

    # --- timers -----------------------------------------------------------------------

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

    def close_if_idle(self) -> bool:
        """Close the connection if it is idle between requests (descriptor
        pressure, admission.py); True if it was."""
        if self.closing or self._cur is not None or self._queue or self._partial_head:
            return False
        self._close()
        return True

    def _idle_check(self) -> None:
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

    # --- closing ----------------------------------------------------------------------

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
