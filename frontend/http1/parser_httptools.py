"""HTTP/1.1 request parsing with httptools (llhttp), the fast default backend.

llhttp runs in its strict mode and calls back into this object; the callbacks
collect the head, enforce the limits as the bytes arrive, and apply
:func:`.request_checks.build_head` when the head is complete. An exception
raised in a callback comes back from ``feed_data`` as
``HttpParserCallbackError`` with the original as ``__context__``; llhttp's own
errors are mapped to the status the h11 backend gives for the same bytes.

Upgrades: llhttp stops after a request it considers an upgrade (``Connection:
upgrade`` with an ``Upgrade`` field, or CONNECT) and reports where the message
ended. After a request another protocol takes over (``takes_over``, a WebSocket
handshake today)
parsing stops there and the rest is kept for :meth:`HttptoolsParser.take_rest`;
after any other, the rest is parsed by a fresh llhttp parser as the next request. When
llhttp skipped the body of such a request (it assumes the body belongs to the
new protocol) the body is read through the fresh parser behind a synthetic
head that carries the same framing, whose callbacks emit nothing for it.

Where llhttp is stricter than RFC 9112 it runs in three lenient modes whose
cases the shared rules then decide: versions (``HTTP/1.2`` is served as 1.1,
:func:`.request_checks.build_head`), spaces after a chunk size (the BWS
before a chunk extension), and transfer codings (so that ``, chunked`` and
``chunked<TAB>`` are ``chunked``). When llhttp would not de-chunk a body the
rules call chunked (it reads such a body until the connection closes), the
bytes after the head go to a fresh parser behind a synthetic chunked head,
as for a skipped upgrade body. An unknown method is judged by
:func:`.request_line.method_error` from the request's first bytes, which
:meth:`HttptoolsParser._method_verdict` finds again (llhttp does not say
where it failed).

Invariant: between ``feed`` calls no body bytes are held back -- every decoded
byte is in an emitted :class:`Body` event; llhttp keeps only a partial field.
"""

from __future__ import annotations

from typing import Final

from httptools import (
    HttpParserCallbackError,
    HttpParserError,
    HttpParserInvalidMethodError,
    HttpParserUpgrade,
    HttpRequestParser,
)

from .llhttp_rules import LENIENCIES, llhttp_error, message_start
from .parser import (
    END_OF_MESSAGE,
    Body,
    ParseError,
    ParserEvent,
    ParserLimits,
    RequestHead,
    TakesOver,
)
from .request_checks import FORBIDDEN_TRAILERS, build_head
from .request_line import LONGEST_METHOD, method_error

# Bytes of a request's start enough for method_error's verdict.
_METHOD_WINDOW: Final = LONGEST_METHOD + 2
# Bytes beyond the limits a head may grow to before it is refused even though
# llhttp has not finished a field (it buffers a partial field out of sight).
_HEAD_SLACK: Final = 8


class _Stop(Exception):
    """Raised from on_message_complete to stop llhttp after a closing request."""


