"""The client connections of the front: what each one offers, and what they share.

Every accepted client socket is served by one protocol connection (today
:class:`~.http1.connection.HTTP11Connection`, or after an upgrade
:class:`~.websocket.connection.WebSocketConnection`; HTTP/2 will add one). Each
implements :class:`ClientConnection` and registers itself in
``FrontContext.connections`` while open, so that shutdown, and later a control
plane, can find and describe it without knowing its protocol.

One :class:`FrontContext` exists per front process.
"""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from .access_log import client_label
from .admission import Admission
from .config import FrontConfig
from .forwarded import TrustedProxies
from .metrics import FrontMetrics

if TYPE_CHECKING:
    from .link.pool import WorkerPool

#: When we close while the client may still be sending, we half-close and keep
#: reading (discarding) this long, so the client reads our response instead of
#: getting a reset that can destroy it.
LINGER_TIMEOUT = 2.0


class ClientConnection(Protocol):
    """One open client connection, whatever its protocol."""

    @property
    def peer(self) -> str:
        """The client's address for log lines (``host:port``, ``unix`` or ``-``)."""

    @property
    def protocol(self) -> str:
        """What the connection speaks now: ``"http/1.1"``, ``"websocket"``, ``"h2"``."""

    @property
    def opened_at(self) -> float:
        """Loop time at which the client connected."""

    def bytes_in(self) -> int:
        """Bytes received from the client so far."""

    def bytes_out(self) -> int:
        """Bytes handed to the transport for the client so far."""

    def current(self) -> str:
        """A one-line summary of the scope(s) being served (``""`` when idle)."""

    def shutdown(self) -> None:
        """Graceful: finish what is in progress, take nothing new, then close."""

    def abort(self, reason: str) -> None:
        """Close now; live scopes are told ``reason``."""


class ConnectionSet(set[ClientConnection]):
    """``FrontContext.connections``: the open client connections, counted per
    client IP for the connection limits (:mod:`.connection_limits`).

    ``by_address`` holds, for every address with an open connection in the
    set, how many there are, never a zero entry. A connection's address is its
    ``client[0]`` (TCP clients) when it is added; the same is used to remove it.
    """

    def __init__(self) -> None:
        super().__init__()
        self.by_address: dict[str, int] = {}

    def add(self, conn: ClientConnection) -> None:
        if conn in self:
            return
        super().add(conn)
        address = _address(conn)
        if address is not None:
            self.by_address[address] = self.by_address.get(address, 0) + 1

    def discard(self, conn: object) -> None:
        if conn not in self:
            return
        super().discard(conn)
        address = _address(conn)
        if address is not None:
            left = self.by_address.get(address, 0) - 1
            if left > 0:
                self.by_address[address] = left
            else:
                self.by_address.pop(address, None)


def _address(conn: object) -> str | None:
    client = getattr(conn, "client", None)
    return str(client[0]) if client else None


@dataclass(slots=True)
class FrontContext:
    """What every client connection of the front shares."""

    config: FrontConfig
    pool: WorkerPool
    connections: ConnectionSet = field(default_factory=ConnectionSet)  # open client connections
    shutting_down: bool = False  # set once on SIGTERM/SIGINT
    metrics: FrontMetrics = field(default_factory=FrontMetrics)  # plain-int counters
    admission: Admission = field(init=False)  # the bounded wait for a worker
    #: --proxy-headers: whose Forwarded / X-Forwarded-* to believe (None: off)
    trusted_proxies: TrustedProxies | None = field(init=False)

    def __post_init__(self) -> None:
        self.admission = Admission(self.config, self.pool, self.metrics)
        self.trusted_proxies = (
            TrustedProxies.parse(self.config.forwarded_allow_ips)
            if self.config.proxy_headers
            else None
        )


@dataclass(frozen=True, slots=True)
class ProxiedAddresses:
    """The addresses a PROXY protocol header gave (proxy_gate.py); None: the
    connection's own one stays (e.g. a proxy's health check, ``LOCAL``)."""

    client: list[Any] | None
    server: list[Any] | None


def addresses(
    transport: asyncio.BaseTransport, proxied: ProxiedAddresses | None = None
) -> tuple[list[Any] | None, list[Any] | None, str]:
    """``(client, server, peer)`` of an accepted connection: the scope's
    ``client`` and ``server`` (``[host, port]``; on a UNIX socket no client and
    ``[path, None]``) and the client's label for log lines. ``proxied``: what a
    PROXY protocol header said replaces the socket's own addresses."""
    client, server, peer = _socket_addresses(transport)
    if proxied is not None:
        if proxied.client is not None:
            client = list(proxied.client)
            peer = client_label(client)
        if proxied.server is not None:
            server = list(proxied.server)
    return client, server, peer


def _socket_addresses(
    transport: asyncio.BaseTransport,
) -> tuple[list[Any] | None, list[Any] | None, str]:
    sock = transport.get_extra_info("socket")
    if getattr(sock, "family", None) == socket.AF_UNIX:
        sockname = transport.get_extra_info("sockname")
        if isinstance(sockname, bytes):
            sockname = sockname.decode("utf-8", "surrogateescape")
        return None, [sockname or "", None], "unix"
    peer = transport.get_extra_info("peername")
    here = transport.get_extra_info("sockname")
    client = [peer[0], peer[1]] if peer else None
    server = [here[0], here[1]] if here else None
    return client, server, client_label(client)
