"""Which protocol serves a newly accepted client connection.

One :class:`ProtocolSelector` exists per listener and is the protocol factory
given to ``loop.create_server``. It knows the listener's ``scheme`` (``https``
on a TLS listener, else ``http``) and the requests an HTTP/1.1 connection
hands to another protocol (:class:`TakeOvers`).

With ``--http2`` (the default) every connection starts with a
:class:`~.http2.switch.ProtocolSwitch`, which hands it to HTTP/2
(:class:`~.http2.connection.HTTP2Connection`) on ALPN ``h2`` or the
cleartext prior-knowledge preface, and to HTTP/1.1
(:class:`~.http1.connection.HTTP11Connection`) otherwise (``Upgrade: h2c`` is
not honoured, see ``docs/http2.md``). On HTTP/1.1 a WebSocket handshake is
taken over by :func:`~.websocket.connection.take_over`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Protocol

from .http1.connection import HTTP11Connection
from .http2.switch import ProtocolSwitch
from .websocket.handshake import is_websocket_upgrade

if TYPE_CHECKING:
    from .connections import FrontContext, ProxiedAddresses
    from .http1.parser import RequestHead
    from .listeners import Listener


class TakeOver(Protocol):
    """Serve the rest of an HTTP/1.1 connection with another protocol.

    ``conn`` has retired (it left ``ctx.connections`` and will write nothing
    more); ``rest`` is what the client sent after ``head``; ``read_paused``
    is the transport's reading state as ``conn`` leaves it.
    """

    def __call__(
        self, conn: HTTP11Connection, head: RequestHead, rest: bytes, read_paused: bool
    ) -> None: ...


class TakeOvers:
    """The requests an HTTP/1.1 connection hands to another protocol.

    ``claims(head)`` is asked for every request head (the parser stops after
    one it claims); ``take_over`` then runs the hook whose predicate matched.
    """

    __slots__ = ("_hooks", "claims")

    def __init__(self, hooks: list[tuple[Callable[[RequestHead], bool], TakeOver]]) -> None:
        self._hooks = hooks
        if len(hooks) == 1:
            self.claims: Callable[[RequestHead], bool] = hooks[0][0]  # the common case, no loop
        else:
            self.claims = self._any

    def _any(self, head: RequestHead) -> bool:
        return any(claims(head) for claims, _hook in self._hooks)

    def take_over(
        self, conn: HTTP11Connection, head: RequestHead, rest: bytes, read_paused: bool
    ) -> None:
        for claims, hook in self._hooks:
            if claims(head):
                hook(conn, head, rest, read_paused)
                return


def websocket_take_over(
    conn: HTTP11Connection, head: RequestHead, rest: bytes, read_paused: bool
) -> None:
    """The WebSocket take-over; its modules (and wsproto) load with the first one."""
    from .websocket.connection import take_over

    take_over(conn, head, rest, read_paused)


class ProtocolSelector:
    """The protocol factory of one listener (see the module doc)."""

    __slots__ = ("_ctx", "scheme", "take_overs")

    def __init__(self, ctx: FrontContext, listener: Listener) -> None:
        self._ctx = ctx
        self.scheme = "https" if listener.tls else "http"
        self.take_overs = TakeOvers([(is_websocket_upgrade, websocket_take_over)])

    def __call__(self, proxied: ProxiedAddresses | None = None) -> asyncio.Protocol:
        """The first protocol of a new connection; ``proxied``: the addresses a
        PROXY protocol header gave (proxy_gate.py)."""
        self._ctx.metrics.connections_accepted += 1
        if self._ctx.config.http2:
            return ProtocolSwitch(self._ctx, self.scheme, partial(self._http1, proxied), proxied)
        return self._http1(proxied)

    def _http1(self, proxied: ProxiedAddresses | None = None) -> asyncio.Protocol:
        return HTTP11Connection(self._ctx, self.scheme, self.take_overs, proxied)