class HttptoolsParser:
    """The ``--http httptools`` backend of :class:`~.http_parser.RequestParser`."""

    __slots__ = (
        "_chunk_pending",
        "_closed",
        "_completions",
        "_error",
        "_events",
        "_handoff",
        "_head",
        "_head_budget",
        "_head_fed",
        "_headers",
        "_hsize",
        "_in_head",
        "_in_message",
        "_limits",
        "_line_carry",
        "_max_header_size",
        "_max_headers",
        "_max_request_line",
        "_method",
        "_parser",
        "_parts",
        "_pending_method",
        "_rest",
        "_skipped_body",
        "_synthetic",
        "_takes_over",
        "_target",
        "_upgraded",
    )

    def __init__(self, limits: ParserLimits, takes_over: TakesOver) -> None:
        self._takes_over = takes_over
        self._limits = limits
        self._max_request_line = limits.max_request_line
        self._max_header_size = limits.max_header_size
        self._max_headers = limits.max_headers
        self._head_budget = limits.max_request_line + limits.max_header_size + _HEAD_SLACK
        self._parser = self._new_parser()
        self._events: list[ParserEvent] = []
        self._parts: list[bytes] = []  # body bytes of this feed, not yet an event
        # The message being parsed.
        self._method = ""
        self._target = b""
        self._headers: list[tuple[bytes, bytes]] = []
        self._hsize = 0  # header block bytes so far (name + value + 4 per field)
        self._head: RequestHead | None = None
        self._in_head = False  # between message begin and headers complete
        self._in_message = False  # between message begin and message complete
        self._head_fed = 0  # bytes fed while a head was already in progress
        self._skipped_body = False  # llhttp treated this body as upgrade data
        self._synthetic = False  # the head being parsed is ours, not the client's
        self._closed = False  # a request without keep-alive ended; ignore the rest
        # A request another protocol takes over was parsed: _rest holds the new protocol's bytes.
        self._upgraded = False
        self._rest = bytearray()
        self._error: ParseError | None = None
        # llhttp was given a body the rules call chunked as a plain one: the
        # raw bytes it handed on_body, for a parser that de-chunks them.
        self._chunk_pending = False
        self._handoff: list[bytes] = []
        # Locating a request whose method llhttp refused: messages completed
        # by the current llhttp parser in this feed, the first bytes of a
        # request whose method is still arriving (None: not known), and the
        # start of a refused request still too short to judge.
        self._completions = 0
        self._line_carry: bytes | None = None
        self._pending_method: bytes | None = None

    # -- RequestParser -------------------------------------------------------

    @property
    def upgraded(self) -> bool:
        """Parsing stopped after a request another protocol takes over (see :meth:`take_rest`)."""
        return self._upgraded

    def take_rest(self) -> bytes:
        """The bytes received after the taken-over request's head (once)."""
        rest = bytes(self._rest)
        self._rest.clear()
        return rest

    def feed(self, data: bytes) -> list[ParserEvent]:
        if self._error is not None:
            raise self._error
        if self._upgraded:
            self._rest += data
            return []
        if self._closed:
            return []
        if self._pending_method is not None:
            return self._judge_method(self._pending_method + data)
        if self._in_head:
            self._head_fed += len(data)
        events = self._events = []
        # The bytes known to start at a request boundary before ``data``.
        if not self._in_message:
            base: bytes | None = b""
        else:
            base = self._line_carry
        self._completions = 0
        try:
            self._feed(data, base)
            if self._parts:
                self._flush_body()
            if self._in_head and self._head_fed > self._head_budget:
                raise ParseError(431, "request header section too large")
            if self._in_head and not self._target:  # still at the request's method
                self._carry_line(base, data)
            elif self._line_carry is not None:
                self._line_carry = None
        except ParseError as exc:
            self._error = exc
            raise
        return events

    def feed_eof(self) -> list[ParserEvent]:
        if self._error is not None:
            raise self._error
        if self._pending_method is not None or (
            self._in_message and not self._closed and not self._upgraded
        ):
            self._error = ParseError(400, "incomplete request")
            raise self._error
        return []

    def _feed(self, data: bytes, base: bytes | None) -> None:
        view: bytes | memoryview = data
        while True:
            try:
                self._parser.feed_data(view)
                if not self._handoff:
                    return
                # llhttp read a chunked body as a plain one: de-chunk it anew.
                view = b"".join(self._handoff)
                self._handoff.clear()
                self._chunk_pending = False
                self._parser = self._new_parser()
                self._resume_body()
                base = None
            except HttpParserUpgrade as exc:
                head = self._head
                if head is not None and not self._skipped_body and self._takes_over(head):
                    # Upgrade hook: after a WebSocket handshake the bytes are
                    # the new protocol's; keep them for take_rest().
                    self._upgraded = True
                    self._rest += memoryview(view)[exc.args[0] :]
                    return
                # Any other upgrade is not taken: parse on as HTTP.
                view = memoryview(view)[exc.args[0] :]
                self._parser = self._new_parser()
                if self._skipped_body:
                    self._resume_body()
                base = None
                if not view:
                    return
            except HttpParserCallbackError as exc:
                cause = exc.__context__
                if isinstance(cause, _Stop):
                    return
                if isinstance(cause, ParseError):
                    raise cause from None
                raise
            except HttpParserInvalidMethodError:
                self._method_verdict(base, data)
                return
            except HttpParserError as exc:
                raise llhttp_error(exc, self._parser, self._in_head, self._in_message) from None

    def _new_parser(self) -> HttpRequestParser:
        parser = HttpRequestParser(self)
        parser.set_dangerous_leniencies(**LENIENCIES)
        return parser

    def _method_verdict(self, base: bytes | None, data: bytes) -> None:
        """llhttp refused a method: find the request's first bytes and judge.

        ``base + data`` starts at a request boundary, and the refused request
        follows the ``_completions`` ones completed in this feed. When the
        start cannot be known (a request that began in an earlier read and
        was past its method then, or an upgrade in between) the verdict is
        400.
        """
        self._line_carry = None
        if base is None:
            raise ParseError(400, "unknown or malformed method")
        buf = base + data
        start = message_start(buf, self._completions)
        if start < 0:
            raise ParseError(400, "unknown or malformed method")
        self._judge_method(buf[start:])

    def _judge_method(self, start: bytes) -> list[ParserEvent]:
        """Raise :func:`.request_line.method_error`'s verdict on ``start``, or
        keep it until one more byte can decide (nothing else is parsed)."""
        error = method_error(start)
        if error is None:
            if b" " in start.lstrip(b"\r\n"):  # llhttp refused what the rules let pass
                error = ParseError(400, "unknown or malformed method")
            else:
                self._pending_method = start
                return []
        self._pending_method = None
        self._error = error
        raise error

    def _carry_line(self, base: bytes | None, data: bytes) -> None:
        """A feed ended inside a request's method: keep its first bytes."""
        if base is None:
            self._line_carry = None
            return
        buf = base + data
        start = message_start(buf, self._completions)
        if start < 0:
            self._line_carry = None
            return
        self._line_carry = buf[start:].lstrip(b"\r\n")[:_METHOD_WINDOW]

    def _resume_body(self) -> None:
        """Read the skipped body of an upgrade request through the new parser."""
        head = self._head
        assert head is not None
        self._skipped_body = False
        self._synthetic = True
        if head.chunked:
            self._parser.feed_data(b"PUT / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n")
        else:
            framing = f"PUT / HTTP/1.1\r\nContent-Length: {head.content_length}\r\n\r\n"
            self._parser.feed_data(framing.encode("ascii"))

    def _flush_body(self) -> None:
        parts = self._parts
        self._events.append(Body(parts[0] if len(parts) == 1 else b"".join(parts)))
        parts.clear()

    # -- llhttp callbacks ----------------------------------------------------

    def on_message_begin(self) -> None:
        self._in_head = self._in_message = True
        self._line_carry = None
        self._method = ""
        self._target = b""
        self._headers = []
        self._hsize = 0
        self._head_fed = 0

    def on_url(self, url: bytes) -> None:
        if self._target:  # the target arrived in several pieces
            url = self._target + url
        else:
            self._method = self._parser.get_method().decode("ascii")
        self._target = url
        # method SP target SP HTTP/x.y: the line is at least this long.
        if len(url) + len(self._method) + 10 > self._max_request_line:
            raise ParseError(414, "request line too long")

    def on_header(self, name: bytes, value: bytes) -> None:
        size = self._hsize = self._hsize + len(name) + len(value) + 4
        if self._in_head:
            headers = self._headers
            headers.append((name.lower(), value.rstrip(b" \t")))
            if len(headers) > self._max_headers:
                raise ParseError(431, "too many request header fields")
            if size > self._max_header_size:
                raise ParseError(431, "request header section too large")
            return
        # A trailer field: checked, then dropped.
        if name.lower() in FORBIDDEN_TRAILERS:
            raise ParseError(400, "forbidden field in trailer section")
        if size > self._max_header_size:
            raise ParseError(431, "trailer section too large")

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._hsize = 0
        if self._synthetic:
            self._synthetic = False
            return
        head = build_head(
            self._method, self._target, self._parser.get_http_version(), self._headers
        )
        if self._parts:
            self._flush_body()
        self._events.append(head)
        self._head = head
        if (head.chunked or head.content_length) and self._parser.should_upgrade():
            self._skipped_body = True
        elif head.chunked:
            self._chunk_pending = True  # until llhttp shows it de-chunks

    def on_chunk_header(self) -> None:
        self._chunk_pending = False

    def on_body(self, body: bytes) -> None:
        if self._chunk_pending:
            self._handoff.append(body)
            return
        self._parts.append(body)

    def on_message_complete(self) -> None:
        self._completions += 1
        if self._skipped_body:  # the body follows, through the next parser
            return
        if self._parts:
            self._flush_body()
        self._events.append(END_OF_MESSAGE)
        self._in_message = False
        head = self._head
        if head is not None and not head.keep_alive:
            self._closed = True
            raise _Stop
