"""HTTP/1.1 request parsing with h11, the pure-Python reference backend.

h11's ``Connection`` insists on a response before it reads the next request,
and it tolerates things the front refuses (identical duplicate
``Content-Length`` fields, obs-fold, bare LF, some control characters, loose
chunk lines). So this backend reads each head itself and lets h11 check it and
decode the body:

* the request line is checked as its bytes arrive, by the rules llhttp applies
  (:func:`.request_line.check_request_line_start`), including the 414 limit;
* the header section is collected in ``_buf``; bare CR/LF, control characters
  and obs-fold are refused as soon as they are seen, the 431 limits as soon as
  they are exceeded, and the fields are replayed in llhttp's order
  (:func:`.field_walk.walk_fields`) so that a head with several defects gets the
  status the httptools backend gives;
* a complete head goes through :func:`.request_checks.build_head`, then to a
  fresh ``h11.Connection(h11.SERVER)`` (request line in canonical form);
* a body goes through that connection; a chunked one is first checked by
  :class:`~.chunked_framing.ChunkedFraming`, which also stops at the message's end, so h11
  never holds bytes of the next request and its connection is just dropped.

Invariant: while no body is being read, ``_buf`` holds exactly the bytes not
yet parsed, starting at the current (or next) request head.
"""

from __future__ import annotations

import re
from typing import Final

import h11

from .chunked_framing import ChunkedFraming
from .field_walk import walk_fields
from .parser import (
    Body,
    EndOfMessage,
    ParseError,
    ParserEvent,
    ParserLimits,
    RequestHead,
    TakesOver,
)
from .request_checks import build_head
from .request_line import (
    H2_PREFACE,
    H2_PREFACE_REASON,
    check_request_line_start,
    is_simple_request,
    parse_request_line,
)

# Empty lines a client may send before a request line (RFC 9112 section 2.2);
# like llhttp, any run of CR and LF bytes is skipped.
_BLANK_LINES: Final = re.compile(rb"[\r\n]*")
# One byte (or pair) that makes a head malformed wherever it appears in the
# header section; the group that matched names the problem.
_BAD_HEAD_BYTES: Final = re.compile(
    rb"([\x00-\x08\x0b\x0c\x0e-\x1f\x7f])|(\r[^\n])|((?<!\r)\n)|(\n[ \t])"
)
_BAD_HEAD_REASONS: Final = (
    "",
    "control character in header field",
    "bare CR in header field",
    "bare LF line ending",
    "obsolete line folding in header field",
)
_OBS_FOLD: Final = 4  # the group of _BAD_HEAD_BYTES that matches obs-fold
_CR: Final = 13
_CR_LF: Final = (13, 10)

# h11 only ever holds what the checks here let through (a whole head; whole
# chunk and trailer lines), already bounded by the limits, so its own bound
# (which would count differently) is set out of the way.
_NO_H11_LIMIT: Final = 2**62


def _head_error(exc: h11.RemoteProtocolError) -> ParseError:
    text = str(exc)
    if text.startswith("illegal header line"):
        reason = "malformed header line"
    elif text.startswith("illegal request line"):
        reason = "malformed request line"
    else:
        reason = "malformed request head"
    return ParseError(exc.error_status_hint, reason)


def _body_error(exc: h11.RemoteProtocolError) -> ParseError:
    if exc.error_status_hint == 431:
        return ParseError(431, "chunk header or trailer section too large")
    return ParseError(exc.error_status_hint, "malformed chunked body")


