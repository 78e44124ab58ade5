"""What a stream needs from the protocol connection it runs on.

A stream (:class:`~.http_stream.HTTPStream`, :class:`~.ws_stream.WSStream`)
never touches a socket. It talks to

* its **host**, the client connection (:class:`StreamHost`): addresses for the
  scope and the log, the loop, the shared front context;
* its **writer** (:class:`HTTPWriter` / :class:`WSWriter`): the protocol's way
  of putting this stream's response on the wire and of regulating this
  stream's input. HTTP/1.1 implements them in :mod:`pagi.frontend.http1`;
  HTTP/2 implements them once per HTTP/2 stream.

Flow control in both directions is expressed with three things: the writer's
``paused`` flag plus the stream's ``on_writable()`` (response direction: the
stream withholds the worker's credit while ``paused``), and the stream's
``window`` plus the writer's ``resume_input()`` (request direction: the
protocol hands the stream at most ``window`` request bytes; when a CREDIT
raises it the stream calls ``resume_input()``).
"""

from __future__ import annotations

import asyncio
from typing import Any, NamedTuple, Protocol

from ..connections import FrontContext

Headers = list[list[bytes]]
ExtraHeaders = tuple[tuple[bytes, bytes], ...]


class Refusal(NamedTuple):
    """A response head the writer will not send: the status the client gets
    instead, and why (for the log line)."""

    status: int
    why: str


class StreamHost(Protocol):
    """The client connection as its streams see it."""

    ctx: FrontContext
    loop: asyncio.AbstractEventLoop
    #: ``[host, port]`` of the client / of our socket (port None on UNIX), or None
    client: list[Any] | None
    server: list[Any] | None
    #: OPEN's ``extras`` for every scope of the connection (the ``tls``
    #: extension on a TLS connection, else empty; never modified)
    scope_extras: dict[str, Any]

    @property
    def peer(self) -> str:
        """The client's address for log lines."""

    @property
    def scheme(self) -> str:
        """``"http"`` or ``"https"`` (from the listener)."""


class ResponseWriter(Protocol):
    """Writing one HTTP response: what an HTTP stream and a WebSocket denial share.

    ``respond`` decides the framing and holds the head; the next ``data`` (or
    ``flush``) writes it, joined with that body piece when there is one, so a
    small response leaves in one write.
    """

    #: True while the client is not taking bytes as fast as they come: the
    #: stream withholds response credit until its ``on_writable()`` is called.
    paused: bool

    def respond(
        self,
        status: int,
        headers: Headers,
        trailers: bool,
        length: int | None,
        final: bool,
    ) -> Refusal | None:
        """Prepare the response head (``length``: the body length if already
        known; ``final``: the body is complete with the next ``data``).

        Returns None, or why the app's head is unusable (nothing was written;
        the stream answers the refusal's status instead: 500 for the app's
        mistake, 502 for a head that could split the response).
        """

    def flush(self) -> None:
        """Write a head that ``respond`` prepared, if it has not gone out yet."""

    def data(self, body: bytes, final: bool) -> int:
        """Write a body piece (after a held head). ``final`` without announced
        trailers also ends the body. Returns the body bytes accepted (fewer
        than ``len(body)`` past a declared content-length)."""

    def room(self, nbytes: int) -> int:
        """How many of ``nbytes`` more body bytes the response may carry."""

    def reply(self, status: int, message: str, extra: ExtraHeaders) -> int:
        """Write a complete response of the front's own instead of the app's
        (nothing of a response was written yet); returns its body length."""

    def end(self) -> None:
        """The response has been handed over completely (after the final
        ``data``, ``trailers`` or ``reply``): the connection moves on (for a
        WebSocket's HTTP answer: stops sending, drains the input, closes)."""

    def abort(self) -> None:
        """The response cannot be completed: reset (HTTP/1.1: the connection)."""

    def blocked(self) -> bool:
        """No point writing now: ``paused``, or the connection is going away."""

    def buffered(self) -> int:
        """Bytes written but not yet sent to the client."""


class HTTPWriter(ResponseWriter, Protocol):
    """An HTTP stream's writer (``http`` and ``sse`` scopes)."""

    def trailers(self, headers: Headers | None) -> Refusal | None:
        """End the body with a trailer section (None: just the end); or, for a
        section that could split the response, write nothing and say why."""

    def open_ended(self) -> bool:
        """Bytes the app did not send may be added to the body (an SSE comment):
        the body has no declared length and is not empty by definition."""

    def cut(self) -> None:
        """End the response without its end marker, after what was written
        reaches the client (HTTP/1.1: close the connection; HTTP/2: RST_STREAM
        CANCEL): an incomplete response never looks complete (PAGI Www 0.6)."""

    def send_continue(self) -> None:
        """``100 Continue`` if the client still waits for it (Expect: 100-continue)."""

    def resume_input(self) -> None:
        """The stream's ``window`` grew: hand it more request body if any waits."""


class WSWriter(ResponseWriter, Protocol):
    """A WebSocket stream's writer: the handshake answer, then frames.

    Frames are encoded and decoded by the stream (RFC 6455 framing is the same
    on HTTP/1.1 and inside HTTP/2 DATA, RFC 8441); the writer carries bytes.
    """

    def accept(
        self, subprotocol: str | None, extensions: bytes | None, headers: Headers
    ) -> Refusal | None:
        """Write the handshake's success (HTTP/1.1: ``101``; HTTP/2: ``:status 200``);
        or, for app headers that could split the head, write nothing and say why."""

    #: The client's input is paused (as :meth:`pause_input` / :meth:`resume_input` left it).
    input_paused: bool

    def send(self, data: bytes | bytearray) -> None:
        """Write frame bytes."""

    def pause_input(self) -> None:
        """Stop handing the stream client bytes until :meth:`resume_input`."""

    def resume_input(self) -> None: ...

    def half_close(self) -> bool:
        """Stop sending but keep receiving; False if the connection could not."""

    def close(self) -> None:
        """Close after what was written."""
