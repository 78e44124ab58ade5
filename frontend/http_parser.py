"""The one small interface every HTTP/1.1 request parser implements.

A parser is sans-I/O: :meth:`RequestParser.feed` takes bytes read from one
client connection and returns the events they complete, for any number of
pipelined requests, in order. The connection (``http11.py``) never sees which
backend it has; ``--http h11|httptools|auto`` picks one via :func:`make_parser`.

Invariants every backend keeps (the shared test suite checks them):

* A :class:`RequestHead` is followed by zero or more :class:`Body` events and
  exactly one :class:`EndOfMessage` before the next request's head.
* Body data is de-chunked; chunk extensions and request trailers are dropped.
* Header names are lower-case bytes; values have surrounding whitespace
  stripped; order and duplicates are preserved.
* Every malformed input raises :class:`ParseError` carrying the status the
  client must get (400, 414, 431, 501); after that the parser is unusable
  and the connection answers and closes.
* Limits are enforced while bytes arrive, never after buffering unboundedly:
  a request line longer than ``max_request_line`` -> 414, a header block larger
  than ``max_header_size`` or with more than ``max_headers`` fields -> 431.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(slots=True)
class ParserLimits:
    max_request_line: int = 8190
    max_header_size: int = 65536
    max_headers: int = 100


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
    upgrade: bytes | None  # lower-cased Upgrade token when Connection: upgrade


@dataclass(slots=True)
class Body:
    data: bytes


@dataclass(slots=True)
class EndOfMessage:
    pass


ParserEvent = RequestHead | Body | EndOfMessage


class ParseError(Exception):
    """The request is malformed; ``status`` is what the client gets."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class RequestParser(Protocol):
    def feed(self, data: bytes) -> list[ParserEvent]:
        """Parse more bytes; return completed events. Raises ParseError."""
        ...

    def feed_eof(self) -> list[ParserEvent]:
        """The client half-closed; raise ParseError if a request is cut short."""
        ...


def make_parser(kind: str, limits: ParserLimits) -> RequestParser:
    """A parser for ``--http``: ``h11``, ``httptools``, or ``auto``
    (httptools when importable, else h11)."""
    if kind == "auto":
        try:
            import httptools  # noqa: F401
        except ImportError:
            kind = "h11"
        else:
            kind = "httptools"
    if kind == "h11":
        from .parser_h11 import H11Parser

        return H11Parser(limits)
    if kind == "httptools":
        from .parser_httptools import HttptoolsParser

        return HttptoolsParser(limits)
    raise ValueError(f"unknown HTTP parser {kind!r}; choose h11, httptools or auto")
