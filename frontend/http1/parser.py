"""The one small interface every HTTP/1.1 request parser implements.

A parser is sans-I/O: :meth:`RequestParser.feed` takes bytes read from one
client connection and returns the events they complete, for any number of
pipelined requests, in order. The connection (``http11.py``) never sees which
backend it has; ``--http h11|httptools|auto`` picks one via :func:`make_parser`.
The rules themselves (what is refused with which status, keep-alive, limits)
are in ``docs/http1-parsing.md``; the semantic ones live in
:mod:`.request_checks`, shared by both backends.

Invariants every backend keeps (the shared test suite checks them):

* A :class:`RequestHead` is followed by zero or more :class:`Body` events and
  exactly one :class:`EndOfMessage` before the next request's head.
* Body data is de-chunked; chunk extensions and request trailers are dropped.
  The body bytes of one message decoded by one ``feed`` call come as a single
  :class:`Body` event (never an empty one); how a body is cut into events
  depends only on how the bytes were fed, not on the backend.
* Header names are lower-case bytes; values have surrounding whitespace
  stripped; order and duplicates are preserved.
* Every malformed input raises :class:`ParseError` carrying the status the
  client must get (400, 414, 431, 501, 505). Events completed by the same
  ``feed`` call are discarded with it. After that the parser is unusable
  (every later call raises the same error) and the connection answers and
  closes.
* Limits are enforced while bytes arrive, never after buffering unboundedly:
  a request line longer than ``max_request_line`` -> 414, a header block larger
  than ``max_header_size`` or with more than ``max_headers`` fields -> 431.
* After a request whose ``keep_alive`` is false has ended, the rest of the
  stream is ignored: ``feed`` returns ``[]`` and ``feed_eof`` does not fail.
* A request another protocol takes over (``takes_over(head)`` is true; the
  connection passes the predicate, today "a WebSocket handshake") ends the
  HTTP stream: after its head and end, ``upgraded`` is true, ``feed``
  returns ``[]`` and keeps the bytes, and :meth:`RequestParser.take_rest`
  returns everything received after the head (both backends mark the spot
  with an "Upgrade hook" comment). Any other upgrade request (``upgrade``
  set) or CONNECT is an ordinary request: its head, its body if it has one,
  its end, then the next request. The parsers know no protocol but HTTP/1.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


@dataclass(slots=True)
class ParserLimits:
    # method + target + 10 (a canonical "METHOD SP target SP HTTP/x.y" line)
    max_request_line: int = 8190
    # the header field lines, counted as name + value + 4 bytes each
    max_header_size: int = 65536
    max_headers: int = 100  # header fields


@dataclass(slots=True)
class RequestHead:
    method: str  # as sent, e.g. "GET"
    target: bytes  # the raw request-target, e.g. b"/a%20b?x=1"
    http_version: str  # "1.0" or "1.1"
    headers: list[tuple[bytes, bytes]]  # lower-case names, stripped values
    keep_alive: bool  # per version and the Connection header
    chunked: bool  # Transfer-Encoding: chunked
    content_length: int | None  # None when absent (or chunked)
    expect_continue: bool  # Expect: 100-continue (HTTP/1.1 only)
    upgrade: bytes | None  # lower-cased Upgrade value when Connection has "upgrade"


@dataclass(slots=True)
class Body:
    data: bytes


@dataclass(slots=True)
class EndOfMessage:
    pass


#: The one EndOfMessage a parser needs (it has no fields; building one per
#: request is a Python-level ``__init__`` call).
END_OF_MESSAGE = EndOfMessage()


ParserEvent = RequestHead | Body | EndOfMessage


class ParseError(Exception):
    """The request is malformed; ``status`` is what the client gets.

    ``reason`` is a short phrase naming the problem (for the error body and
    the log line), e.g. "both Content-Length and Transfer-Encoding present";
    it is a fixed phrase (at most a version number comes from the request).
    """

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class RequestParser(Protocol):
    def feed(self, data: bytes) -> list[ParserEvent]:
        """Parse more bytes; return completed events. Raises ParseError."""
        ...

    def feed_eof(self) -> list[ParserEvent]:
        """The client half-closed: ``[]`` between requests, or
        ``ParseError(400, "incomplete request")`` inside a head or body."""
        ...

    @property
    def upgraded(self) -> bool:
        """Parsing stopped after a request another protocol takes over."""
        ...

    def take_rest(self) -> bytes:
        """After such a request: the bytes that followed its head."""
        ...


#: Which parsed requests end the HTTP stream (see the module doc).
TakesOver = Callable[[RequestHead], bool]


def _never(head: RequestHead) -> bool:
    return False


def make_parser(
    kind: str, limits: ParserLimits, takes_over: TakesOver | None = None
) -> RequestParser:
    """A parser for ``--http``: ``h11``, ``httptools``, or ``auto``
    (httptools when importable, else h11). ``takes_over``: see the module doc
    (None: no request does)."""
    claims = takes_over or _never
    if kind == "auto":
        try:
            import httptools  # noqa: F401
        except ImportError:
            kind = "h11"
        else:
            kind = "httptools"
    if kind == "h11":
        from .parser_h11 import H11Parser

        return H11Parser(limits, claims)
    if kind == "httptools":
        from .parser_httptools import HttptoolsParser

        return HttptoolsParser(limits, claims)
    raise ValueError(f"unknown HTTP parser {kind!r}; choose h11, httptools or auto")
