"""Admitting client connections: connection limits and file-descriptor pressure.

Every accepted client socket starts with a :class:`Gate` as its protocol
(``connection_factory``); in ``connection_made`` the gate decides and then
hands the transport to the real connection with ``transport.set_protocol``
(so it costs nothing after the first callback) or to a :class:`Refused`:

* ``--max-connections N``: with N client connections open (HTTP and
  WebSocket, counted in ``ctx.connections``), a new one gets ``503`` with
  ``retry-after: 1`` and is closed;
* ``--max-connections-per-ip N``: with N open from the same IP address, a
  new one from it gets ``429`` with ``retry-after: 1``. UNIX-socket clients
  have no address and are not counted.
* **Descriptor pressure.** The kernel gives a new socket the lowest free
  descriptor, so an accepted socket numbered near the soft ``RLIMIT_NOFILE``
  means the table is nearly full. Then (once per episode, logged once) the
  idle keep-alive connections are closed to make room; the episode ends when
  an accepted socket is numbered below the low-water mark again. When the
  table is full, ``accept`` fails with EMFILE inside uvloop (libuv): it keeps
  one descriptor in reserve to accept and at once close the waiting
  connections, so the listener neither spins nor stops, and serves again as
  soon as descriptors are free.

Each kind of refusal is logged once per episode (an episode ends when a
connection is admitted again), never once per connection.

The per-address counts live in ``ctx.connections``
(:class:`~.connections.ConnectionSet`).
"""

from __future__ import annotations

import asyncio
import logging
import resource
from collections.abc import Callable
from typing import Any

from .connections import ConnectionSet
from .http1.responses import server_response

logger = logging.getLogger("pagi.front")

#: How long a refused connection is drained before it is closed (so the
#: client reads the refusal rather than a reset).
REFUSED_LINGER = 1.0
#: Descriptor pressure starts at this fraction of the soft limit, ends below
#: the second.
PRESSURE_HIGH = 0.9
PRESSURE_LOW = 0.8
_RETRY_AFTER = ((b"retry-after", b"1"),)


class ConnectionLimits:
    """The limits and the descriptor-pressure state of one front."""

    def __init__(
        self,
        connections: ConnectionSet,
        max_connections: int,
        max_per_address: int,
        reap_idle: Callable[[], int],
        fd_limit: int | None = None,
    ) -> None:
        self.connections = connections
        self.max_connections = max_connections
        self.max_per_address = max_per_address
        self._reap_idle = reap_idle
        self._fixed_limit = fd_limit  # None: the process's soft limit, read at each accept
        self.under_pressure = False
        self._refusing = False  # a refusal was logged; re-armed by an admission

    def descriptor(self, fd: int) -> None:
        """An accepted socket got descriptor ``fd``: track the pressure episode.

        The limit is read each time (one cheap syscall), so a limit changed
        at run time (``prlimit``) counts at once.
        """
        limit = self._fixed_limit
        if limit is None:
            limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
            if limit == resource.RLIM_INFINITY or limit <= 0:
                return
        if fd >= limit * PRESSURE_HIGH:
            if not self.under_pressure:
                self.under_pressure = True
                reaped = self._reap_idle()
                logger.warning(
                    "file descriptors nearly exhausted (a new connection got fd %d; limit %d): "
                    "closed %d idle keep-alive connection(s); new connections may be refused "
                    "until descriptors are free",
                    fd,
                    limit,
                    reaped,
                )
        elif fd < limit * PRESSURE_LOW and self.under_pressure:
            self.under_pressure = False
            logger.info("file descriptors available again (a new connection got fd %d)", fd)

    def refusal(self, address: str | None) -> tuple[int, str] | None:
        """The status and message refusing a new connection, or None to admit it."""
        connections = self.connections
        if self.max_connections and len(connections) >= self.max_connections:
            self._log_refusal(f"--max-connections {self.max_connections} reached: answering 503")
            return 503, "too many connections"
        if (
            self.max_per_address
            and address is not None
            and connections.by_address.get(address, 0) >= self.max_per_address
        ):
            self._log_refusal(
                f"--max-connections-per-ip {self.max_per_address} reached by {address}: "
                "answering 429"
            )
            return 429, "too many connections from this address"
        self._refusing = False
        return None

    def _log_refusal(self, message: str) -> None:
        if not self._refusing:
            self._refusing = True
            logger.warning("%s (logged once until a connection is admitted again)", message)


class Gate(asyncio.Protocol):
    """The first protocol of an accepted socket: admits or refuses it."""

    __slots__ = ("_admission", "_make", "_server_header")

    def __init__(
        self, limits: ConnectionLimits, make: Callable[[], asyncio.Protocol], server_header: bool
    ) -> None:
        self._admission = limits
        self._make = make
        self._server_header = server_header

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        admission = self._admission
        sock = transport.get_extra_info("socket")
        fd = sock.fileno() if sock is not None else -1
        if fd >= 0:
            admission.descriptor(fd)
        address = None
        if admission.max_per_address:
            peer = transport.get_extra_info("peername")
            if isinstance(peer, tuple) and peer:
                address = str(peer[0])
        refusal = admission.refusal(address)
        protocol: asyncio.Protocol
        if refusal is None:
            protocol = self._make()
        else:
            status, message = refusal
            response = server_response(
                status, message, extra_headers=_RETRY_AFTER, server_header=self._server_header
            )
            protocol = Refused(response, linger=not admission.under_pressure)
        transport.set_protocol(protocol)
        protocol.connection_made(transport)


class Refused(asyncio.Protocol):
    """Writes the refusal, half-closes, drains input briefly, then closes."""

    def __init__(self, response: bytes, linger: bool) -> None:
        self._response = response
        self._linger = linger
        self._transport: Any = None
        self._timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport
        transport.write(self._response)  # type: ignore[attr-defined]
        if not self._linger or not transport.can_write_eof():  # type: ignore[attr-defined]
            transport.close()
            return
        transport.write_eof()  # type: ignore[attr-defined]
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(REFUSED_LINGER, transport.close)

    def data_received(self, data: bytes) -> None:
        pass  # the request is not read

    def eof_received(self) -> bool:
        self._transport.close()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


def connection_factory(
    limits: ConnectionLimits, make: Callable[[], asyncio.Protocol], server_header: bool
) -> Callable[[], asyncio.Protocol]:
    """The protocol factory for ``loop.create_server``: a :class:`Gate` each."""
    return lambda: Gate(limits, make, server_header)


def reap_idle(connections: ConnectionSet) -> int:
    """Close every idle keep-alive connection; return how many were closed."""
    reaped = 0
    for conn in list(connections):
        close_if_idle = getattr(conn, "close_if_idle", None)
        if close_if_idle is not None and close_if_idle():
            reaped += 1
    return reaped
