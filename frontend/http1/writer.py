"""HTTP/1.1 response framing: the :class:`~..streams.interfaces.HTTPWriter` of a connection.

One :class:`HTTP11Writer` exists per connection and serves its current
request (HTTP/1.1 has one response in flight); :meth:`begin` resets it for
each request. It turns the stream's calls into bytes: the head from
:func:`~.responses.build_head` (held until the first body piece so that both
leave in one write), content-length / chunked / close-delimited bodies,
trailers, ``100 Continue``, and the front's own responses.

Invariants:

* The head is written at most once, and before any body byte; ``data``
  joins a held head, the body piece and (final, no trailers) the chunked
  terminator into one ``write``.
* With a content-length, no more than that many body bytes are written (the
  excess is dropped with an error line, and the connection closes after the
  response); a response that ends short closes the connection too.
* ``keep_alive`` is the decision announced in the head: the client's wish,
  no shutdown, and (for a final head) the request read to its end.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Protocol

from ..streams.interfaces import Refusal
from .parser import RequestHead
from .response_checks import InvalidResponse
from .responses import (
    CHUNKED,
    CONTINUE,
    LAST_CHUNK,
    LENGTH,
    NO_BODY,
    UNTIL_CLOSE,
    build_head,
    chunk,
    last_chunk_with_trailers,
    server_response,
)

if TYPE_CHECKING:
    from ..config import FrontConfig
    from ..streams.interfaces import ExtraHeaders, Headers

logger = logging.getLogger("pagi.front")


class Described(Protocol):
    """The stream being answered, as error lines name it."""

    worker: str

    def label(self) -> str: ...


class ResponseSink(Protocol):
    """The connection an :class:`HTTP11Writer` writes for (HTTP/1.1, or a
    WebSocket's answer before its ``101``)."""

    config: FrontConfig
    peer: str
    closing: bool
    shutting_down: bool

    def write(self, data: bytes) -> None: ...
    def request_parsed(self) -> bool: ...
    def awaiting_body(self) -> bool: ...
    def response_done(self) -> None: ...
    def abort_transport(self) -> None: ...
    def process(self) -> None: ...
    def current_stream(self) -> Described | None: ...
    def transport_closing(self) -> bool: ...
    def buffered(self) -> int: ...


class HTTP11Writer:
    """The response side of an HTTP/1.x connection, for its current stream."""

    __slots__ = (
        "_conn",
        "_framing",
        "_held",
        "_http11",
        "_is_head",
        "_length",
        "_sent",
        "_trailers",
        "keep_alive",
        "paused",
    )

    def __init__(self, conn: ResponseSink) -> None:
        self._conn = conn
        self.paused = False  # the transport asked us to stop writing
        self.keep_alive = False
        self._http11 = True
        self._is_head = False
        self._framing = NO_BODY
        self._length: int | None = None  # content-length promised (LENGTH framing)
        self._sent = 0  # body bytes written
        self._held = b""  # the head, until the first body piece joins it
        self._trailers = False

    def begin(self, head: RequestHead) -> None:
        """A new request: forget the previous response."""
        self.keep_alive = head.keep_alive
        self._http11 = head.http_version == "1.1"
        self._is_head = head.method == "HEAD"
        self._framing = NO_BODY
        self._length = None
        self._sent = 0
        self._held = b""
        self._trailers = False

    # --- HTTPWriter -------------------------------------------------------------

    def respond(
        self, status: int, headers: Headers, trailers: bool, length: int | None, final: bool
    ) -> Refusal | None:
        conn = self._conn
        keep = self.keep_alive and not conn.shutting_down
        if keep and final and not conn.request_parsed():
            keep = False  # the body will not be read: announce the close
        try:
            head, framing, declared, keep = build_head(
                status,
                headers,
                http11=self._http11,
                keep_alive=keep,
                is_head=self._is_head,
                known_length=length,
                trailers=trailers,
                server_header=conn.config.server_header,
            )
        except InvalidResponse as exc:
            return Refusal(exc.status, str(exc))
        self._held = head
        self._framing = framing
        self._length = declared
        self._trailers = trailers
        self.keep_alive = keep
        return None

    def flush(self) -> None:
        held = self._held
        if held:
            self._held = b""
            self._conn.write(held)

    def data(self, body: bytes, final: bool) -> int:
        framing = self._framing
        n = len(body)
        if n and framing != NO_BODY:
            if framing == CHUNKED:
                out = chunk(body)
            else:
                if framing == LENGTH:
                    assert self._length is not None
                    room = self._length - self._sent
                    if n > room:
                        self._overflow()
                        body = body[:room]
                        n = room
                out = body
            self._sent += n
        else:
            out = b""
            n = 0
        held = self._held
        if final and framing == CHUNKED and not self._trailers:
            out = b"".join((held, out, LAST_CHUNK))
        elif held:
            out = held + out
        if held:
            self._held = b""
        if out:
            self._conn.write(out)
        return n

    def room(self, nbytes: int) -> int:
        framing = self._framing
        if framing == NO_BODY:
            return 0
        if framing == LENGTH:
            assert self._length is not None
            return min(nbytes, self._length - self._sent)
        return nbytes

    def trailers(self, headers: Headers | None) -> Refusal | None:
        if self._framing == CHUNKED:
            try:
                block = LAST_CHUNK if headers is None else last_chunk_with_trailers(headers)
            except InvalidResponse as exc:
                return Refusal(exc.status, str(exc))
        else:
            block = b""  # trailers need chunked framing (HTTP/1.0): dropped
        out = self._held + block
        self._held = b""
        if out:
            self._conn.write(out)
        return None

    def cut(self) -> None:
        out = self._held
        self._held = b""
        if out:
            self._conn.write(out)
        self.keep_alive = False  # no end marker: the close ends the body
        self._conn.response_done()

    def open_ended(self) -> bool:
        return self._framing == CHUNKED or self._framing == UNTIL_CLOSE

    def reply(self, status: int, message: str, extra: ExtraHeaders) -> int:
        conn = self._conn
        keep = self.keep_alive and not conn.shutting_down and conn.request_parsed()
        data = server_response(
            status,
            message,
            keep_alive=keep,
            http11=self._http11,
            is_head=self._is_head,
            extra_headers=extra,
            server_header=conn.config.server_header,
        )
        self.keep_alive = keep
        self._framing = NO_BODY
        self._held = b""
        conn.write(data)
        return 0 if self._is_head else len(data) - data.index(b"\r\n\r\n") - 4

    def end(self) -> None:
        length = self._length
        if self._framing == LENGTH and length is not None and self._sent < length:
            stream = self._conn.current_stream()
            logger.error(
                "the response to %s from %s ended after %d of its %d bytes of "
                "content-length (worker %s); closing the connection",
                stream.label() if stream else "-",
                self._conn.peer,
                self._sent,
                length,
                stream.worker if stream else "-",
            )
            self.keep_alive = False
        self._conn.response_done()

    def abort(self) -> None:
        self._conn.abort_transport()

    def blocked(self) -> bool:
        return self.paused or self._conn.closing or self._conn.transport_closing()

    def buffered(self) -> int:
        return self._conn.buffered()

    def send_continue(self) -> None:
        if self._conn.awaiting_body():
            self._conn.write(CONTINUE)

    def resume_input(self) -> None:
        self._conn.process()

    # --- internals ------------------------------------------------------------

    def _overflow(self) -> None:
        stream = self._conn.current_stream()
        logger.error(
            "app sent more body than its content-length %d for %s (worker %s); "
            "extra bytes dropped, connection will close",
            self._length,
            stream.label() if stream else "-",
            stream.worker if stream else "-",
        )
        self.keep_alive = False