class H11Parser:
    """The ``--http h11`` backend of :class:`~.http_parser.RequestParser`."""

    __slots__ = (
        "_buf",
        "_chunks",
        "_closed",
        "_conn",
        "_error",
        "_keep_alive",
        "_limits",
        "_line_end",
        "_lines",
        "_remaining",
        "_request",
        "_scanned",
        "_takes_over",
        "_upgraded",
    )

    def __init__(self, limits: ParserLimits, takes_over: TakesOver) -> None:
        self._takes_over = takes_over
        self._limits = limits
        self._buf = bytearray()
        # Head state: _line_end is 0 until the request line is complete, then
        # the index just past its LF; _scanned is how far the header section
        # has been checked and its newlines counted (_lines).
        self._line_end = 0
        self._scanned = 0
        self._lines = 0
        self._request: tuple[str, bytes, str] = ("", b"", "")
        # Body state: the h11 connection reading it, and the Content-Length
        # bytes not yet handed to it or the framing check of a chunked body.
        self._conn: h11.Connection | None = None
        self._remaining = 0
        self._chunks: ChunkedFraming | None = None
        self._keep_alive = True
        self._closed = False  # a request without keep-alive ended; ignore the rest
        # A request another protocol takes over was parsed: _buf holds the new protocol's bytes.
        self._upgraded = False
        self._error: ParseError | None = None

    @property
    def upgraded(self) -> bool:
        """Parsing stopped after a request another protocol takes over (see :meth:`take_rest`)."""
        return self._upgraded

    def take_rest(self) -> bytes:
        """The bytes received after the taken-over request's head (once)."""
        rest = bytes(self._buf)
        self._buf.clear()
        return rest

    def feed(self, data: bytes) -> list[ParserEvent]:
        if self._error is not None:
            raise self._error
        if self._closed:
            return []
        if self._upgraded:
            self._buf += data
            return []
        self._buf += data
        events: list[ParserEvent] = []
        try:
            while True:
                if self._conn is None:
                    head = self._read_head()
                    if head is None:
                        break
                    events.append(head)
                    if not (head.chunked or head.content_length):
                        events.append(EndOfMessage())
                        if self._takes_over(head):
                            self._upgraded = True  # upgrade hook: the rest is not HTTP
                            break
                        if self._end_message(head.keep_alive):
                            break
                        continue
                    self._keep_alive = head.keep_alive
                if not self._read_body(events) or self._end_message(self._keep_alive):
                    break
        except ParseError as exc:
            self._error = exc
            raise
        return events

    def feed_eof(self) -> list[ParserEvent]:
        if self._error is not None:
            raise self._error
        if self._closed or self._upgraded:
            return []
        if self._conn is not None or self._buf.strip(b"\r\n"):
            error = ParseError(400, "incomplete request")
            if self._conn is None and self._line_end:
                # A head cut off: llhttp has already refused a bad field in
                # it (an empty Transfer-Encoding is 501), so find that first.
                # It judges a field once the byte after its CRLF arrives
                # (that byte could start an obs-fold): a last CRLF does not
                # finish the last field yet.
                stop = len(self._buf)
                if self._buf.endswith(b"\r\n"):
                    stop -= 2
                try:
                    self._walk(stop, complete=False)
                except ParseError as earlier:
                    error = earlier
            self._error = error
            raise error
        return []

    # -- heads ---------------------------------------------------------------

    def _read_head(self) -> RequestHead | None:
        """Parse the head at the start of ``_buf`` if it is complete.

        Returns None when more bytes are needed (after checking what has
        arrived, as llhttp would by then); on success the head's bytes are
        consumed and, for a request with a body, ``_conn`` is ready to read it.
        """
        buf = self._buf
        limits = self._limits
        if not self._line_end and not self._read_request_line():
            return None

        line_end = self._line_end
        scanned = self._scanned
        end = buf.find(b"\r\n\r\n", max(scanned - 3, line_end - 2))
        bad = _BAD_HEAD_BYTES.search(buf, scanned - 1, end + 4 if end >= 0 else len(buf))
        if bad is not None:
            kind = bad.lastindex or 0
            # llhttp sees the fields before the bad byte first; a folded line's
            # own field is never finished (the fold starts at its CRLF).
            stop = bad.start() - 1 if kind == _OBS_FOLD else bad.start()
            self._walk(stop, complete=False)
            raise ParseError(400, _BAD_HEAD_REASONS[kind])
        if end < 0:
            self._lines += buf.count(b"\n", scanned)
            self._scanned = len(buf)
            if self._lines > limits.max_headers:
                self._walk(len(buf), complete=False)  # raises once llhttp would
            if len(buf) - line_end > limits.max_header_size + 1:  # +1: a CR may end it
                self._walk(len(buf), complete=False)
                raise ParseError(431, "request header section too large")
            return None

        headers = self._walk(end + 2, complete=True)
        method, target, version = self._request
        head = build_head(method, target, version, headers)

        # h11 gets the request line in canonical form (llhttp, and so this
        # backend, accept runs of spaces between its parts; h11 does not).
        conn = h11.Connection(h11.SERVER, max_incomplete_event_size=_NO_H11_LIMIT)
        line = b"%s %s HTTP/%s\r\n" % (method.encode(), target, head.http_version.encode())
        conn.receive_data(line)
        if head.chunked:  # h11 wants exactly "chunked"; the list forms are ours
            block = b"".join(b"%s: %s\r\n" % f for f in headers if f[0] != b"transfer-encoding")
            conn.receive_data(block + b"transfer-encoding: chunked\r\n\r\n")
        else:
            conn.receive_data(bytes(buf[line_end : end + 4]))
        del buf[: end + 4]
        self._line_end = self._scanned = self._lines = 0
        try:
            event = conn.next_event()
        except h11.RemoteProtocolError as exc:
            raise _head_error(exc) from None
        if type(event) is not h11.Request:  # pragma: no cover - h11 saw a whole head
            raise ParseError(400, "malformed request head")
        if head.chunked:
            self._conn = conn
            self._chunks = ChunkedFraming(limits.max_header_size)
        elif head.content_length:
            self._conn = conn
            self._remaining = head.content_length
        return head

    def _read_request_line(self) -> bool:
        """Consume blank lines, then check the request line; True once whole.

        While the line is unfinished, what has arrived is checked as llhttp
        checks it (method, target, the 414 rule, the start of the version).
        """
        buf = self._buf
        limit = self._limits.max_request_line
        if buf and buf[0] in _CR_LF:
            skip = _BLANK_LINES.match(buf)
            if skip is not None and skip.end():
                del buf[: skip.end()]
                self._scanned = 0
        nl = buf.find(b"\n", self._scanned)
        if buf[:4] == b"PRI " and (
            nl < 0 or not is_simple_request(bytes(buf[:nl]).removesuffix(b"\r"))
        ):
            # PRI starts the HTTP/2 preface; only an HTTP/0.9 line (llhttp
            # reads "PRI target" without a version as one) goes on below.
            self._read_preface()
            return False
        if nl < 0:
            check_request_line_start(bytes(buf[: limit + 16]), limit, complete=False)
            if len(buf) > limit + 1:  # a run of spaces: llhttp needs no memory for it
                raise ParseError(414, "request line too long")
            self._scanned = len(buf)
            return False
        bare_lf = buf[nl - 1] != _CR
        line = bytes(buf[: nl if bare_lf else nl - 1])
        check_request_line_start(line, limit, complete=True)
        self._request = parse_request_line(line)
        if bare_lf:
            if not is_simple_request(line):
                raise ParseError(400, "bare LF line ending")
            # llhttp takes a bare LF after an HTTP/0.9 line (refused with 505
            # once the head ends); make it a CRLF for the scans that follow.
            buf[nl:nl] = b"\r"
            nl += 1
        self._line_end = self._scanned = nl + 1
        self._lines = 0
        return True

    def _walk(self, stop: int, complete: bool) -> list[tuple[bytes, bytes]]:
        """The header fields before ``stop`` (see :func:`.field_walk.walk_fields`)."""
        return walk_fields(self._buf, self._line_end, stop, self._limits, complete)

    def _read_preface(self) -> None:
        """``PRI`` starts only the HTTP/2 preface, refused with 505 once whole."""
        got = bytes(self._buf[: len(H2_PREFACE)])
        if not H2_PREFACE.startswith(got):
            raise ParseError(400, "malformed HTTP/2 connection preface")
        if len(got) == len(H2_PREFACE):
            raise ParseError(505, H2_PREFACE_REASON)

    # -- bodies --------------------------------------------------------------

    def _read_body(self, events: list[ParserEvent]) -> bool:
        """Hand buffered body bytes to h11; True once the message has ended.

        All body bytes decoded in this call become one :class:`Body` event.
        """
        conn = self._conn
        assert conn is not None
        buf = self._buf
        chunks = self._chunks
        if chunks is not None:
            n = chunks.advance(buf)
            if n:
                conn.receive_data(bytes(buf[:n]))
                del buf[:n]
        elif buf and self._remaining:
            n = min(self._remaining, len(buf))
            conn.receive_data(bytes(buf[:n]))
            del buf[:n]
            self._remaining -= n
        parts: list[bytes] = []
        ended = False
        try:
            while True:
                event = conn.next_event()
                if type(event) is h11.Data:
                    parts.append(bytes(event.data))
                elif type(event) is h11.EndOfMessage:  # trailers are dropped
                    ended = True
                    break
                else:  # NEED_DATA
                    break
        except h11.RemoteProtocolError as exc:
            raise _body_error(exc) from None
        if parts:
            events.append(Body(parts[0] if len(parts) == 1 else b"".join(parts)))
        if ended:
            events.append(EndOfMessage())
            self._conn = self._chunks = None
        return ended

    def _end_message(self, keep_alive: bool) -> bool:
        """A message ended; True if nothing after it is to be parsed.

        Upgrade hook: a WebSocket handshake (which has no body) stops the
        parser in :meth:`feed` before this is called; after any other request
        with ``head.upgrade`` (or CONNECT) the bytes in ``_buf`` are parsed as
        the next request (the upgrade is not taken).
        """
        if keep_alive:
            return False
        self._closed = True
        self._buf.clear()
        return True
