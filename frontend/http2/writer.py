"""The writer of one HTTP/2 stream: what a protocol-neutral stream talks to.

:class:`H2Writer` implements :class:`~..streams.interfaces.HTTPWriter` for an
``http``/``sse`` scope and :class:`~..streams.interfaces.WSWriter` for a
``websocket`` scope over an extended CONNECT (RFC 8441). The stream above it
(:class:`~..streams.http_stream.HTTPStream`, :class:`~..streams.ws_stream.WSStream`)
never knows it is on HTTP/2.

* **Response direction.** The head and body go into a
  :class:`~.output.StreamOutput`, handed to the engine at once as far as both HTTP/2
  windows allow. ``paused`` is true while body bytes wait there (or the
  socket is backed up), so the stream withholds the worker's credit; once
  they have left, the connection calls the stream's ``on_writable()``.
* **Request direction.** DATA waits in ``_input`` and is handed to the
  stream — an HTTP stream no more than its ``window``, a WebSocket stream
  while its input is not paused — and only bytes handed over are
  acknowledged (WINDOW_UPDATE), so a stream whose app does not read slows its
  client and no one else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from . import frames as F
from .heads import (
    CONNECTION_SPECIFIC,
    Headers,
    date_value,
    response_headers,
    server_answer,
    status_value,
)
from .output import StreamOutput

if TYPE_CHECKING:
    from ..config import FrontConfig
    from ..streams.http_stream import HTTPStream
    from ..streams.interfaces import ExtraHeaders, Refusal
    from ..streams.interfaces import Headers as AppHeaders
    from ..streams.ws_stream import WSStream
    from .core import H2Core

_NO_BODY_STATUS = frozenset({204, 304})
_CONTINUE = [(b":status", b"100")]


class H2Host(Protocol):
    """The HTTP/2 connection as its writers see it."""

    core: H2Core
    config: FrontConfig

    @property
    def closing(self) -> bool: ...

    @property
    def write_paused(self) -> bool: ...

    def flushed(self, writer: H2Writer) -> None:
        """Output went to the engine: write it to the socket soon; forget a finished stream."""


class H2Writer:
    """Both directions of one HTTP/2 stream."""

    __slots__ = (
        "_host",
        "_input",
        "_is_head",
        "_received",
        "ended",
        "http",
        "input_ended",
        "input_paused",
        "out",
        "paused",
        "reset_sent",
        "sid",
        "ws",
    )

    def __init__(self, host: H2Host, sid: int, is_head: bool, input_ended: bool) -> None:
        self._host = host
        self.sid = sid
        self._is_head = is_head
        self.out = StreamOutput(sid, no_body=is_head)
        self.paused = host.write_paused
        self.input_paused = False
        self._input = bytearray()
        self._received = 0  # request body bytes the client sent (--max-body-size)
        self.input_ended = input_ended  # the client's END_STREAM has arrived
        self.ended = False  # the stream is done with this writer (end/close/abort)
        self.reset_sent = False
        self.http: HTTPStream | None = None
        self.ws: WSStream | None = None

    def __repr__(self) -> str:
        return f"<H2Writer sid={self.sid} pending={self.out.pending} ended={self.ended}>"

    @property
    def stream(self) -> HTTPStream | WSStream | None:
        return self.http if self.http is not None else self.ws

    def label(self) -> str:
        stream = self.stream
        return stream.label() if stream is not None else f"stream {self.sid}"

    @property
    def finished(self) -> bool:
        """Nothing more will go out on this stream."""
        return self.reset_sent or (self.ended and self.out.complete)

    # --- ResponseWriter ------------------------------------------------------------

    def respond(
        self, status: int, headers: AppHeaders, trailers: bool, length: int | None, final: bool
    ) -> Refusal | None:
        if status in _NO_BODY_STATUS:
            self.out.no_body = True
        server = self._host.config.server_header
        self.out.start(response_headers(status, headers, server), trailers)
        return None

    def flush(self) -> None:
        self.out.head_now = True
        self.push()

    def data(self, body: bytes, final: bool) -> int:
        out = self.out
        out.body(body, not final)
        self.push()
        return 0 if out.no_body else len(body)

    def room(self, nbytes: int) -> int:
        return 0 if self.out.no_body else nbytes

    def reply(self, status: int, message: str, extra: ExtraHeaders) -> int:
        head, body = server_answer(status, message, self._host.config.server_header, extra)
        self.out.close()
        self.out = out = StreamOutput(self.sid, no_body=self._is_head)
        out.start(head, False)
        out.body(body, False)
        self.push()
        return 0 if self._is_head else len(body)

    def end(self) -> None:
        self.ended = True
        self.push()

    def abort(self) -> None:
        self.reset(F.INTERNAL_ERROR)

    def blocked(self) -> bool:
        return self.paused or self.finished or self._host.closing

    def buffered(self) -> int:
        return self.out.pending

    # --- HTTPWriter ----------------------------------------------------------------

    def trailers(self, headers: AppHeaders | None) -> Refusal | None:
        if headers is None:
            self.out.end_without_trailers()
        else:
            self.out.trailers([(n, v) for n, v in headers if n not in CONNECTION_SPECIFIC])
        self.push()
        return None

    def cut(self) -> None:
        self.push()
        self.reset(F.CANCEL)

    def open_ended(self) -> bool:
        return not self.out.no_body

    def send_continue(self) -> None:
        if not self.out.head_sent and not self.input_ended and not self.finished:
            self._host.core.out.send_headers(self.sid, _CONTINUE)
            self._host.flushed(self)

    def resume_input(self) -> None:
        self.input_paused = False
        self.feed()

    # --- WSWriter --------------------------------------------------------------------

    def accept(
        self, subprotocol: str | None, extensions: bytes | None, headers: AppHeaders
    ) -> None:
        head: Headers = [(b":status", status_value(200))]
        if subprotocol:
            head.append((b"sec-websocket-protocol", subprotocol.encode("latin-1")))
        if extensions:
            head.append((b"sec-websocket-extensions", extensions))
        head += [(n, v) for n, v in headers if n not in CONNECTION_SPECIFIC]
        head.append((b"date", date_value()))
        if self._host.config.server_header:
            head.append((b"server", b"pagi"))
        self.out.start(head, False)
        self.flush()

    def send(self, data: bytes | bytearray) -> None:
        self.out.body(bytes(data), True)
        self.push()

    def pause_input(self) -> None:
        self.input_paused = True

    def half_close(self) -> bool:
        """END_STREAM after what is queued; the client's side stays open."""
        if not self.out.final:
            self.out.body(b"", False)
            self.push()
        return True

    def close(self) -> None:
        self.half_close()
        self.end()

    # --- the connection's side ---------------------------------------------------------

    def receive(self, data: bytes) -> int:
        """Request DATA from the client; returns the request body bytes so far."""
        if self.ended or self.reset_sent:
            self._host.core.consumed(self.sid, len(data))  # nobody will read it
            return self._received
        self._received += len(data)
        self._input += data
        self.feed()
        return self._received

    def input_end(self) -> None:
        self.input_ended = True
        self.feed()

    def feed(self) -> None:
        """Hand the stream what it takes now; acknowledge exactly that much."""
        if self.input_paused:
            return
        buffered = self._input
        http = self.http
        if http is not None:
            if http.request_done or http.waiting():
                return  # before OPEN nothing may go to the worker (the window is 0)
            n = min(len(buffered), max(http.window, 0))
            last = self.input_ended and n == len(buffered)
            if n or last:
                piece = bytes(buffered[:n])
                del buffered[:n]
                http.send_body(piece, not last)
                if n:
                    self._host.core.consumed(self.sid, n)
                self._host.flushed(self)
            return
        ws = self.ws
        if ws is not None and buffered:
            piece = bytes(buffered)
            buffered.clear()
            ws.receive(piece)
            self._host.core.consumed(self.sid, len(piece))
            self._host.flushed(self)

    def drop_input(self) -> None:
        """Acknowledge and forget request bytes nobody will read."""
        if self._input:
            self._host.core.consumed(self.sid, len(self._input))
            self._input.clear()

    def push(self) -> None:
        """Hand the engine what the windows allow now; update ``paused``."""
        if self.reset_sent:
            return
        host = self._host
        if not host.write_paused:
            sender = host.core.out
            if not sender.can_send(self.sid):
                # the stream was reset meanwhile, or the connection failed
                self.out.close()
            else:
                window = sender.window(self.sid) if self.out.pending else 0
                self.out.flush(sender, window, sender.max_outbound_frame_size)
        self.paused = host.write_paused or self.out.pending > 0
        host.flushed(self)

    def reset(self, code: int) -> None:
        """RST_STREAM ``code`` (the response cannot be completed)."""
        if self.reset_sent:
            return
        self.out.close()
        self.ended = True
        self.reset_sent = True
        self._host.core.out.reset_stream(self.sid, code)
        self.drop_input()
        self._host.flushed(self)
