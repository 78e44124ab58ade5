"""The two HTTP/1.1 parser backends agree: random requests cut at random, mutated
requests, the RFC 9110/9112 grammar both follow, and the known differences,
pinned so a change is noticed (helpers: parser_cases.py).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import parser_cases
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
from parser_cases import (
    CHUNKED,
    GET,
    HOST,
    KINDS,
    POST,
    SMALL,
    chunked,
    error_of,
    get,
    head,
    merged,
    parse,
    req,
)

kind = parser_cases.kind  # both backends, for every test that takes ``kind``


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
