"""The timers of one HTTP/1.x connection: keep-alive idle, request head, linger.

Invariants:

* At most one idle timer, one head timer and one linger timer are armed.
* The idle timer is re-armed lazily: going idle only stamps ``_idle_since``,
  so a busy keep-alive connection creates no timer per request. When it
  fires while the connection is idle past ``--keepalive-timeout`` the
  connection closes.
* The head timer is armed only while no request is being served and bytes of
  an incomplete head have arrived; if it fires with that still so, the
  client gets a ``408`` and the connection closes.
* No timer is armed once the connection is closing (except the linger timer,
  which closes the transport after at most :data:`~..connections.LINGER_TIMEOUT`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..connections import LINGER_TIMEOUT
from .responses import server_response

if TYPE_CHECKING:
    from .connection import HTTP11Connection

logger = logging.getLogger("pagi.front")


class ConnectionTimers:
    """Idle, head and linger timers of one connection."""

    __slots__ = ("_conn", "_head", "_idle", "_idle_since", "_linger")

    def __init__(self, conn: HTTP11Connection) -> None:
        self._conn = conn
        self._idle_since = 0.0
        self._idle: asyncio.TimerHandle | None = None
        self._head: asyncio.TimerHandle | None = None
        self._linger: asyncio.TimerHandle | None = None

    def go_idle(self) -> None:
        """Between requests: arm the keep-alive timer (or, mid-head, the head timer)."""
        conn = self._conn
        if conn.closing:
            return
        if conn.partial_head:
            self.head_started()
            return
        self._idle_since = conn.loop.time()
        if self._idle is None:
            self._idle = conn.loop.call_at(
                self._idle_since + conn.config.keepalive_timeout, self._idle_check
            )

    def head_started(self) -> None:
        """Bytes of a request head arrived while no request is served."""
        if self._head is None:
            conn = self._conn
            self._head = conn.loop.call_later(conn.config.header_timeout, self._head_timeout)

    def head_done(self) -> None:
        if self._head is not None:
            self._head.cancel()
            self._head = None

    def linger(self, close: Callable[[], object]) -> None:
        self._linger = self._conn.loop.call_later(LINGER_TIMEOUT, close)

    def cancel(self, linger: bool = False) -> None:
        """Cancel the idle and head timers (and with ``linger`` that one too)."""
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None
        self.head_done()
        if linger and self._linger is not None:
            self._linger.cancel()
            self._linger = None

    def _idle_check(self) -> None:
        self._idle = None
        conn = self._conn
        if conn.closing or not conn.idle() or self._head is not None:
            return
        deadline = self._idle_since + conn.config.keepalive_timeout
        if conn.loop.time() < deadline - 0.001:
            self._idle = conn.loop.call_at(deadline, self._idle_check)
            return
        logger.debug("%s keep-alive timeout", conn.peer)
        conn.close()

    def _head_timeout(self) -> None:
        self._head = None
        conn = self._conn
        if conn.closing or conn.current_stream() is not None:
            return
        timeout = conn.config.header_timeout
        logger.info("%s bad request: 408 request head not complete within %gs", conn.peer, timeout)
        conn.write(
            server_response(
                408,
                f"request head not received within {timeout:g}s",
                server_header=conn.config.server_header,
            )
        )
        conn.close(linger=True)
