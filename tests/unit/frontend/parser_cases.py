"""What the HTTP/1.1 parser tests share: both backends as a fixture, feeding, expected heads.

test_http_parser.py (well-formed requests, end of input),
test_http_parser_errors.py (malformed requests, limits) and
test_http_parser_agreement.py (random requests and mutations, grammar both
backends follow, known differences) run every test on both backends with
the ``kind`` fixture defined here (each assigns it to a module name).
"""

from __future__ import annotations

import pytest
from pagi.frontend.http1.parser import (
    Body,
    ParseError,
    ParserEvent,
    ParserLimits,
    RequestHead,
    make_parser,
)

KINDS = ["h11", "httptools"]
SMALL = ParserLimits(max_request_line=100, max_header_size=200, max_headers=5)


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def merged(events: list[ParserEvent]) -> list[ParserEvent]:
    """Adjacent Body events joined (how a message's body was cut depends on
    the feeds, not on the backend)."""
    out: list[ParserEvent] = []
    for ev in events:
        if isinstance(ev, Body) and out and isinstance(out[-1], Body):
            out[-1] = Body(out[-1].data + ev.data)
        else:
            out.append(ev)
    return out


def parse(
    kind: str, *pieces: bytes, limits: ParserLimits | None = None, eof: bool = True
) -> list[ParserEvent]:
    parser = make_parser(kind, limits or ParserLimits())
    events: list[ParserEvent] = []
    for piece in pieces:
        events += parser.feed(piece)
    if eof:
        events += parser.feed_eof()
    return events


def error_of(kind: str, *pieces: bytes, limits: ParserLimits | None = None) -> ParseError:
    with pytest.raises(ParseError) as info:
        parse(kind, *pieces, limits=limits)
    assert info.value.reason and isinstance(info.value.reason, str)
    assert str(info.value) == info.value.reason
    return info.value


def head(
    method: str = "GET",
    target: bytes = b"/",
    version: str = "1.1",
    headers: list[tuple[bytes, bytes]] | None = None,
    keep_alive: bool = True,
    chunked: bool = False,
    content_length: int | None = None,
    expect_continue: bool = False,
    upgrade: bytes | None = None,
) -> RequestHead:
    return RequestHead(
        method,
        target,
        version,
        [(b"host", b"a")] if headers is None else headers,
        keep_alive,
        chunked,
        content_length,
        expect_continue,
        upgrade,
    )


GET = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"
POST = b"POST /p?q=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"
CHUNKED = (
    b"PUT /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
    b'5;name=value;flag\r\nhello\r\n7;q="quoted \\" ext"\r\n, world\r\n'
    b"0;last\r\nX-Trailer: dropped\r\nX-Other: also\r\n\r\n"
)
POST_HEAD = head(
    "POST", b"/p?q=1", headers=[(b"host", b"a"), (b"content-length", b"5")], content_length=5
)
CHUNKED_HEAD = head(
    "PUT", b"/c", headers=[(b"host", b"a"), (b"transfer-encoding", b"chunked")], chunked=True
)


def req(*fields: bytes, line: bytes = b"POST / HTTP/1.1", body: bytes = b"") -> bytes:
    """A request from its request line, field lines and body."""
    return line + b"\r\n" + b"".join(f + b"\r\n" for f in fields) + b"\r\n" + body


def get(*fields: bytes, line: bytes = b"GET / HTTP/1.1") -> bytes:
    return req(*fields, line=line)


def chunked(body: bytes) -> bytes:
    return req(HOST, TE, body=body)


HOST = b"Host: a"
TE = b"Transfer-Encoding: chunked"
CL3 = b"Content-Length: 3"
H = HOST + b"\r\n"
