"""The front's client-facing sockets: the listeners and what accepts on each.

A :class:`ClientSockets` belongs to the running front
(:class:`~.server.FrontServer`). It holds the listening sockets (bound here,
or adopted from the previous front in a hand-over), the TLS contexts they
share, and for each listener what accepts its connections: an asyncio server
whose protocol factory is the listener's
:class:`~.selector.ProtocolSelector` behind the connection limits (and the
PROXY protocol gate with ``--proxy-protocol``), or a
:class:`~.tls.acceptor.TlsAcceptor` for a ``tls://`` listener.

Invariants: TLS contexts exist exactly when a listener is ``tls://``;
``--proxy-protocol`` is refused on such a listener (the PROXY header would
precede the handshake); after :meth:`stop_accepting` no connection is
accepted and the listening sockets are closed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from functools import partial

from .config import FrontConfig
from .connection_limits import ConnectionLimits, connection_factory, reap_idle
from .connections import FrontContext
from .listeners import Listener, ListenError, close_listeners, open_listeners
from .proxy_gate import ProxyProtocolGate
from .tls.acceptor import TlsAcceptor
from .tls.contexts import ServerContexts, tls_settings

logger = logging.getLogger("pagi.front")


class ClientSockets:
    """Where clients connect: listeners, TLS contexts, and the accepting side."""

    __slots__ = ("_acceptors", "_config", "_ctx", "_servers", "listeners", "tls")

    def __init__(self, ctx: FrontContext, config: FrontConfig) -> None:
        self._ctx = ctx
        self._config = config
        self.listeners: list[Listener] = []
        self.tls: ServerContexts | None = None
        self._servers: list[asyncio.AbstractServer] = []
        self._acceptors: list[TlsAcceptor] = []

    @property
    def accepting(self) -> bool:
        """Some listener accepts connections."""
        return bool(self._servers or self._acceptors)

    def open(self) -> None:
        """Bind ``--bind``/``--uds``/``--fd``. Raises :class:`ListenError`."""
        config = self._config
        self.listeners = open_listeners(
            config.listen_addresses(), config.uds, config.fds, config.backlog, config.fd_names
        )

    def prepare_tls(self) -> None:
        """The TLS contexts, if a listener is ``tls://``. Raises
        :class:`ListenError` or :class:`~.tls.contexts.TlsConfigError`."""
        config = self._config
        if any(listener.tls for listener in self.listeners):
            if config.proxy_protocol:
                raise ListenError(
                    "--proxy-protocol is not supported on tls:// listeners "
                    "(the PROXY header precedes the TLS handshake)"
                )
            alpn = ("h2", "http/1.1") if config.http2 else ("http/1.1",)
            self.tls = ServerContexts(tls_settings(config, alpn))

    async def start(self) -> None:
        """Accept on every listener."""
        from .selector import ProtocolSelector

        config = self._config
        ctx = self._ctx
        loop = asyncio.get_running_loop()
        limits = ConnectionLimits(
            ctx.connections,
            config.max_connections,
            config.max_connections_per_ip,
            lambda: reap_idle(ctx.connections),
        )
        for listener in self.listeners:
            selector = ProtocolSelector(ctx, listener)
            if listener.tls:
                assert self.tls is not None
                acceptor = TlsAcceptor(
                    listener.sock, self.tls, selector, config.ssl_handshake_timeout,
                    config.server_header,
                )  # fmt: skip
                acceptor.start()
                self._acceptors.append(acceptor)
                continue
            factory: Callable[[], asyncio.Protocol] = selector
            if config.proxy_protocol:
                factory = partial(ProxyProtocolGate, selector, config.header_timeout)
            factory = connection_factory(limits, factory, config.server_header)
            server = await loop.create_server(factory, sock=listener.sock, backlog=config.backlog)
            self._servers.append(server)

    def log_listening(self) -> None:
        """The ``listening on`` lines scripts take as "ready"."""
        for listener in self.listeners:
            if listener.name:
                logger.info("listening on %s (socket %s)", listener.url, listener.name)
            else:
                logger.info("listening on %s", listener.url)

    def stop_accepting(self) -> None:
        """Accept nothing more and close the listening sockets (idempotent)."""
        for acceptor in self._acceptors:
            acceptor.close()
        self._acceptors = []
        for server in self._servers:
            server.close()
        close_listeners(self.listeners)
        self.listeners = []
