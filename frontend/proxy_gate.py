"""A listener's connections that start with a PROXY protocol header.

:class:`ProxyProtocolGate` is the protocol of a fresh connection on a
``--proxy-protocol`` front: it reads the header (:mod:`.proxy_protocol`),
then hands the transport to the real connection, with the client and server
addresses the header carries (the connection's own ones when the header
gives none, e.g. the proxy's health checks), and feeds it the bytes that
followed the header.

A connection whose first bytes are not a valid header, or that sends none
within ``--header-timeout``, is closed with one INFO line and never reaches
HTTP parsing: a client must not bypass the proxy by talking to the port
directly.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from .access_log import client_label
from .connections import ProxiedAddresses
from .proxy_protocol import ProxyProtocolError, parse

logger = logging.getLogger("pagi.front")


class ProxyProtocolGate(asyncio.Protocol):
    """``make(proxied)`` builds the connection's real protocol
    (:class:`~.selector.ProtocolSelector`), which serves the header's addresses."""

    def __init__(
        self, make: Callable[[ProxiedAddresses], asyncio.Protocol], timeout: float
    ) -> None:
        self._make = make
        self._timeout = timeout
        self._buffer = bytearray()
        self._transport: Any = None
        self._timer: asyncio.TimerHandle | None = None
        self._done = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(self._timeout, self._expired)

    def _peer(self) -> str:
        peer = self._transport.get_extra_info("peername")
        return client_label(list(peer)[:2] if isinstance(peer, tuple) else None)

    def _refuse(self, why: str) -> None:
        logger.info("%s refused: %s", self._peer(), why)
        self._done = True
        self._cancel()
        self._transport.close()

    def _expired(self) -> None:
        self._timer = None
        if not self._done:
            self._refuse(f"no PROXY protocol header within {self._timeout:g}s")

    def _cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def data_received(self, data: bytes) -> None:
        if self._done:
            return
        self._buffer += data
        try:
            header = parse(bytes(self._buffer))
        except ProxyProtocolError as exc:
            self._refuse(str(exc))
            return
        if header is None:
            return
        self._done = True
        self._cancel()
        client = [header.client[0], header.client[1]] if header.client is not None else None
        server = [header.server[0], header.server[1]] if header.server is not None else None
        conn = self._make(ProxiedAddresses(client, server))
        self._transport.set_protocol(conn)
        conn.connection_made(self._transport)
        rest = bytes(self._buffer[header.consumed :])
        self._buffer.clear()
        if rest:
            conn.data_received(rest)

    def eof_received(self) -> bool:
        return False  # closes the transport

    def connection_lost(self, exc: Exception | None) -> None:
        self._done = True
        self._cancel()
