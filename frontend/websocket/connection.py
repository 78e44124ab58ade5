"""A WebSocket over an HTTP/1.1 connection, from the upgrade request on.

When the request an :class:`~..http1.connection.HTTP11Connection` is about to
serve is a WebSocket handshake (:func:`.handshake.is_websocket_upgrade`, a
take-over of the listener's :class:`~..selector.ProtocolSelector`), that
connection retires and :func:`take_over` makes a :class:`WebSocketConnection`
the transport's protocol. It carries one :class:`~..streams.ws_stream.WSStream`:
it validates the HTTP/1.1 handshake (RFC 6455 section 4.2.1), hands the
stream the client's bytes, and writes for it through a :class:`WS11Writer`
(``101`` with ``Sec-WebSocket-Accept``, frames, HTTP answers instead of the
``101`` followed by a lingering close). Everything else about the WebSocket
is the stream's, and identical over HTTP/2.

See ``docs/websocket.md`` for the behaviour as a client and an app see it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from ..connections import LINGER_TIMEOUT, FrontContext
from ..http1.request_head import scope_headers, split_target
from ..http1.response_checks import InvalidResponse
from ..http1.writer import HTTP11Writer
from ..streams.interfaces import Refusal
from ..streams.ws_stream import WSStream
from .handshake import HandshakeError, accept_head, check_handshake

if TYPE_CHECKING:
    from ..http1.connection import HTTP11Connection
    from ..http1.parser import RequestHead
    from ..streams.interfaces import Headers

logger = logging.getLogger("pagi.front")


def take_over(conn: HTTP11Connection, head: RequestHead, rest: bytes, read_paused: bool) -> None:
    """Serve the rest of ``conn``'s socket as a WebSocket (a take-over hook of
    :class:`~..selector.TakeOvers`; ``conn`` has retired).

    ``rest``: client bytes that followed the request head; ``read_paused``:
    the transport's reading state as ``conn`` leaves it.
    """
    transport = conn.transport()
    ws = WebSocketConnection(conn, transport)
    writer = ws.writer
    writer.begin(head)
    writer.keep_alive = False  # every answer but the 101 closes the connection
    writer.input_paused = read_paused
    writer.paused = conn.writer.paused
    stream = ws.stream = WSStream(ws, writer, head.target, "1.1", ws.loop.time())
    if rest:
        stream.receive(rest)  # kept until the accept
    transport.set_protocol(ws)
    ws.ctx.connections.add(ws)
    try:
        handshake = check_handshake(head)
    except HandshakeError as exc:
        logger.info("%s bad request: %d %s", ws.peer, exc.status, exc.reason)
        stream.reply(exc.status, exc.reason, exc.headers)
        return
    writer.key = handshake.key
    raw_path, query = split_target(head.target)
    stream.start(
        raw_path, query, scope_headers(head.headers), handshake.subprotocols, handshake.extensions
    )


class WebSocketConnection(asyncio.Protocol):
    """The socket's protocol after a WebSocket upgrade request."""

    __slots__ = (
        "_bytes_in",
        "_bytes_out",
        "_linger",
        "_transport",
        "client",
        "closing",
        "config",
        "ctx",
        "loop",
        "opened_at",
        "peer",
        "scheme",
        "scope_extras",
        "server",
        "shutting_down",
        "stream",
        "writer",
    )

    protocol = "websocket"

    def __init__(self, conn: HTTP11Connection, transport: asyncio.Transport) -> None:
        self.ctx: FrontContext = conn.ctx
        self.config = conn.config
        self.loop = conn.loop
        self.client: list[Any] | None = conn.client
        self.server: list[Any] | None = conn.server
        self.peer = conn.peer
        self.scheme = conn.scheme
        self.scope_extras = conn.scope_extras
        self.opened_at = conn.opened_at
        self._bytes_in = conn.bytes_in()
        self._bytes_out = conn.bytes_out()
        self._transport = transport
        self._linger: asyncio.TimerHandle | None = None
        self.closing = False
        self.shutting_down = False
        self.writer = WS11Writer(self, transport)
        self.stream: WSStream

    def __repr__(self) -> str:
        return f"<WebSocketConnection {self.peer} {self.stream!r}>"

    # --- ClientConnection ---------------------------------------------------------

    def bytes_in(self) -> int:
        return self._bytes_in

    def bytes_out(self) -> int:
        return self._bytes_out + self.writer.sent

    def current(self) -> str:
        stream = self.stream
        return f"{stream.label()} (worker {stream.worker})"

    def shutdown(self) -> None:
        self.shutting_down = True
        self.stream.shutdown()

    def abort(self, reason: str) -> None:
        self.stream.abort(reason)

    # --- asyncio.Protocol -------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        self._bytes_in += len(data)
        self.stream.receive(data)

    def eof_received(self) -> bool:
        self.stream.client_eof()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.closing = True
        self.ctx.connections.discard(self)
        if self._linger is not None:
            self._linger.cancel()
            self._linger = None
        self.stream.client_lost()

    def pause_writing(self) -> None:
        self.writer.paused = True

    def resume_writing(self) -> None:
        self.writer.paused = False
        self.stream.on_writable()

    # --- what the HTTP/1.1 writer needs (a denial or an error answer) ---------------

    def write(self, data: bytes) -> None:
        transport = self._transport
        if not transport.is_closing():
            self._bytes_out += len(data)
            transport.write(data)

    def request_parsed(self) -> bool:
        return True

    def awaiting_body(self) -> bool:
        return False

    def process(self) -> None:
        pass

    def current_stream(self) -> WSStream:
        return self.stream

    def transport_closing(self) -> bool:
        return self._transport.is_closing()

    def buffered(self) -> int:
        return self._transport.get_write_buffer_size()

    def abort_transport(self) -> None:
        self.closing = True
        self._transport.abort()

    def response_done(self) -> None:
        """An HTTP answer instead of the accept went out: half-close, drain the
        input (at most :data:`LINGER_TIMEOUT`), close."""
        transport = self._transport
        if transport.is_closing():
            return
        if not transport.can_write_eof():
            transport.close()
            return
        try:
            transport.write_eof()
        except (OSError, RuntimeError):
            transport.close()
            return
        self.writer.resume_input()
        self._linger = self.loop.call_later(LINGER_TIMEOUT, transport.close)


