"""Choosing HTTP/1.1 or HTTP/2 for a new client connection.

:class:`ProtocolSwitch` is the first protocol of every connection while
``--http2`` is on. It hands the transport to the connection that will serve
it and then steps out (``transport.set_protocol``):

* **TLS:** by ALPN, at once: ``h2`` → HTTP/2, anything else (``http/1.1`` or no
  ALPN) → HTTP/1.1.
* **Cleartext:** by the first bytes: the HTTP/2 connection preface
  (``PRI * HTTP/2.0\\r\\n\\r\\nSM\\r\\n\\r\\n``, "prior knowledge", RFC 9113
  section 3.3) → HTTP/2; anything else → HTTP/1.1, which gets every byte read
  so far. ``Upgrade: h2c`` (RFC 7540 section 3.2, removed by RFC 9113) is not
  honoured: such a request is answered over HTTP/1.1 as if the header were
  absent, which every client that sends it accepts.

A connection that sends nothing for ``--keepalive-timeout`` is closed, as an
idle HTTP/1.1 connection would be.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from pagi.protocol import reasons

from ..connections import FrontContext, ProxiedAddresses, addresses
from ..http1.request_line import H2_PREFACE as PREFACE


def _http2_connection(
    ctx: FrontContext, scheme: str, proxied: ProxiedAddresses | None
) -> asyncio.Protocol:
    """An HTTP/2 connection; h2 and the HTTP/2 modules are imported by the first one
    (a front that never sees HTTP/2 starts without them)."""
    from .connection import HTTP2Connection

    return HTTP2Connection(ctx, scheme, proxied=proxied)


class ProtocolSwitch(asyncio.Protocol):
    """Picks the connection protocol for one transport, then gets out of the way."""

    __slots__ = (
        "_buffer",
        "_ctx",
        "_http1",
        "_proxied",
        "_scheme",
        "_timer",
        "_transport",
        "client",
        "opened_at",
    )

    protocol = "undecided"  # what a ClientConnection speaks: not chosen yet
    peer = "-"

    def __init__(
        self,
        ctx: FrontContext,
        scheme: str,
        http1: Callable[[], asyncio.Protocol],
        proxied: ProxiedAddresses | None = None,
    ) -> None:
        self._ctx = ctx
        self._proxied = proxied
        self._scheme = scheme
        self._http1 = http1
        self._transport: asyncio.Transport | None = None
        self._buffer = b""
        self._timer: asyncio.TimerHandle | None = None
        self.opened_at = asyncio.get_running_loop().time()
        self.client: list[Any] | None = None  # counted per address by the connection limits

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]
        ssl_object = transport.get_extra_info("ssl_object")
        if ssl_object is not None:
            h2 = ssl_object.selected_alpn_protocol() == "h2"
            self._hand_over(
                _http2_connection(self._ctx, self._scheme, self._proxied) if h2 else self._http1()
            )
            return
        self.client = addresses(transport)[0]
        self._ctx.connections.add(self)
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(self._ctx.config.keepalive_timeout, self.abort)

    def data_received(self, data: bytes) -> None:
        buffered = self._buffer + data
        if len(buffered) < len(PREFACE) and PREFACE.startswith(buffered):
            self._buffer = buffered
            return
        self._buffer = b""
        self._stop_waiting()
        if buffered.startswith(PREFACE):
            chosen = _http2_connection(self._ctx, self._scheme, self._proxied)
        else:
            chosen = self._http1()
        self._hand_over(chosen, buffered)

    def eof_received(self) -> bool:
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_waiting()

    def _stop_waiting(self) -> None:
        self._ctx.connections.discard(self)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _hand_over(self, chosen: asyncio.Protocol, data: bytes = b"") -> None:
        transport = self._transport
        assert transport is not None
        transport.set_protocol(chosen)
        chosen.connection_made(transport)
        if data and not transport.is_closing():
            chosen.data_received(data)

    # --- ClientConnection ------------------------------------------------------------------

    def bytes_in(self) -> int:
        return len(self._buffer)

    def bytes_out(self) -> int:
        return 0

    def current(self) -> str:
        return ""

    def shutdown(self) -> None:
        """Nothing to do yet: a client that has not spoken may be sending its first
        request right now. Whatever it speaks is chosen as usual, and that
        connection, seeing the front stop, serves the one request and closes
        (HTTP/1.1 ``connection: close``, HTTP/2 GOAWAY); a client that stays
        silent is closed by the idle timer, like an idle keep-alive connection."""

    def close_if_idle(self) -> bool:
        """Close a connection that has sent nothing yet (descriptor pressure,
        :mod:`..connection_limits`); True if it was closed."""
        if self._buffer or self._transport is None:
            return False
        self.abort()
        return True

    def abort(self, reason: str = reasons.IDLE_TIMEOUT) -> None:
        self._stop_waiting()
        if self._transport is not None:
            self._transport.close()
