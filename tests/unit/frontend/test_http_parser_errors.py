"""The HTTP/1.1 request parsers on malformed requests and at their limits.

Every test runs on both backends and expects the same status and reason
from each (helpers: parser_cases.py).
"""

from __future__ import annotations

import parser_cases
import pytest
from pagi.frontend.http1.parser import (
    ParseError,
    ParserLimits,
    make_parser,
)
from parser_cases import (
    CL3,
    GET,
    HOST,
    SMALL,
    TE,
    H,
    chunked,
    error_of,
    get,
    parse,
    req,
)

kind = parser_cases.kind  # both backends, for every test that takes ``kind``


# --- errors --------------------------------------------------------------------------


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
