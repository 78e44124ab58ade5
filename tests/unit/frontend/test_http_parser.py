"""The HTTP/1.1 request parsers on well-formed requests and at the end of input.

Every test runs on both backends. Inputs are raw bytes; the expectations are
the events and error statuses the interface (``pagi.frontend.http1.parser``)
promises, identical for ``h11`` and ``httptools``. Malformed requests and the
limits: test_http_parser_errors.py; random input and the grammar both follow:
test_http_parser_agreement.py; shared helpers: parser_cases.py.
"""

from __future__ import annotations

import parser_cases
import pytest
from pagi.frontend.http1.parser import (
    Body,
    EndOfMessage,
    ParseError,
    ParserLimits,
    RequestHead,
    make_parser,
)
from pagi.frontend.websocket.handshake import is_websocket_upgrade
from parser_cases import (
    CHUNKED,
    CHUNKED_HEAD,
    GET,
    POST,
    POST_HEAD,
    head,
    merged,
    parse,
)

kind = parser_cases.kind  # both backends, for every test that takes ``kind``


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