class WS11Writer(HTTP11Writer):
    """The :class:`~..streams.interfaces.WSWriter` of a WebSocket on HTTP/1.1.

    The answers instead of the ``101`` are framed as HTTP/1.1 responses by the
    inherited :class:`~..http1.writer.HTTP11Writer` (the connection closes
    after them); after the ``101`` only frame bytes are written.
    """

    __slots__ = ("_transport", "input_paused", "key", "sent")

    def __init__(self, conn: WebSocketConnection, transport: asyncio.Transport) -> None:
        super().__init__(conn)
        self._transport = transport
        self.key = b""  # Sec-WebSocket-Key, once the handshake is valid
        self.input_paused = False  # as the transport is now
        self.sent = 0  # frame bytes written

    def accept(
        self, subprotocol: str | None, extensions: bytes | None, headers: Headers
    ) -> Refusal | None:
        server_header = self._conn.config.server_header
        try:
            head = accept_head(
                self.key, subprotocol, extensions, headers, server_header=server_header
            )
        except InvalidResponse as exc:  # the worker sent what could split the head
            return Refusal(exc.status, str(exc))
        self.send(head)
        return None

    def send(self, data: bytes | bytearray) -> None:
        transport = self._transport
        if not transport.is_closing():
            self.sent += len(data)
            transport.write(data)

    def pause_input(self) -> None:
        transport = self._transport
        if not self.input_paused and not transport.is_closing():
            self.input_paused = True
            transport.pause_reading()

    def resume_input(self) -> None:
        transport = self._transport
        if self.input_paused and not transport.is_closing():
            self.input_paused = False
            transport.resume_reading()

    def half_close(self) -> bool:
        transport = self._transport
        if transport.can_write_eof() and not transport.is_closing():
            try:
                transport.write_eof()
            except (OSError, RuntimeError):
                return False
        return True

    def close(self) -> None:
        self._transport.close()
