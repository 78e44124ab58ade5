"""The HTTP/1.1 request parsers: every test runs on both backends.

Inputs are raw bytes; the expectations are the events and error statuses the
interface (``pagi.frontend.http1.parser``) promises, identical for ``h11`` and
``httptools``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pagi.frontend.http1.parser import (
    Body,
    EndOfMessage,
    ParseError,
    ParserEvent,
    ParserLimits,
    RequestHead,
    make_parser,
)
from pagi.frontend.http1.parser_h11 import H11Parser
from pagi.frontend.http1.parser_httptools import HttptoolsParser
from pagi.frontend.websocket.handshake import is_websocket_upgrade

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


# --- well-formed requests ------------------------------------------------------------


def test_simple_get(kind: str) -> None:
    assert parse(kind, GET) == [head(), EndOfMessage()]


def test_post_with_content_length(kind: str) -> None:
    assert parse(kind, POST) == [POST_HEAD, Body(b"hello"), EndOfMessage()]


def test_chunked_body_extensions_and_trailers_dropped(kind: str) -> None:
    # All the chunks of one feed come as one Body event.
    assert parse(kind, CHUNKED) == [CHUNKED_HEAD, Body(b"hello, world"), EndOfMessage()]


def test_body_arrives_as_it_is_fed(kind: str) -> None:
    parser = make_parser(kind, ParserLimits())
    assert parser.feed(POST[:-3]) == [POST_HEAD, Body(b"he")]
    assert parser.feed(b"l") == [Body(b"l")]
    assert parser.feed(b"lo" + GET) == [Body(b"lo"), EndOfMessage(), head(), EndOfMessage()]
    assert parser.feed_eof() == []


def test_zero_length_bodies(kind: str) -> None:
    data = (
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n"
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    )
    assert parse(kind, data) == [
        head("POST", headers=[(b"host", b"a"), (b"content-length", b"0")], content_length=0),
        EndOfMessage(),
        head("POST", headers=[(b"host", b"a"), (b"transfer-encoding", b"chunked")], chunked=True),
        EndOfMessage(),
    ]


def test_one_hundred_pipelined_requests_in_one_feed(kind: str) -> None:
    data = b"".join(
        b"GET /%d HTTP/1.1\r\nHost: a\r\n\r\n" % i
        if i % 2
        else b"POST /%d HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n%03d" % (i, i)
        for i in range(100)
    )
    events = parse(kind, data)
    heads = [ev for ev in events if isinstance(ev, RequestHead)]
    assert [h.target for h in heads] == [b"/%d" % i for i in range(100)]
    bodies = [ev.data for ev in events if isinstance(ev, Body)]
    assert bodies == [b"%03d" % i for i in range(0, 100, 2)]
    assert sum(isinstance(ev, EndOfMessage) for ev in events) == 100
    # Each head is followed by its body (if any) and its end, in order.
    kinds = [type(ev).__name__[0] for ev in events]
    assert "".join(kinds) == "".join("RE" if i % 2 else "RBE" for i in range(100))


def test_empty_lines_between_requests_are_skipped(kind: str) -> None:
    assert parse(kind, b"\r\n\r\n" + GET + b"\r\n" + GET + b"\r\n") == [
        head(),
        EndOfMessage(),
        head(),
        EndOfMessage(),
    ]


def test_byte_by_byte(kind: str) -> None:
    data = GET + POST + CHUNKED + GET
    whole = parse(kind, data)
    assert merged(parse(kind, *(data[i : i + 1] for i in range(len(data))))) == merged(whole)
    assert len(whole) == 10


def test_every_split_point(kind: str) -> None:
    data = POST + CHUNKED
    expected = [POST_HEAD, Body(b"hello"), EndOfMessage()]
    expected += [CHUNKED_HEAD, Body(b"hello, world"), EndOfMessage()]
    for i in range(len(data) + 1):
        assert merged(parse(kind, data[:i], data[i:])) == expected, i
        for j in range(i, len(data) + 1, 7):
            assert merged(parse(kind, data[:i], data[i:j], data[j:])) == expected, (i, j)


def test_headers_lower_cased_stripped_order_and_duplicates_kept(kind: str) -> None:
    data = (
        b"GET / HTTP/1.1\r\nHOST: a\r\nX-Dup: 1\r\nAccept:  text/html \t\r\n"
        b"x-dup: 2\r\nX-Empty:\r\nX-Tab:\tv\tw\t\r\nX-High: \xe9t\xe9\r\n\r\n"
    )
    assert parse(kind, data)[0] == head(
        headers=[
            (b"host", b"a"),
            (b"x-dup", b"1"),
            (b"accept", b"text/html"),
            (b"x-dup", b"2"),
            (b"x-empty", b""),
            (b"x-tab", b"v\tw"),
            (b"x-high", b"\xe9t\xe9"),
        ]
    )


def test_request_line_forms(kind: str) -> None:
    data = (
        b"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"
        b"GET http://a:80/x?y HTTP/1.1\r\nHost: a\r\n\r\n"
        b"GET /a%20b?c=%22 HTTP/1.1\r\nHost: a\r\n\r\n"
        b"M-SEARCH * HTTP/1.1\r\nHost: a\r\n\r\n"
        b"GET  /spaces   HTTP/1.1\r\nHost: a\r\n\r\n"
    )
    heads = [ev for ev in parse(kind, data) if isinstance(ev, RequestHead)]
    assert [(h.method, h.target) for h in heads] == [
        ("OPTIONS", b"*"),
        ("GET", b"http://a:80/x?y"),
        ("GET", b"/a%20b?c=%22"),
        ("M-SEARCH", b"*"),
        ("GET", b"/spaces"),
    ]


KEEP_ALIVE = [
    ("1.1", None, True),
    ("1.1", b"close", False),
    ("1.1", b"Close", False),
    ("1.1", b"keep-alive", True),
    ("1.1", b"foo, CLOSE", False),
    ("1.1", b"upgrade", True),
    ("1.0", None, False),
    ("1.0", b"keep-alive", True),
    ("1.0", b"Keep-Alive", True),
    ("1.0", b"te, keep-alive ", True),
    ("1.0", b"keep-alive, close", False),
    ("1.0", b"close", False),
]


@pytest.mark.parametrize(("version", "connection", "keep_alive"), KEEP_ALIVE)
def test_keep_alive_matrix(
    kind: str, version: str, connection: bytes | None, keep_alive: bool
) -> None:
    data = b"GET / HTTP/%s\r\nHost: a\r\n" % version.encode()
    if connection is not None:
        data += b"Connection: " + connection + b"\r\n"
    got = parse(kind, data + b"\r\n")[0]
    assert isinstance(got, RequestHead)
    assert got.keep_alive is keep_alive


def test_connection_tokens_from_several_fields(kind: str) -> None:
    data = b"GET / HTTP/1.0\r\nConnection: te\r\nConnection: keep-alive\r\n\r\n"
    got = parse(kind, data)[0]
    assert isinstance(got, RequestHead) and got.keep_alive


def test_bytes_after_a_closing_request_are_ignored(kind: str) -> None:
    parser = make_parser(kind, ParserLimits())
    closing = b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
    events = parser.feed(closing + GET + b"garbage")
    assert [type(ev) for ev in events] == [RequestHead, EndOfMessage]
    assert parser.feed(b"\x00 more garbage") == []
    assert parser.feed_eof() == []
    parser = make_parser(kind, ParserLimits())
    assert len(parser.feed(b"GET / HTTP/1.0\r\n\r\n")) == 2
    assert parser.feed(GET) == []


@pytest.mark.parametrize(
    ("version", "value", "expected"),
    [
        ("1.1", b"100-continue", True),
        ("1.1", b"100-Continue", True),
        ("1.1", b" 100-continue ", True),
        ("1.1", b"200-ok", False),
        ("1.0", b"100-continue", False),
    ],
)
def test_expect_continue(kind: str, version: str, value: bytes, expected: bool) -> None:
    data = b"POST / HTTP/%s\r\nHost: a\r\nExpect: %s\r\nContent-Length: 2\r\n\r\n" % (
        version.encode(),
        value,
    )
    parser = make_parser(kind, ParserLimits())
    got = parser.feed(data)
    assert len(got) == 1 and isinstance(got[0], RequestHead)
    assert got[0].expect_continue is expected
    assert got[0].content_length == 2
    assert parser.feed(b"ok") == [Body(b"ok"), EndOfMessage()]


def test_websocket_upgrade_ends_the_http_stream(kind: str) -> None:
    # What follows a WebSocket handshake is the WebSocket's (take_rest), not HTTP.
    data = (
        b"GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: WebSocket\r\n"
        b"Connection: keep-alive, Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n" + GET
    )
    parser = make_parser(kind, ParserLimits(), is_websocket_upgrade)
    events = parser.feed(data)
    assert len(events) == 2
    first = events[0]
    assert isinstance(first, RequestHead)
    assert first.upgrade == b"websocket"
    assert first.keep_alive
    assert events[1:] == [EndOfMessage()]
    assert parser.upgraded and parser.take_rest() == GET


@pytest.mark.parametrize(
    ("fields", "upgrade"),
    [
        (b"Upgrade: h2c\r\n", None),  # no Connection: upgrade
        (b"Connection: upgrade\r\n", None),  # nothing to upgrade to
        (b"Connection: upgrade\r\nUpgrade:\r\n", None),
        (b"Connection: Upgrade, HTTP2-Settings\r\nUpgrade: H2C\r\n", b"h2c"),
    ],
)
def test_upgrade_field(kind: str, fields: bytes, upgrade: bytes | None) -> None:
    got = parse(kind, b"GET / HTTP/1.1\r\nHost: a\r\n" + fields + b"\r\n" + GET)
    assert isinstance(got[0], RequestHead) and got[0].upgrade == upgrade
    assert got[1:] == [EndOfMessage(), head(), EndOfMessage()]


@pytest.mark.parametrize(
    ("framing", "body"),
    [
        (b"Content-Length: 5\r\n", b"hello"),
        (b"Transfer-Encoding: chunked\r\n", b"5\r\nhello\r\n0\r\n\r\n"),
    ],
)
def test_upgrade_request_with_a_body(kind: str, framing: bytes, body: bytes) -> None:
    # An upgrade the server does not take is an ordinary request: its body is
    # read, then the next request.
    data = b"POST / HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n" + framing
    data += b"\r\n" + body + GET
    for pieces in ([data], [data[:70], data[70:]], [data[i : i + 1] for i in range(len(data))]):
        events = merged(parse(kind, *pieces))
        kinds = [RequestHead, Body, EndOfMessage, RequestHead, EndOfMessage]
        assert [type(ev) for ev in events] == kinds
        assert events[1] == Body(b"hello")
        assert isinstance(events[0], RequestHead) and events[0].upgrade == b"h2c"


def test_connect_then_next_request(kind: str) -> None:
    data = b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n" + GET
    events = parse(kind, data)
    assert events[0] == head("CONNECT", b"example.com:443", headers=[(b"host", b"example.com:443")])
    assert events[1:] == [EndOfMessage(), head(), EndOfMessage()]


# --- errors --------------------------------------------------------------------------


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
ERRORS: list[tuple[str, bytes, int]] = [
    # malformed request line
    ("no target", get(HOST, line=b"GET"), 400),
    ("lower-case method", get(HOST, line=b"get / HTTP/1.1"), 501),
    ("unknown method", get(HOST, line=b"FOO / HTTP/1.1"), 501),
    ("known method with a suffix", get(HOST, line=b"GETX / HTTP/1.1"), 501),
    ("over-long method", get(HOST, line=b"ABCDEFGHIJKLMNOP / HTTP/1.1"), 501),
    ("over-long method, no space yet", b"ABCDEFGHIJKLMNOP", 501),
    ("separator in method", get(HOST, line=b"G(T / HTTP/1.1"), 400),
    ("method then CR", b"FOO\r\n\r\n", 400),
    ("space before method", get(HOST, line=b" GET / HTTP/1.1"), 400),
    ("tab after method", get(HOST, line=b"GET\t/ HTTP/1.1"), 400),
    ("control char in target", get(HOST, line=b"GET /a\x01 HTTP/1.1"), 400),
    ("DEL in target", get(HOST, line=b"GET /a\x7f HTTP/1.1"), 400),
    ("high byte in target", get(HOST, line=b"GET /\xe9 HTTP/1.1"), 400),
    ("relative target", get(HOST, line=b"GET a/b HTTP/1.1"), 400),
    ("garbage after target", get(HOST, line=b"GET / x HTTP/1.1"), 400),
    ("lower-case protocol", get(HOST, line=b"GET / http/1.1"), 400),
    ("garbage version", get(HOST, line=b"GET / HTTP/x.y"), 400),
    ("two-digit minor", get(HOST, line=b"GET / HTTP/1.10"), 400),
    ("missing minor", get(HOST, line=b"GET / HTTP/1"), 400),
    ("space after version", get(HOST, line=b"GET / HTTP/1.1 "), 400),
    ("bare LF after request line", b"GET / HTTP/1.1\n" + H + b"\r\n", 400),
    ("TLS handshake", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400),
    ("PRI without preface", get(HOST, line=b"PRI * HTTP/1.1"), 400),
    # malformed header lines
    ("no colon", get(HOST, b"NoColon"), 400),
    ("space before colon", get(b"Host : a"), 400),
    ("empty name", get(HOST, b": v"), 400),
    ("separator in name", get(HOST, b"X(a): v"), 400),
    ("non-ASCII name", get(HOST, b"X-\xe9: v"), 400),
    ("bare LF header", b"GET / HTTP/1.1\r\nHost: a\n\r\n", 400),
    ("bare CR in value", get(b"Host: a\rb"), 400),
    ("NUL in value", get(HOST, b"X: a\x00b"), 400),
    ("SOH in value", get(HOST, b"X: a\x01b"), 400),
    ("VT in value", get(HOST, b"X: a\x0bb"), 400),
    ("US in value", get(HOST, b"X: a\x1fb"), 400),
    ("DEL in value", get(HOST, b"X: a\x7fb"), 400),
    ("obs-fold SP", get(HOST, b"X: a", b" b"), 400),
    ("obs-fold HTAB", get(HOST, b"X: a", b"\tb"), 400),
    ("space before first field", get(b" Host: a"), 400),
    # framing
    ("CL and TE", req(HOST, CL3, TE), 400),
    ("TE and CL", req(HOST, TE, CL3), 400),
    ("CL and bad TE", req(HOST, CL3, b"Transfer-Encoding: gzip"), 400),
    ("duplicate CL", req(HOST, CL3, CL3, body=b"abc"), 400),
    ("different CLs", req(HOST, CL3, b"Content-Length: 4", body=b"abc"), 400),
    ("CL list", req(HOST, b"Content-Length: 3, 3", body=b"abc"), 400),
    ("CL sign", req(HOST, b"Content-Length: +3", body=b"abc"), 400),
    ("CL negative", req(HOST, b"Content-Length: -3", body=b"abc"), 400),
    ("CL hex", req(HOST, b"Content-Length: 0x3", body=b"abc"), 400),
    ("CL inner space", req(HOST, b"Content-Length: 1 2", body=b"abc"), 400),
    ("CL empty", req(HOST, b"Content-Length:", body=b"abc"), 400),
    ("CL 2**63", req(HOST, b"Content-Length: 9223372036854775808"), 400),
    ("CL 2**64", req(HOST, b"Content-Length: 18446744073709551616"), 400),
    ("CL huge", req(HOST, b"Content-Length: " + b"9" * 40), 400),
    ("TE on HTTP/1.0", req(TE, line=b"POST / HTTP/1.0", body=b"0\r\n\r\n"), 400),
    (
        "CONNECT with body",
        req(b"Host: a:1", b"Content-Length: 2", line=b"CONNECT a:1 HTTP/1.1"),
        400,
    ),
    # Host
    ("no Host on 1.1", get(), 400),
    ("two Hosts", get(HOST, HOST), 400),
    ("two Hosts on 1.0", get(HOST, b"host: b", line=b"GET / HTTP/1.0"), 400),
    ("Host with a space", get(b"Host: a b"), 400),
    ("Host with userinfo", get(b"Host: user@a"), 400),
    ("Host with a path", get(b"Host: a/b"), 400),
    ("Host non-numeric port", get(b"Host: a:8x"), 400),
    ("Host two ports", get(b"Host: a:1:2"), 400),
    ("Host bad IPv6", get(b"Host: [::1"), 400),
    ("Host bad percent", get(b"Host: a%zz"), 400),
    ("Host on 1.0, invalid", get(b"Host: a b", line=b"GET / HTTP/1.0"), 400),
    ("CONNECT without port", get(HOST, line=b"CONNECT a HTTP/1.1"), 400),
    ("CONNECT with userinfo", get(HOST, line=b"CONNECT u@a:1 HTTP/1.1"), 400),
    ("CONNECT with a path", get(HOST, line=b"CONNECT a:1/x HTTP/1.1"), 400),
    ("CONNECT star", get(HOST, line=b"CONNECT * HTTP/1.1"), 400),
    ("CONNECT two ats", get(HOST, line=b"CONNECT @@ HTTP/1.1"), 400),
    # request target
    ("fragment", get(HOST, line=b"GET /a#b HTTP/1.1"), 400),
    ("fragment after query", get(HOST, line=b"GET /a?x=1#b HTTP/1.1"), 400),
    ("fragment in absolute-form", get(HOST, line=b"GET http://a/b#c HTTP/1.1"), 400),
    # transfer codings
    ("TE gzip", req(HOST, b"Transfer-Encoding: gzip"), 501),
    ("TE identity", req(HOST, b"Transfer-Encoding: identity"), 501),
    ("TE foo", req(HOST, b"Transfer-Encoding: foo"), 501),
    ("TE gzip, chunked", req(HOST, b"Transfer-Encoding: gzip, chunked", body=b"0\r\n\r\n"), 501),
    ("TE chunked, gzip", req(HOST, b"Transfer-Encoding: chunked, gzip"), 501),
    ("TE twice", req(HOST, TE, TE), 501),
    ("TE gzip then chunked", req(HOST, b"Transfer-Encoding: gzip", TE), 501),
    ("TE empty", req(HOST, b"Transfer-Encoding:"), 501),
    ("TE only commas", req(HOST, b"Transfer-Encoding: , ,"), 501),
    ("TE chunked, , gzip", req(HOST, b"Transfer-Encoding: chunked, , gzip"), 501),
    # versions
    ("HTTP/2.0", get(HOST, line=b"GET / HTTP/2.0"), 505),
    ("HTTP/3.0", get(HOST, line=b"GET / HTTP/3.0"), 505),
    ("HTTP/0.9 named", get(line=b"GET / HTTP/0.9"), 505),
    ("HTTP/0.9 simple request", get(line=b"GET /"), 505),
    ("HTTP/0.0", get(HOST, line=b"GET / HTTP/0.0"), 505),
    ("h2 preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505),
    # chunked framing
    ("chunk size not hex", chunked(b"x\r\n"), 400),
    ("chunk size sign", chunked(b"-5\r\nhello\r\n0\r\n\r\n"), 400),
    ("chunk size 0x", chunked(b"0x5\r\nhello\r\n0\r\n\r\n"), 400),
    ("chunk size empty", chunked(b"\r\nhello\r\n0\r\n\r\n"), 400),
    ("chunk size then garbage", chunked(b"5 x\r\nhello\r\n0\r\n\r\n"), 400),
    ("space before chunk size", chunked(b" 5\r\nhello\r\n0\r\n\r\n"), 400),
    ("chunk size overflow", chunked(b"10000000000000000\r\n"), 400),
    ("chunk ext space after ;", chunked(b"5; a=b\r\nhello\r\n0\r\n\r\n"), 400),
    ("chunk ext bad char", chunked(b"5;a=b/c\r\nhello\r\n0\r\n\r\n"), 400),
    ("chunk ext open quote", chunked(b'5;a="b\r\nhello\r\n0\r\n\r\n'), 400),
    ("no CRLF after data", chunked(b"5\r\nhelloX\r\n0\r\n\r\n"), 400),
    ("LF after data", chunked(b"5\r\nhello\n0\r\n\r\n"), 400),
    ("LF after size", chunked(b"5\nhello\r\n0\r\n\r\n"), 400),
    ("bad trailer", chunked(b"0\r\nT : x\r\n\r\n"), 400),
    ("folded trailer", chunked(b"0\r\nT: x\r\n y\r\n\r\n"), 400),
    ("bare LF ends trailers", chunked(b"0\r\n\n"), 400),
    ("CL trailer", chunked(b"0\r\nContent-Length: 3\r\n\r\n"), 400),
    ("TE trailer", chunked(b"0\r\nTransfer-Encoding: gzip\r\n\r\n"), 400),
    ("Connection trailer", chunked(b"0\r\nConnection: close\r\n\r\n"), 400),
    # several defects: the first in wire order wins, as llhttp reports it
    ("bad TE then folding", req(HOST, b"Transfer-Encoding: chunked, gzip", b"X: a", b" b"), 400),
    ("bad line then bad TE", req(HOST, b"Bad", b"Transfer-Encoding: chunked, gzip"), 400),
    ("bad TE then bad line", req(HOST, b"Transfer-Encoding: chunked, gzip", b"Bad"), 400),
    ("empty TE then bad line", req(HOST, b"Transfer-Encoding:", b"Bad"), 501),
    (
        "HTTP/2.0 and bad TE",
        req(HOST, b"Transfer-Encoding: a, chunked, b", line=b"POST / HTTP/2.0"),
        505,
    ),
    ("no Host and a fragment", get(line=b"GET /#a HTTP/1.1"), 400),
    ("HTTP/2.0 and bad line", get(HOST, b"Bad", line=b"GET / HTTP/2.0"), 400),
    ("HTTP/2.0 and no Host", get(line=b"GET / HTTP/2.0"), 505),
    ("HTTP/1.2 and bad line", get(b"Bad", line=b"GET / HTTP/1.2"), 400),
    ("HTTP/3.0 and bad line", get(b"Bad", line=b"GET / HTTP/3.0"), 400),
    ("no Host and TE gzip", req(b"Transfer-Encoding: gzip"), 400),
    ("TE gzip then CL", req(HOST, b"Transfer-Encoding: gzip", b"Content-Length: 1"), 400),
    ("TE 1.0 and gzip", req(b"Transfer-Encoding: gzip", line=b"POST / HTTP/1.0"), 400),
]


@pytest.mark.parametrize(("data", "status"), [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_malformed_requests(kind: str, data: bytes, status: int) -> None:
    assert error_of(kind, data).status == status
    # The same status however the bytes are cut (a valid request first).
    pieces = [GET + data[:7], data[7:11], data[11:]]
    assert error_of(kind, *pieces).status == status


@pytest.mark.parametrize(
    ("data", "status"), [e[1:] for e in ERRORS[::3]], ids=[e[0] for e in ERRORS[::3]]
)
def test_malformed_requests_byte_by_byte(kind: str, data: bytes, status: int) -> None:
    assert error_of(kind, *(data[i : i + 1] for i in range(len(data)))).status == status


def test_reasons_name_the_problem(kind: str) -> None:
    cl_te = b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
    assert error_of(kind, cl_te).reason == "both Content-Length and Transfer-Encoding present"
    assert error_of(kind, b"GET / HTTP/1.1\r\n\r\n").reason == "missing Host header"
    assert error_of(kind, b"GET / HTTP/3.0\r\nHost: a\r\n\r\n").reason == "HTTP/3.0 not supported"
    te = b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n"
    assert error_of(kind, te).reason == "unsupported Transfer-Encoding"
    dup = b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n"
    assert error_of(kind, dup).reason == "duplicate Content-Length"


def test_errors_are_sticky(kind: str) -> None:
    parser = make_parser(kind, ParserLimits())
    with pytest.raises(ParseError) as first:
        parser.feed(b"GET / HTTP/1.1\r\n\r\n")
    with pytest.raises(ParseError) as again:
        parser.feed(GET)
    assert again.value is first.value
    with pytest.raises(ParseError):
        parser.feed_eof()


# --- limits --------------------------------------------------------------------------


def request_line_of(length: int) -> bytes:
    """A GET request line (without CRLF) exactly ``length`` bytes long."""
    return b"GET /" + b"a" * (length - 14) + b" HTTP/1.1"


def test_request_line_limit_boundary(kind: str) -> None:
    ok = request_line_of(SMALL.max_request_line) + b"\r\nHost: a\r\n\r\n"
    assert len(parse(kind, ok, limits=SMALL)) == 2
    too_long = request_line_of(SMALL.max_request_line + 1) + b"\r\nHost: a\r\n\r\n"
    assert error_of(kind, too_long, limits=SMALL).status == 414


def test_request_line_limit_while_bytes_arrive(kind: str) -> None:
    parser = make_parser(kind, SMALL)
    parser.feed(b"GET /")
    fed = 5
    with pytest.raises(ParseError) as info:
        while fed < 10 * SMALL.max_request_line:
            parser.feed(b"a" * 10)
            fed += 10
    assert info.value.status == 414
    assert fed <= SMALL.max_request_line + 20


def test_default_limits() -> None:
    assert ParserLimits() == ParserLimits(8190, 65536, 100)


def test_default_request_line_limit(kind: str) -> None:
    assert len(parse(kind, request_line_of(8190) + b"\r\nHost: a\r\n\r\n")) == 2
    assert error_of(kind, request_line_of(8191) + b"\r\nHost: a\r\n\r\n").status == 414


def fields_of(size: int) -> bytes:
    """Header fields (with their CRLFs) that are exactly ``size`` bytes."""
    return b"Host: a\r\nX: " + b"v" * (size - 9 - 5) + b"\r\n"


def test_header_section_limit_boundary(kind: str) -> None:
    ok = b"GET / HTTP/1.1\r\n" + fields_of(SMALL.max_header_size) + b"\r\n"
    assert len(parse(kind, ok, limits=SMALL)) == 2
    too_big = b"GET / HTTP/1.1\r\n" + fields_of(SMALL.max_header_size + 1) + b"\r\n"
    assert error_of(kind, too_big, limits=SMALL).status == 431


def test_header_count_limit_boundary(kind: str) -> None:
    fields = b"Host: a\r\n" + b"".join(b"X-%d: v\r\n" % i for i in range(SMALL.max_headers - 1))
    assert len(parse(kind, b"GET / HTTP/1.1\r\n" + fields + b"\r\n", limits=SMALL)) == 2
    fields += b"One-More: v\r\n"
    assert error_of(kind, b"GET / HTTP/1.1\r\n" + fields + b"\r\n", limits=SMALL).status == 431


def test_default_header_limits(kind: str) -> None:
    many = b"".join(b"X-%d: v\r\n" % i for i in range(99))
    assert len(parse(kind, b"GET / HTTP/1.1\r\nHost: a\r\n" + many + b"\r\n")) == 2
    assert error_of(kind, b"GET / HTTP/1.1\r\nHost: a\r\nY: v\r\n" + many + b"\r\n").status == 431
    assert len(parse(kind, b"GET / HTTP/1.1\r\n" + fields_of(65536) + b"\r\n")) == 2
    assert error_of(kind, b"GET / HTTP/1.1\r\n" + fields_of(65537) + b"\r\n").status == 431


def test_header_count_limit_before_the_head_ends(kind: str) -> None:
    parser = make_parser(kind, SMALL)
    parser.feed(b"GET / HTTP/1.1\r\nHost: a\r\n")
    with pytest.raises(ParseError) as info:
        for i in range(SMALL.max_headers + 2):
            parser.feed(b"X-%d: v\r\n" % i)
    assert info.value.status == 431


def test_header_size_limit_before_the_head_ends(kind: str) -> None:
    # One endless field value: refused after about the limits, never buffered.
    parser = make_parser(kind, SMALL)
    parser.feed(b"GET / HTTP/1.1\r\nHost: a\r\nX: ")
    fed = 0
    with pytest.raises(ParseError) as info:
        while fed < 100 * SMALL.max_header_size:
            parser.feed(b"v" * 10)
            fed += 10
    assert info.value.status == 431
    assert fed <= SMALL.max_request_line + SMALL.max_header_size + 20


def test_trailer_section_limit(kind: str) -> None:
    data = b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n"
    trailer = b"T: " + b"x" * (SMALL.max_header_size - 5) + b"\r\n"
    assert len(parse(kind, data + trailer + b"\r\n", limits=SMALL)) == 2
    trailer = b"T: " + b"x" * (SMALL.max_header_size - 4) + b"\r\n"
    assert error_of(kind, data + trailer + b"\r\n", limits=SMALL).status == 431


# --- end of input --------------------------------------------------------------------


def test_eof_between_requests(kind: str) -> None:
    assert parse(kind) == []
    assert parse(kind, GET) == [head(), EndOfMessage()]
    assert parse(kind, GET + b"\r\n") == [head(), EndOfMessage()]


@pytest.mark.parametrize(
    "cut",
    [
        b"G",
        b"GET / HTTP/1.1",
        b"GET / HTTP/1.1\r\nHost: a\r\n",
        POST[:-1],
        CHUNKED[:-2],
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello",
    ],
)
def test_eof_inside_a_request(kind: str, cut: bytes) -> None:
    parser = make_parser(kind, ParserLimits())
    parser.feed(GET + cut)
    with pytest.raises(ParseError) as info:
        parser.feed_eof()
    assert (info.value.status, info.value.reason) == (400, "incomplete request")


# --- both backends, random requests and random cuts ----------------------------------


@dataclass
class Generated:
    data: bytes
    events: list[ParserEvent]


token = st.text(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.!~*'", min_size=1, max_size=12
)
value = st.text('abcdefghijklmnopqrstuvwxyz0123456789 \t,;=/"()<>@:?[]{}+-.', max_size=20).map(
    lambda s: s.strip(" \t")
)
path = st.text("abcdefghijklmnopqrstuvwxyz0123456789/-._~%!$&'()*+,;=:@?", max_size=30)


SPECIAL_FIELDS = {"content-length", "transfer-encoding", "host", "connection", "upgrade", "expect"}


@st.composite
def requests(draw: st.DrawFn) -> Generated:
    method = draw(st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]))
    target = b"/" + draw(path).encode()
    version = draw(st.sampled_from(["1.0", "1.1"]))
    names = [n for n in draw(st.lists(token, max_size=6)) if n.lower() not in SPECIAL_FIELDS]
    fields = [(n.encode(), draw(value).encode()) for n in names]
    fields.insert(draw(st.integers(0, len(fields))), (b"Host", b"example.com"))
    if version == "1.0":
        fields.append((b"Connection", b"keep-alive"))
    body = draw(st.binary(max_size=40))
    mode = draw(
        st.sampled_from(["none", "length", "chunked"] if version == "1.1" else ["none", "length"])
    )
    if mode == "none":
        body = b""
    encoded = body
    if mode == "length":
        fields.append((b"Content-Length", str(len(body)).encode()))
    elif mode == "chunked":
        fields.append((b"Transfer-Encoding", b"chunked"))
        cuts = sorted(draw(st.lists(st.integers(0, len(body)), max_size=4)))
        pieces = [body[a:b] for a, b in zip([0, *cuts], [*cuts, len(body)], strict=True)]
        exts = st.sampled_from([b"", b";a=b", b';x="y z"'])
        encoded = b"".join(b"%x%s\r\n%s\r\n" % (len(p), draw(exts), p) for p in pieces if p)
        encoded += b"0\r\n" + draw(st.sampled_from([b"", b"T: v\r\n"])) + b"\r\n"
    data = b"%s %s HTTP/%s\r\n" % (method.encode(), target, version.encode())
    data += b"".join(b"%s: %s\r\n" % f for f in fields) + b"\r\n" + encoded
    expected: list[ParserEvent] = [
        RequestHead(
            method,
            target,
            version,
            [(n.lower(), v) for n, v in fields],
            True,
            mode == "chunked",
            len(body) if mode == "length" else None,
            False,
            None,
        )
    ]
    if body:
        expected.append(Body(body))
    expected.append(EndOfMessage())
    return Generated(data, expected)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(requests(), min_size=1, max_size=5),
    st.lists(st.integers(0, 2000), max_size=8),
    st.sampled_from(KINDS),
)
def test_random_requests_random_cuts(reqs: list[Generated], cuts: list[int], kind: str) -> None:
    data = b"".join(r.data for r in reqs)
    expected = [ev for r in reqs for ev in r.events]
    points = sorted({c % (len(data) + 1) for c in cuts})
    pieces = [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]
    assert merged(parse(kind, *pieces)) == expected


def mutations(seed: int, count: int) -> list[bytes]:
    corpus = [
        GET,
        POST,
        CHUNKED,
        GET + POST,
        b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" + GET,
    ]
    pieces = [
        *(b" ", b"\t", b"\r", b"\n", b"\r\n", b":", b",", b";", b"\x00", b"\x7f", b"\xff"),
        *(b"0", b"a", b"/", b"*", b"HTTP/2.0", b"Host: x\r\n"),
        *(b"Content-Length: 3\r\n", b"Transfer-Encoding: chunked\r\n"),
    ]
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        data = bytearray(rng.choice(corpus))
        for _ in range(rng.randint(1, 3)):
            i = rng.randint(0, len(data))
            op = rng.random()
            if op < 0.4:
                data[i:i] = rng.choice(pieces)
            elif op < 0.7:
                del data[i : i + rng.randint(1, 3)]
            else:
                data[i : i + 1] = rng.choice(pieces)
        out.append(bytes(data))
    return out


def outcome(kind: str, data: bytes) -> object:
    try:
        return merged(parse(kind, data))
    except ParseError as exc:
        return exc.status


def test_backends_agree_on_mutated_requests() -> None:
    for data in mutations(seed=20240501, count=3000):
        assert outcome("h11", data) == outcome("httptools", data), data


def test_make_parser_kinds() -> None:
    assert isinstance(make_parser("h11", ParserLimits()), H11Parser)
    assert isinstance(make_parser("httptools", ParserLimits()), HttptoolsParser)
    assert isinstance(make_parser("auto", ParserLimits()), HttptoolsParser)
    with pytest.raises(ValueError, match="h11, httptools or auto"):
        make_parser("nope", ParserLimits())


# --- known differences, pinned so a change is noticed --------------------------------


def test_known_difference_long_chunk_extension() -> None:
    # The h11 backend needs a chunk line whole, so it bounds its length (by
    # max_header_size); llhttp streams chunk extensions without keeping them.
    data = b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
    data += b"1;a=" + b"x" * 300 + b"\r\nz\r\n0\r\n\r\n"
    assert error_of("h11", data, limits=SMALL).status == 431
    assert merged(parse("httptools", data, limits=SMALL))[1] == Body(b"z")


# --- RFC 9110/9112 grammar both backends follow (issue 18) ----------------------------

TE_LISTS = [
    *(b", chunked", b"chunked\t", b"chunked \t ", b"\tchunked"),
    *(b",,chunked", b"Chunked", b"chunked,"),
]


@pytest.mark.parametrize("value", TE_LISTS)
def test_transfer_encoding_list_forms_are_chunked(kind: str, value: bytes) -> None:
    data = req(HOST, b"Transfer-Encoding: " + value, body=b"3\r\nabc\r\n0\r\n\r\n") + GET
    events = merged(parse(kind, data))
    assert isinstance(events[0], RequestHead) and events[0].chunked
    assert events[1:] == [Body(b"abc"), EndOfMessage(), head(), EndOfMessage()]
    # however the bytes are cut
    assert merged(parse(kind, *(data[i : i + 1] for i in range(len(data))))) == events


def test_transfer_encoding_list_over_two_fields(kind: str) -> None:
    data = req(HOST, b"Transfer-Encoding: ,", b"Transfer-Encoding: chunked", body=b"0\r\n\r\n")
    assert merged(parse(kind, data))[1:] == [EndOfMessage()]


@pytest.mark.parametrize(
    "line",
    [b"3 ;a=b", b"3\t;a=b", b"3  \t;a", b"3 ", b"3\t", b"0" * 30 + b"3", b"0" * 30 + b"3 ;x"],
)
def test_whitespace_after_chunk_size(kind: str, line: bytes) -> None:
    data = chunked(line + b"\r\nabc\r\n0 \r\n\r\n") + GET
    assert merged(parse(kind, data))[1:] == [Body(b"abc"), EndOfMessage(), head(), EndOfMessage()]


@pytest.mark.parametrize("minor", [b"2", b"9"])
def test_higher_minor_version_is_served_as_http11(kind: str, minor: bytes) -> None:
    data = get(HOST, line=b"GET / HTTP/1." + minor)
    assert parse(kind, data) == [head(headers=[(b"host", b"a")]), EndOfMessage()]


@pytest.mark.parametrize(
    "value",
    [
        *(b"", b"a", b"a:80", b"a:", b"[::1]", b"[::1]:80", b"[v1.x]"),
        *(b"127.0.0.1:1", b"a%41b", b"x-y.z_~!$&'()*+;="),
    ],
)
def test_valid_host_values(kind: str, value: bytes) -> None:
    data = get(b"Host: " + value)
    assert parse(kind, data) == [head(headers=[(b"host", value)]), EndOfMessage()]


def test_method_names_are_case_sensitive_tokens(kind: str) -> None:
    # A token the server does not implement waits for its space, then is 501.
    parser = make_parser(kind, ParserLimits())
    assert parser.feed(b"ge") == []
    assert parser.feed(b"t") == []
    with pytest.raises(ParseError) as info:
        parser.feed(b" / HTTP/1.1\r\n")
    assert info.value.status == 501


def test_unknown_method_behind_pipelined_requests(kind: str) -> None:
    data = GET + POST + CHUNKED
    parser = make_parser(kind, ParserLimits())
    events = parser.feed(data + b"BREW")  # RFC 2324's method
    assert sum(isinstance(e, EndOfMessage) for e in events) == 3
    with pytest.raises(ParseError) as info:
        parser.feed(b" / HTTP/1.1\r\nHost: a\r\n\r\n")
    assert info.value.status == 501


def test_no_fragment_reaches_the_app(kind: str) -> None:
    assert error_of(kind, get(HOST, line=b"GET /p?q#frag HTTP/1.1")).reason == (
        "fragment in request target"
    )


def test_known_difference_unknown_method_behind_a_split_request() -> None:
    # llhttp does not say where it refused a method; the httptools backend
    # finds the request again from the last read that began at a request
    # boundary. When the request before it arrived across reads (and past
    # its method in the earlier one), that start is lost and the verdict on
    # the unknown method is 400 instead of 501.
    pieces = [b"GET / HTTP/1.1\r\nHo", b"st: a\r\n\r\nFOO / HTTP/1.1\r\n\r\n"]
    assert error_of("h11", *pieces).status == 501
    assert error_of("httptools", *pieces).status == 400
    assert error_of("httptools", b"".join(pieces)).status == 501
